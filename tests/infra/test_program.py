"""The whole program under mocks: what holds for every resource of the example stacks, the warnings, the outputs."""

from __future__ import annotations

import json

import pytest

from testing.pulumi_mocks import (
    PROJECT,
    StackRun,
)
from tests.infra.registered import LOG_GROUP, ROUTE, resource_id, setting


def test_every_aws_resource_goes_through_the_tagged_provider(any_run: StackRun) -> None:
    """One explicit aws provider tags with project and stack; every aws resource and awsx component uses it."""
    provider = any_run.one("pulumi:providers:aws", "aws")
    assert json.loads(provider.inputs["defaultTags"]) == {"tags": {"project": PROJECT, "stack": any_run.stack}}
    reference = f"{provider.urn}::{resource_id(provider)}"
    for item in any_run.resources:
        if item.type.startswith("aws:"):
            assert item.provider == reference, f"{item.urn} does not use the tagged provider"
        if item.type.startswith("awsx:"):
            assert item.providers.get("aws") == reference, f"{item.urn} does not pass the tagged provider on"


def test_example_stacks_cover_both_architectures(dev_run: StackRun, prod_run: StackRun) -> None:
    """dev builds linux/amd64 for x86_64, prod linux/arm64 for arm64 (the UI image too)."""
    assert {image.inputs["platform"] for image in dev_run.of_type("awsx:ecr:Image")} == {"linux/amd64"}
    assert {image.inputs["platform"] for image in prod_run.of_type("awsx:ecr:Image")} == {"linux/arm64"}
    task = prod_run.one("awsx:ecs:FargateService").inputs["taskDefinitionArgs"]
    assert task["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}


def test_every_log_group_has_the_configured_retention(any_run: StackRun) -> None:
    """Function, publisher, access-log and UI log groups all expire, after logRetentionDays."""
    retention = int(setting(any_run, "logRetentionDays", "14"))
    log_groups = any_run.of_type(LOG_GROUP)
    assert len(log_groups) == (4 if any_run.stack == "prod" else 3)
    for log_group in log_groups:
        assert log_group.inputs.get("retentionInDays") == retention, f"{log_group.urn} keeps logs forever"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_outputs(stack: str, request: pytest.FixtureRequest) -> None:
    """The API URL, function name, log groups, EFS id, repository URLs and dashboard URL are exported, and what
    `efs-models publish --stack` reads (the model bucket, the publisher function, the region); the UI's only with the
    UI, the alarms' topic only with alarms."""
    run: StackRun = request.getfixturevalue(f"{stack}_run")
    expected = {
        "api_url",
        "function_name",
        "function_log_group",
        "publisher_log_group",
        "api_access_log_group",
        "efs_id",
        "model_bucket",
        "model_publisher_function",
        "region",
        "inference_repository_url",
        "api_auth",
        "api_caller_policy",
        "api_caller_policy_arn",
        "dashboard_url",
    }
    if stack == "prod":
        expected |= {"ui_url", "ui_load_balancer_dns_name", "ui_log_group", "ui_cluster_arn", "ui_repository_url"}
        expected |= {"alarm_topic_arn"}  # alarms are on in the prod example
    assert set(run.outputs) == expected
    assert run.outputs["function_name"] == f"{PROJECT}-{stack}-api"
    assert run.outputs["api_url"].startswith("https://")


def test_auth_off_and_a_public_ui_are_allowed_but_warned(open_run: tuple[StackRun, list[str]]) -> None:
    """apiAuth none leaves routes open and says what that exposes; uiPublicAccess is warned too; the UI then
    calls the API unsigned."""
    run, warnings = open_run
    for route in run.of_type(ROUTE):
        assert route.inputs["authorizationType"] == "NONE", route.urn
    assert any(warning.startswith("apiAuth is none: anyone who finds the API's URL") for warning in warnings), warnings
    assert any(warning.startswith("uiPublicAccess is true") for warning in warnings), warnings
    environment = run.one("awsx:ecs:FargateService", "ui").inputs["taskDefinitionArgs"]["containers"]["ui"][
        "environment"
    ]
    assert {"name": "API_AUTH", "value": "none"} in environment
