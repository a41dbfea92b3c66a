"""What every function of the stack has beside its code: its own log group, a role Lambda may assume, and
that role's one inline policy (its log stream plus the statements the function needs). Not a component:
each function component creates these as its own children, with its own resource names."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.building_blocks.iam import assume_role_document, document, log_statements
from infra.config.limits import DOCKER_PLATFORMS, LAMBDA_MEMORY_MB, LOG_RETENTION_DAYS

# (the resolved inputs) -> the policy statements beyond the function's own log statements
Statements = Callable[[list[Any]], list[dict[str, Any]]]


@dataclass(frozen=True)
class LambdaExecution:
    log_group: aws.cloudwatch.LogGroup
    role: aws.iam.Role
    role_policy: aws.iam.RolePolicy


def lambda_execution(
    name: str,
    *,
    function_name: str,
    log_retention_days: int,
    inputs: Sequence[pulumi.Input[Any]],
    statements: Statements,
    parent: pulumi.Resource,
) -> LambdaExecution:
    """The log group ``/aws/lambda/<function_name>``, the role and its policy, all named ``name``; the policy
    holds the log statements and ``statements`` of ``inputs`` once they resolve."""
    child = pulumi.ResourceOptions(parent=parent)
    log_group = aws.cloudwatch.LogGroup(
        name, name=f"/aws/lambda/{function_name}", retention_in_days=log_retention_days, opts=child
    )
    role = aws.iam.Role(name, assume_role_policy=json.dumps(assume_role_document("lambda.amazonaws.com")), opts=child)
    role_policy = aws.iam.RolePolicy(
        name,
        role=role.id,
        policy=pulumi.Output.all(log_group.arn, *inputs).apply(
            lambda values: json.dumps(document([*log_statements(values[0]), *statements(list(values[1:]))]))
        ),
        opts=child,
    )
    return LambdaExecution(log_group, role, role_policy)


def function_problems(architecture: str, memory_mb: int, log_retention_days: int) -> list[tuple[bool, str]]:
    """The checks every function's args share: (failed, what must hold)."""
    return [
        (architecture not in DOCKER_PLATFORMS, f"architecture must be one of {', '.join(DOCKER_PLATFORMS)}"),
        (not LAMBDA_MEMORY_MB[0] <= memory_mb <= LAMBDA_MEMORY_MB[1], "memory_mb must be from 128 to 10240"),
        (log_retention_days not in LOG_RETENTION_DAYS, "log_retention_days must be a CloudWatch retention value"),
    ]
