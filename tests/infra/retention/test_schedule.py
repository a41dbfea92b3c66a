"""messageRetentionDays: a daily EventBridge rule invokes the image's retention handler in its own function,
which only that rule may invoke and whose role reaches only its log group and this file system; without the
setting none of it exists."""

from __future__ import annotations

import json
from typing import Any

import pytest

from inference.settings import Settings
from infra.retention.schedule import RETENTION_HANDLER, RetentionScheduleArgs, validate_retention_schedule_args
from testing.pulumi_mocks import StackRun, run_program
from tests.infra.conftest import StackConfigFactory

FUNCTION = "aws:lambda/function:Function"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
PERMISSION = "aws:lambda/permission:Permission"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


@pytest.fixture(scope="module")
def retention_run(stack_config: StackConfigFactory) -> StackRun:
    return run_program(stack_config("dev", messageRetentionDays="30"), "dev")


def _statements(policy: Any) -> dict[str, Any]:
    return {statement["Sid"]: statement for statement in json.loads(policy.inputs["policy"])["Statement"]}


def test_a_daily_rule_invokes_the_retention_function(retention_run: StackRun) -> None:
    """One rule, rate(1 day), whose only target is the retention function."""
    rule = retention_run.one(RULE, "retention")
    target = retention_run.one(TARGET, "retention")
    function = retention_run.one(FUNCTION, "retention")
    assert rule.inputs["scheduleExpression"] == "rate(1 day)", rule.urn
    assert target.inputs["rule"] == rule.inputs["name"] == function.inputs["name"], target.urn
    assert target.inputs["arn"].endswith(f"function:{function.inputs['name']}"), target.urn
    assert any(urn.endswith("::retention") and PERMISSION in urn for urn in target.dependencies), target.urn


def test_only_the_rule_may_invoke_the_function(retention_run: StackRun) -> None:
    """The invoke permission is for EventBridge, scoped to this rule's ARN."""
    permission = retention_run.one(PERMISSION, "retention")
    assert permission.inputs["action"] == "lambda:InvokeFunction"
    assert permission.inputs["principal"] == "events.amazonaws.com"
    assert "eventRule" in permission.inputs["sourceArn"], permission.urn  # the mocks' ARN for the rule
    assert permission.inputs["sourceArn"].endswith("/retention"), permission.urn
    assert permission.inputs["function"] == retention_run.one(FUNCTION, "retention").inputs["name"]


def test_the_function_runs_the_retention_handler_of_the_same_image(retention_run: StackRun) -> None:
    """Same image as the API, the retention handler as its command, the days in its environment, the same mount."""
    function = retention_run.one(FUNCTION, "retention")
    api = retention_run.one(FUNCTION, "api")
    assert function.inputs["imageUri"] == api.inputs["imageUri"]
    assert function.inputs["imageConfig"]["commands"] == [RETENTION_HANDLER]
    assert function.inputs["fileSystemConfig"] == api.inputs["fileSystemConfig"]
    # Unreserved: reserving N needs N + 100 of the account's quota, and one daily run needs no guarantee.
    assert function.inputs["reservedConcurrentExecutions"] == -1
    settings = Settings.from_env(function.inputs["environment"]["variables"])
    assert settings.message_retention_days == 30
    assert settings.data_dir == Settings.from_env(api.inputs["environment"]["variables"]).data_dir


def test_the_functions_role_reaches_only_its_logs_and_the_file_system(retention_run: StackRun) -> None:
    """Its role writes its own log group and mounts this file system through the access point; nothing else."""
    found = _statements(retention_run.one(ROLE_POLICY, "retention"))
    assert set(found) == set(_statements(retention_run.one(ROLE_POLICY, "api")))
    log_group = retention_run.one("aws:cloudwatch/logGroup:LogGroup", "retention")
    assert log_group.inputs["name"] == "/aws/lambda/efs-inference-dev-retention"
    assert found["OwnLogGroup"]["Resource"][0].endswith(f"log-group:{log_group.inputs['name']}")
    assert all(not action.endswith("*") for statement in found.values() for action in statement["Action"])


def test_without_retention_there_is_no_schedule(dev_run: StackRun, prod_run: StackRun) -> None:
    """The example stacks keep messages forever: no rule, no retention function."""
    for run in (dev_run, prod_run):
        assert run.of_type(RULE) == []
        assert [function.name for function in run.of_type(FUNCTION) if function.name == "retention"] == []


def test_retention_args_are_checked_before_any_resource() -> None:
    """Zero days, or a function not told the same days, is refused by the args check."""
    from unittest import mock

    function = mock.Mock(environment={"MESSAGE_RETENTION_DAYS": "7"}, function_name="efs-inference-dev-retention")
    validate_retention_schedule_args(RetentionScheduleArgs(7, function))
    with pytest.raises(ValueError, match="retention_days"):
        validate_retention_schedule_args(RetentionScheduleArgs(0, function))
    with pytest.raises(ValueError, match="MESSAGE_RETENTION_DAYS"):
        validate_retention_schedule_args(RetentionScheduleArgs(30, function))
