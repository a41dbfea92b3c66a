"""Reading what the program registered under mocks: type tokens, and small readers of recorded resources."""

from __future__ import annotations

import json
from typing import Any

from testing.pulumi_mocks import ACCOUNT, PROJECT, REGION, Registered, StackRun, stack_file_config

FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
MOUNT_TARGET = "aws:efs/mountTarget:MountTarget"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROUTE = "aws:apigatewayv2/route:Route"
UI_TYPES = (
    "awsx:lb:ApplicationLoadBalancer",
    "awsx:ecs:FargateService",
    "efs-inference:ui_load_balancer:UiLoadBalancer",
)


def setting(run: StackRun, key: str, default: str) -> str:
    return stack_file_config(run.stack).get(f"{PROJECT}:{key}", default)


def resource_id(item: Registered) -> str:
    return f"{item.name}-id"  # what the mocks answer for every resource


def statements(policy: Registered) -> list[dict[str, Any]]:
    document = json.loads(policy.inputs["policy"])
    found: list[dict[str, Any]] = document["Statement"]
    return found


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def api_arn(run: StackRun) -> str:
    api = run.one("aws:apigatewayv2/api:Api", "http")
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api.name}-id"


def document(item: Any) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(item.inputs["policy"] if hasattr(item, "inputs") else item)
    return found
