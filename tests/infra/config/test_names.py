"""The physical names derived from <project>-<stack>, and the early refusal of names Lambda would refuse."""

from __future__ import annotations

import pytest

from infra.config.checks import ConfigError
from infra.config.names import StackNames


def test_names_are_derived_from_project_and_stack() -> None:
    """Functions are <project>-<stack>-<role>; log groups follow the services' conventions."""
    names = StackNames.of("efs-inference", "dev")
    assert (names.api_function, names.publisher_function) == (
        "efs-inference-dev-api",
        "efs-inference-dev-model-publisher",
    )
    assert (names.api_access_log_group, names.ui_log_group) == (
        "/aws/http-api/efs-inference-dev",
        "/ecs/efs-inference-dev-ui",
    )


def test_a_stack_name_lambda_would_refuse_fails_naming_the_stack_name() -> None:
    """The longest function name decides: one over 64 characters is a ConfigError before anything is registered."""
    with pytest.raises(ConfigError, match=r"Invalid config stack name='efs-inference-x+-model-publisher'"):
        StackNames.of("efs-inference", "x" * 40)  # the API function's name alone would fit
