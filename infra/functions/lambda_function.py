"""The one building block of every Lambda function of the stack: its own log group, a role Lambda may assume,
that role's one inline policy (its log stream plus the statements the function needs), and the function from
the inference image. Not a component: each function component creates these as its own children, under its
own name, so every function is wired the same way and keeps its resource names."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.building_blocks.iam import assume_role_document, document, log_statements
from infra.config.limits import (
    DOCKER_PLATFORMS,
    LAMBDA_FUNCTION_NAME,
    LAMBDA_MEMORY_MB,
    LAMBDA_NAME_MAX,
    LOG_RETENTION_DAYS,
)

# (the resolved inputs) -> the policy statements beyond the function's own log statements
Statements = Callable[[list[Any]], list[dict[str, Any]]]


@dataclass(frozen=True)
class FunctionCode:
    """What runs, with how much: the same for every function of the stack bar the values."""

    function_name: str  # physical name, fixed so that the program can own /aws/lambda/<name>
    image_uri: pulumi.Input[str]
    architecture: str
    memory_mb: int
    timeout_seconds: int
    log_retention_days: int
    environment: Mapping[str, pulumi.Input[str]]
    command: Sequence[str] | None = None  # another handler of the same image
    reserved_concurrency: int | None = None  # None: the function's setting is left alone (unreserved)


@dataclass(frozen=True)
class LambdaFunction:
    log_group: aws.cloudwatch.LogGroup
    role: aws.iam.Role
    role_policy: aws.iam.RolePolicy
    function: aws.lambda_.Function


class FunctionComponent(pulumi.ComponentResource):
    """A component built around one ``lambda_function``: its parts as attributes, and the outputs every function
    component exports, named once here."""

    log_group: aws.cloudwatch.LogGroup
    role: aws.iam.Role
    role_policy: aws.iam.RolePolicy
    function: aws.lambda_.Function
    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def _hold(self, made: LambdaFunction) -> None:
        """Keep ``made``'s parts and register the function's outputs."""
        self.log_group, self.role, self.role_policy, self.function = (
            made.log_group,
            made.role,
            made.role_policy,
            made.function,
        )
        self.function_name = self.function.name
        self.function_arn = self.function.arn
        self.log_group_name = self.log_group.name
        self.register_outputs(
            {
                "function_name": self.function_name,
                "function_arn": self.function_arn,
                "log_group_name": self.log_group_name,
            }
        )


def lambda_function(
    name: str,
    code: FunctionCode,
    *,
    policy_inputs: Sequence[pulumi.Input[Any]],
    statements: Statements,
    parent: pulumi.Resource,
    vpc_config: aws.lambda_.FunctionVpcConfigArgs | None = None,
    file_system_config: aws.lambda_.FunctionFileSystemConfigArgs | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
) -> LambdaFunction:
    """The log group ``/aws/lambda/<function_name>``, the role and its policy, and the function, all named
    ``name``; the policy holds the log statements and ``statements`` of ``policy_inputs`` once they resolve."""
    child = pulumi.ResourceOptions(parent=parent)
    log_group = aws.cloudwatch.LogGroup(
        name, name=f"/aws/lambda/{code.function_name}", retention_in_days=code.log_retention_days, opts=child
    )
    role = aws.iam.Role(name, assume_role_policy=json.dumps(assume_role_document("lambda.amazonaws.com")), opts=child)
    role_policy = aws.iam.RolePolicy(
        name,
        role=role.id,
        policy=pulumi.Output.all(log_group.arn, *policy_inputs).apply(
            lambda values: json.dumps(document([*log_statements(values[0]), *statements(list(values[1:]))]))
        ),
        opts=child,
    )
    function = aws.lambda_.Function(
        name,
        name=code.function_name,
        package_type="Image",
        image_uri=code.image_uri,
        image_config=aws.lambda_.FunctionImageConfigArgs(commands=list(code.command)) if code.command else None,
        role=role.arn,
        architectures=[code.architecture],
        memory_size=code.memory_mb,
        timeout=code.timeout_seconds,
        reserved_concurrent_executions=code.reserved_concurrency,
        vpc_config=vpc_config,
        file_system_config=file_system_config,
        environment=aws.lambda_.FunctionEnvironmentArgs(variables=dict(code.environment)),
        # The role's policy and the log group must exist before the first invocation.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[log_group, role_policy, *depends_on]),
    )
    return LambdaFunction(log_group, role, role_policy, function)


def raise_first_problem(args_name: str, problems: Iterable[tuple[bool, str]]) -> None:
    """Raise a ``ValueError`` naming ``args_name`` and what must hold, for the first check that failed."""
    for failed, message in problems:
        if failed:
            raise ValueError(f"{args_name}.{message}")


def function_problems(
    function_name: str, architecture: str, memory_mb: int, log_retention_days: int
) -> list[tuple[bool, str]]:
    """The checks every function's args share: (failed, what must hold)."""
    return [
        (
            not LAMBDA_FUNCTION_NAME.fullmatch(function_name),
            f"function_name must be 1 to {LAMBDA_NAME_MAX} letters, digits, '-' or '_', not {function_name!r}",
        ),
        (architecture not in DOCKER_PLATFORMS, f"architecture must be one of {', '.join(DOCKER_PLATFORMS)}"),
        (not LAMBDA_MEMORY_MB[0] <= memory_mb <= LAMBDA_MEMORY_MB[1], "memory_mb must be from 128 to 10240"),
        (log_retention_days not in LOG_RETENTION_DAYS, "log_retention_days must be a CloudWatch retention value"),
    ]
