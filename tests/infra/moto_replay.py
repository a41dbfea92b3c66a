"""The recorded resources replayed against moto's in-process AWS (`mock_aws`), where moto checks what AWS checks:
IAM's policy grammar (the validator moto's IAM API runs), SQS's queue names and attributes (a redrive target must
exist), S3's bucket names, and the request shapes of Lambda's CreateFunction (botocore's service model: memory,
timeout, name lengths). Names Pulumi generates take their generated length (tests/infra/aws_rules.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from moto import mock_aws

from testing.pulumi_mocks import ACCOUNT, REGION, Registered
from tests.infra.aws_rules import generated_name

IMAGE_URI = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/inference@sha256:{'0' * 64}"


def replay(resources: Iterable[Registered]) -> list[str]:
    """Each refusal as `<urn>: <what AWS said>`; empty when moto accepts every resource."""
    items = list(resources)
    problems: list[str] = []

    def attempt(item: Registered, call: Callable[..., Any], **request: Any) -> Any:
        try:
            return call(**request)
        except (ClientError, BotoCoreError) as error:
            problems.append(f"{item.urn}: {error}")
            return None

    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        roles: dict[str, str] = {}  # the mocks' role id -> the role's name in moto
        for item in _of(items, "aws:iam/role:Role"):
            name = generated_name(item)
            if attempt(item, iam.create_role, RoleName=name, AssumeRolePolicyDocument=item.inputs["assumeRolePolicy"]):
                roles[f"{item.name}-id"] = name
        for item in _of(items, "aws:iam/rolePolicy:RolePolicy"):
            role = roles.get(item.inputs["role"], next(iter(roles.values()), ""))
            policy = {"PolicyName": generated_name(item), "PolicyDocument": item.inputs["policy"]}
            attempt(item, iam.put_role_policy, RoleName=role, **policy)
        for item in _of(items, "aws:iam/policy:Policy"):
            attempt(item, iam.create_policy, PolicyName=generated_name(item), PolicyDocument=item.inputs["policy"])

        sqs = boto3.client("sqs", region_name=REGION)
        queue_arns: dict[str, str] = {}  # the mocks' ARN -> moto's
        queues = _of(items, "aws:sqs/queue:Queue")
        for item in sorted(queues, key=lambda queue: "redrivePolicy" in queue.inputs):  # dead-letter queues first
            attributes = _queue_attributes(item.inputs, queue_arns)
            created = attempt(item, sqs.create_queue, QueueName=generated_name(item), Attributes=attributes)
            if created:
                arn = sqs.get_queue_attributes(QueueUrl=created["QueueUrl"], AttributeNames=["QueueArn"])
                queue_arns[f"arn:aws:sqs:{REGION}:{ACCOUNT}:{item.name}"] = arn["Attributes"]["QueueArn"]

        s3 = boto3.client("s3", region_name=REGION)
        location = {"LocationConstraint": REGION}
        for item in _of(items, "aws:s3/bucket:Bucket"):
            bucket = generated_name(item, "bucket").lower()
            attempt(item, s3.create_bucket, Bucket=bucket, CreateBucketConfiguration=location)

        lambda_ = boto3.client("lambda", region_name=REGION)
        execution_role = next(iter(roles.values()), None)
        for item in _of(items, "aws:lambda/function:Function"):
            if execution_role:
                attempt(item, lambda_.create_function, **_function_request(item.inputs, iam, execution_role))
    return problems


def _of(items: list[Registered], type_token: str) -> list[Registered]:
    return [item for item in items if item.type == type_token]


def _queue_attributes(inputs: dict[str, Any], queue_arns: dict[str, str]) -> dict[str, str]:
    attributes = {
        "VisibilityTimeout": inputs.get("visibilityTimeoutSeconds"),
        "MessageRetentionPeriod": inputs.get("messageRetentionSeconds"),
        "SqsManagedSseEnabled": inputs.get("sqsManagedSseEnabled"),
    }
    if "redrivePolicy" in inputs:
        redrive = json.loads(inputs["redrivePolicy"])
        redrive["deadLetterTargetArn"] = queue_arns.get(redrive["deadLetterTargetArn"], redrive["deadLetterTargetArn"])
        attributes["RedrivePolicy"] = json.dumps(redrive)
    return {key: _attribute(value) for key, value in attributes.items() if value is not None}


def _attribute(value: object) -> str:
    """SQS takes every attribute as a string; Pulumi hands numbers over as floats."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(int(value)) if isinstance(value, float) else str(value)


def _function_request(inputs: dict[str, Any], iam: Any, role_name: str) -> dict[str, Any]:
    request: dict[str, Any] = {
        "FunctionName": inputs["name"],
        "Role": iam.get_role(RoleName=role_name)["Role"]["Arn"],
        "PackageType": "Image",
        "Code": {"ImageUri": IMAGE_URI},
        "MemorySize": int(inputs.get("memorySize", 128)),  # Pulumi hands numbers over as floats
        "Timeout": int(inputs.get("timeout", 3)),
        "Architectures": inputs.get("architectures", ["x86_64"]),
        "Environment": {"Variables": (inputs.get("environment") or {}).get("variables", {})},
    }
    if inputs.get("imageConfig"):
        request["ImageConfig"] = {"Command": inputs["imageConfig"]["commands"]}
    return request
