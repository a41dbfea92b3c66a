"""The Streamlit service under mocks: the UI image against the API, rolled back when unhealthy, placed where it has
egress, with a task role that may invoke this API only; and the args' checks."""

from __future__ import annotations

import json
import re

import pytest

from infra.ui.api_routes import invoke_arn, routes_called
from infra.ui.streamlit_service import StreamlitServiceArgs, validate_streamlit_service_args
from testing.pulumi_mocks import (
    ACCOUNT,
    REGION,
    StackRun,
)
from tests.infra.registered import (
    LOG_GROUP,
    ROLE_POLICY,
    api_arn,
    document,
    resource_id,
)
from tests.infra.variants import EXISTING_PRIVATE


def test_ui_service_runs_the_ui_image_against_the_api_and_rolls_back_bad_deploys(prod_run: StackRun) -> None:
    """Fargate: configured size, API_URL, rollback on failed deploys, the ALB's target group, private subnets (NAT)."""
    service = prod_run.one("awsx:ecs:FargateService", "ui")
    api = prod_run.one("aws:apigatewayv2/api:Api", "http")
    assert service.inputs["desiredCount"] == 2
    assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    task = service.inputs["taskDefinitionArgs"]
    assert (task["cpu"], task["memory"]) == ("512", "1024")
    container = task["containers"]["ui"]
    assert container["environment"] == [
        {"name": "API_URL", "value": f"https://{resource_id(api)}.execute-api.eu-central-1.amazonaws.com"},
        {"name": "API_AUTH", "value": "iam"},
        {"name": "API_REGION", "value": "eu-central-1"},
    ]
    assert re.fullmatch(r".*/ui@sha256:[0-9a-f]{64}", container["image"])
    assert container["portMappings"] == [{"containerPort": 8501}]
    [load_balancer] = service.inputs["loadBalancers"]
    assert load_balancer["targetGroupArn"].endswith("targetgroup/ui") and load_balancer["containerName"] == "ui"
    assert service.inputs["networkConfiguration"]["subnets"] == [
        "subnet-private0",
        "subnet-private1",
        "subnet-private2",
    ]
    assert service.inputs["networkConfiguration"]["assignPublicIp"] is False
    log_group = prod_run.one(LOG_GROUP, "ui")
    assert task["logGroup"] == {"existing": {"name": log_group.inputs["name"]}}


def test_ui_task_role_may_invoke_this_api_and_nothing_else(prod_run: StackRun) -> None:
    """The UI tasks run as their own role, assumable by ECS tasks only, whose one statement invokes the routes of
    this API that the UI's clients call, and no other."""
    role = prod_run.one("aws:iam/role:Role", "ui-task")
    assume = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert assume == [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    [statement] = document(prod_run.one(ROLE_POLICY, "ui-task"))["Statement"]
    assert statement == {
        "Sid": "InvokeTheseRoutes",
        "Effect": "Allow",
        "Action": ["execute-api:Invoke"],
        "Resource": [invoke_arn(api_arn(prod_run), route) for route in routes_called()],
    }
    service = prod_run.one("awsx:ecs:FargateService", "ui")
    assert service.inputs["taskDefinitionArgs"]["taskRole"] == {
        "roleArn": f"arn:aws:mock:{REGION}:{ACCOUNT}:aws:iam/role:Role/ui-task"
    }
    assert prod_run.one(ROLE_POLICY, "ui-task").urn in service.dependencies, "the first task must be able to sign"


def test_fix_5_ui_runs_where_it_has_egress(prod_run: StackRun, existing_nat_run: StackRun) -> None:
    """Fix 5: private subnets when they have a NAT (a new VPC's, or an existing one saying so), else public with
    public IPs (test_variants covers both no-NAT layouts)."""
    for run, subnets in (
        (prod_run, ["subnet-private0", "subnet-private1", "subnet-private2"]),
        (existing_nat_run, EXISTING_PRIVATE),
    ):
        network = run.one("awsx:ecs:FargateService", "ui").inputs["networkConfiguration"]
        assert (network["subnets"], network["assignPublicIp"]) == (subnets, False)


def test_ui_without_nat_runs_in_public_subnets_with_public_ips(https_ui_run: StackRun) -> None:
    """Without NAT the tasks take public IPs in the public subnets (to pull the image and reach the API)."""
    network = https_ui_run.one("awsx:ecs:FargateService", "ui").inputs["networkConfiguration"]
    assert network["subnets"] == ["subnet-public0", "subnet-public1"]
    assert network["assignPublicIp"] is True


def test_streamlit_service_needs_a_fargate_size() -> None:
    """StreamlitServiceArgs: cpu and memory must form a Fargate size; at least one task."""

    def service_args(memory_mb: int = 512, desired_count: int = 1) -> StreamlitServiceArgs:
        return StreamlitServiceArgs(
            image_uri="i",
            api_url="u",
            api_execution_arn="arn",
            region="eu-central-1",
            vpc_id="v",
            subnet_ids=["s"],
            target_group_arn="tg",
            target_security_group_id="sg",
            log_group_name="/ecs/ui",
            memory_mb=memory_mb,
            desired_count=desired_count,
            api_routes=routes_called(),
        )

    validate_streamlit_service_args(service_args())
    with pytest.raises(ValueError, match="cpu=256 with memory_mb=4096"):
        validate_streamlit_service_args(service_args(memory_mb=4096))
    with pytest.raises(ValueError, match="desired_count must be at least 1"):
        validate_streamlit_service_args(service_args(desired_count=0))
