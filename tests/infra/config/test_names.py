"""The physical names derived from <project>-<stack>: unchanged where AWS takes them, made to fit where not."""

from __future__ import annotations

import hashlib
import re

import pytest

from infra.config.limits import COGNITO_DOMAIN_PREFIX, COGNITO_RESERVED_WORDS, LAMBDA_FUNCTION_NAME
from infra.config.names import StackNames

# Pulumi takes up to 100 of letters, digits, '-', '_' and '.' in a stack name.
STACK_NAMES = [
    "dev",
    "prod",
    "team_dev",
    "Team.Dev",
    "aws-amazon-cognito",
    "a-stack-name-of-forty-characters-exactly",
    "x" * 100,
    "-._",
]
ROLES = ("api", "model-publisher", "jobs", "job-worker", "retention")


def test_names_are_derived_from_project_and_stack() -> None:
    """Functions are <project>-<stack>-<role>; log groups follow the services' conventions."""
    names = StackNames.of("efs-inference", "dev")
    assert (names.api_function, names.publisher_function, names.retention_function) == (
        "efs-inference-dev-api",
        "efs-inference-dev-model-publisher",
        "efs-inference-dev-retention",
    )
    assert (names.api_access_log_group, names.ui_log_group) == (
        "/aws/http-api/efs-inference-dev",
        "/ecs/efs-inference-dev-ui",
    )
    # As before for every name Cognito takes: no stack that deploys today sees its sign-in domain replaced.
    old_digest = hashlib.sha256(b"ui.example.com").hexdigest()[:8]  # the prefix was f"{prefix}-{digest}".lower()
    assert names.cognito_domain_prefix("ui.example.com") == f"efs-inference-dev-{old_digest}"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_stack_name_pulumi_accepts_gives_names_aws_accepts(stack: str) -> None:
    """Function names (<= 64 of A-Za-z0-9_-) and the Cognito prefix ([a-z0-9-], <= 63, no reserved word) fit."""
    names = StackNames.of("efs-inference", stack)
    functions = [names.function(role) for role in ROLES]
    for name in functions:
        assert LAMBDA_FUNCTION_NAME.fullmatch(name), name
    assert len(set(functions)) == len(functions)
    prefix = names.cognito_domain_prefix("ui.example.com")
    assert COGNITO_DOMAIN_PREFIX.fullmatch(prefix), prefix
    assert not any(word in prefix for word in COGNITO_RESERVED_WORDS), prefix


def test_names_that_fit_are_kept_and_those_that_do_not_stay_apart() -> None:
    """A name AWS takes is used as it is; two long stack names alike in their first 60 characters differ."""
    assert StackNames.of("efs-inference", "team_dev").api_function == "efs-inference-team_dev-api"
    first = StackNames.of("efs-inference", "a" * 60 + "-one")
    second = StackNames.of("efs-inference", "a" * 60 + "-two")
    assert first.publisher_function != second.publisher_function
    assert first.publisher_function.endswith("-model-publisher")
    assert first.cognito_domain_prefix("ui.example.com") != second.cognito_domain_prefix("ui.example.com")
    assert (
        StackNames.of("efs-inference", "team_dev")
        .cognito_domain_prefix("ui.example.com")
        .startswith("efs-inference-team-dev-")
    )


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_monitoring_names_fit_cloudwatch_and_sns(stack: str) -> None:
    """The dashboard (<= 255 of A-Za-z0-9_-), the alarms' topic (<= 256 of the same) and each alarm (<= 255) fit
    every stack name Pulumi accepts; the metrics' service dimension is the stack's own."""
    names = StackNames.of("efs-inference", stack)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,255}", names.dashboard), names.dashboard
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", names.alarm_topic), names.alarm_topic
    assert len(names.alarm("model-publisher-throttles")) <= 255
    assert (names.metrics_namespace, names.metrics_service) == ("efs-inference", f"efs-inference-{stack}")


def test_monitoring_names_that_fit_are_kept_and_altered_ones_stay_apart() -> None:
    """`<project>-<stack>` as it is where CloudWatch takes it; `a.b` and `a-b` do not share a dashboard."""
    names = StackNames.of("efs-inference", "prod")
    assert (names.dashboard, names.alarm_topic, names.alarm("api-5xx-rate")) == (
        "efs-inference-prod",
        "efs-inference-prod-alarms",
        "efs-inference-prod-api-5xx-rate",
    )
    dotted, dashed = StackNames.of("efs-inference", "a.b"), StackNames.of("efs-inference", "a-b")
    assert dotted.dashboard != dashed.dashboard and dotted.alarm_topic != dashed.alarm_topic
