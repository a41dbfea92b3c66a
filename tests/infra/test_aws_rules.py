"""Every example stack and variant against AWS's own rules (tests/infra/aws_rules.py), offline; each rule shown to
bite on the mistake it exists for; and the IAM, SQS, S3 and Lambda resources replayed against moto."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from testing.pulumi_mocks import Registered, StackRun
from tests.infra.aws_rules import violations
from tests.infra.moto_replay import replay
from tests.infra.variants import VARIANTS_BY_NAME


def test_every_variant_keeps_aws_rules(variant_run: StackRun) -> None:
    """No resource of any example stack or variant breaks a rule AWS enforces at `pulumi up`."""
    found = violations(variant_run.resources)
    assert not found, f"{variant_run.variant}:\n" + "\n".join(map(str, found))


def test_every_variant_is_accepted_by_moto(variant_run: StackRun) -> None:
    """Roles, policies, queues, buckets and functions created in moto's in-process AWS, as the stack would."""
    assert replay(variant_run.resources) == []


@pytest.fixture(scope="module")
def everything(model_dirs: list[Path]) -> StackRun:
    return VARIANTS_BY_NAME["everything"].run(model_dirs)


def _with(run: StackRun, type_token: str, name: str, change: Callable[[dict[str, Any]], None]) -> list[Registered]:
    """The run's resources with one resource's inputs changed (a copy: the session's run stays as it was)."""
    resources = copy.deepcopy(run.resources)
    target = next(item for item in resources if item.type == type_token and item.name == name)
    change(target.inputs)
    return resources


def _repeat_first_statement(inputs: dict[str, Any]) -> None:
    document = json.loads(inputs["policy"])
    document["Statement"].append(dict(document["Statement"][-1]))  # the publisher's old policy, one model more
    inputs["policy"] = json.dumps(document)


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(inputs: dict[str, Any]) -> None:
        inputs[key] = value

    return change


SEEDED = [
    # (type, resource name, the mistake, the rule that must name it)
    ("aws:iam/rolePolicy:RolePolicy", "model-publisher", _repeat_first_statement, "iam-identity-policy"),
    (
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "ui-to-idp",
        _set("description", "The load balancer's sign-in: HTTPS to Cognito's token endpoint"),
        "security-group-text",
    ),
    (
        "aws:cognito/userPoolDomain:UserPoolDomain",
        "ui-login",
        _set("domain", "efs-inference-team_dev-3f6a30cd"),
        "cognito-domain-prefix",
    ),
    ("aws:iam/role:Role", "api", _set("name", "r" * 65), "iam-names"),
    ("aws:lambda/function:Function", "jobs-worker", _set("reservedConcurrentExecutions", 4), "lambda-function"),
    (
        "aws:lambda/function:Function",
        "model-publisher",
        _set("name", "efs-inference-" + "x" * 40 + "-model-publisher"),
        "lambda-function",
    ),
    ("aws:lambda/function:Function", "api", _set("timeout", 901), "lambda-function"),
    # Reported on the event source mapping, which ties the queue to the function.
    ("aws:sqs/queue:Queue", "jobs", _set("visibilityTimeoutSeconds", 60), "lambda-event-source-mapping"),
    ("aws:sqs/queue:Queue", "jobs", _set("visibilityTimeoutSeconds", 50_000), "sqs-queue"),
    ("aws:cloudwatch/logGroup:LogGroup", "api", _set("retentionInDays", 2), "log-group"),
    ("aws:apigatewayv2/route:Route", "http-options-proxy", _set("routeKey", "OPTIONS /{proxy+}/x"), "apigateway-route"),
    ("aws:cloudwatch/eventRule:EventRule", "retention", _set("name", "r" * 65), "eventbridge-rule"),
    (
        "aws:ec2/securityGroup:SecurityGroup",
        "data",
        _set("description", "NFS from the functions' group"),
        "security-group-text",
    ),
    (
        "aws:efs/fileSystemPolicy:FileSystemPolicy",
        "data",
        _set("policy", '{"Version": "2012-10-17"}'),
        "resource-policy",
    ),
]


@pytest.mark.parametrize(
    ("type_token", "name", "mistake", "rule"), SEEDED, ids=[seed[-1] + "-" + seed[1] for seed in SEEDED]
)
def test_each_rule_names_the_resource_and_itself_on_its_mistake(
    everything: StackRun, type_token: str, name: str, mistake: Callable[[dict[str, Any]], None], rule: str
) -> None:
    """A known mistake seeded into one resource fails the check with the resource's URN and the rule's name."""
    resources = _with(everything, type_token, name, mistake)
    if rule == "lambda-event-source-mapping":
        type_token = "aws:lambda/eventSourceMapping:EventSourceMapping"
    urn = next(item.urn for item in resources if item.type == type_token and item.name == name)
    found = [str(violation) for violation in violations(resources)]
    assert any(line.startswith(f"{urn}: {rule}: ") for line in found), found


def test_a_resource_type_no_rule_covers_fails(everything: StackRun) -> None:
    """A new kind of resource is looked at before it ships: a type no rule knows is a violation naming it."""
    resources = copy.deepcopy(everything.resources)
    resources[0].type = "aws:kinesis/stream:Stream"
    assert [violation.rule for violation in violations(resources)] == ["unknown-type"]


def test_moto_refuses_the_repeated_statement_id(everything: StackRun) -> None:
    """The replay bites too: moto's IAM refuses the publisher's old policy, naming the resource."""
    resources = _with(everything, "aws:iam/rolePolicy:RolePolicy", "model-publisher", _repeat_first_statement)
    [problem] = replay(resources)
    assert "model-publisher" in problem and "Statement IDs (SID) in a single policy must be unique" in problem
