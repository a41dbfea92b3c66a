"""IAM policy documents as plain data: least privilege, no wildcard actions. Components fill in the
ARNs once they are known (inside an apply); tests read these functions directly."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Statement = dict[str, Any]

# Lambda's VPC networking: these actions support no resource-level scoping, so Resource is "*".
ENI_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
EFS_CLIENT_ACTIONS = ("elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite")
EFS_ALL_CLIENT_ACTIONS = (*EFS_CLIENT_ACTIONS, "elasticfilesystem:ClientRootAccess")


def document(statements: list[Statement]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def assume_role_document(service: str) -> dict[str, Any]:
    return document([{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}])


def log_statements(log_group_arn: str) -> list[Statement]:
    """Write to this log group only (the program creates it, so no logs:CreateLogGroup)."""
    return [
        {
            "Sid": "OwnLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [log_group_arn, f"{log_group_arn}:*"],
        }
    ]


def efs_client_statements(file_system_arn: str, access_point_arn: str, *, write: bool = True) -> list[Statement]:
    """Mount this file system through this access point only; write to it too, or not (without
    elasticfilesystem:ClientWrite, EFS mounts it read-only)."""
    return [
        {
            "Sid": "MountThroughAccessPoint",
            "Effect": "Allow",
            "Action": list(EFS_CLIENT_ACTIONS if write else EFS_CLIENT_ACTIONS[:1]),
            "Resource": file_system_arn,
            "Condition": {"StringEquals": {"elasticfilesystem:AccessPointArn": access_point_arn}},
        }
    ]


def eni_statements() -> list[Statement]:
    return [{"Sid": "VpcNetworkInterfaces", "Effect": "Allow", "Action": list(ENI_ACTIONS), "Resource": "*"}]


def s3_read_statements(bucket_arn: str, prefixes: Sequence[str]) -> list[Statement]:
    """List and read the objects under these prefixes of one bucket: one statement of each kind for every prefix
    (IAM refuses a policy that repeats a statement id)."""
    return [
        {
            "Sid": "ListPrefixes",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in prefixes]}},
        },
        {
            "Sid": "ReadPrefixes",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{bucket_arn}/{prefix}*" for prefix in prefixes],
        },
    ]


def _deny_without_tls(actions: list[str] | str, resource: list[str] | str) -> dict[str, Any]:
    return document(
        [
            {
                "Sid": "DenyWithoutTls",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": actions,
                "Resource": resource,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    )


def deny_insecure_transport_document(file_system_arn: str) -> dict[str, Any]:
    """File-system policy: every client action needs TLS (the mount helper's `tls` option, which Lambda uses)."""
    return _deny_without_tls(list(EFS_ALL_CLIENT_ACTIONS), file_system_arn)


def deny_insecure_bucket_transport_document(bucket_arn: str) -> dict[str, Any]:
    """Bucket policy: every request needs TLS. A Deny, so its `s3:*` grants nothing; it covers every action."""
    return _deny_without_tls("s3:*", [bucket_arn, f"{bucket_arn}/*"])


def invoke_routes_statements(route_arns: Sequence[str]) -> list[Statement]:
    """Call these routes (execute-api ARNs of one API's routes) and nothing else."""
    return [
        {"Sid": "InvokeTheseRoutes", "Effect": "Allow", "Action": ["execute-api:Invoke"], "Resource": list(route_arns)}
    ]


def invoke_api_statements(execution_arn: str) -> list[Statement]:
    """Call this HTTP API, any route of any stage, and no other API."""
    return [
        {"Sid": "InvokeThisApi", "Effect": "Allow", "Action": ["execute-api:Invoke"], "Resource": f"{execution_arn}/*"}
    ]


def s3_endpoint_document(
    account_id: str,
    read_bucket_arns: list[str],
    read_object_arns: list[str],
    read_write_bucket_arns: Sequence[str] = (),
    write_object_arns: Sequence[str] = (),
) -> dict[str, Any]:
    """A gateway endpoint's policy: what may pass through it at all (IAM still decides who). Principal "*" is the
    form endpoint policies take; the resources and the account condition are what limit it.

    The stack's own buckets are reached only by the stack's account's principals and only while the bucket is
    the account's own (aws:PrincipalAccount and aws:ResourceAccount): a bucket name is global, so a deleted
    bucket's name taken by another account, or another account's credentials used inside the VPC, get nothing
    through. ``read_object_arns`` (ECR's layer bucket, for the UI tasks' image pulls) get no account condition:
    that bucket is AWS's (so not aws:ResourceAccount) and ECR's presigned layer URLs are signed by ECR, not by
    a principal of this account (so not aws:PrincipalAccount); naming the one bucket and GetObject bounds it."""
    own = {"StringEquals": {"aws:PrincipalAccount": account_id, "aws:ResourceAccount": account_id}}
    statements: list[Statement] = [
        {
            "Sid": "ListAndReadTheseBuckets",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["s3:ListBucket", "s3:GetObject"],
            "Resource": [*read_bucket_arns, *(f"{arn}/*" for arn in read_bucket_arns)],
            "Condition": own,
        }
    ]
    if read_object_arns:
        statements.append(
            {
                "Sid": "ReadTheseObjects",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject"],
                "Resource": read_object_arns,
            }
        )
    if read_write_bucket_arns:
        statements.append(
            {
                "Sid": "ReadAndWriteTheseBuckets",
                "Effect": "Allow",
                "Principal": "*",
                # PutObject covers a multipart upload's steps but its abort (of a large result that lost the race)
                "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                "Resource": [*read_write_bucket_arns, *(f"{arn}/*" for arn in read_write_bucket_arns)],
                "Condition": own,
            }
        )
    if write_object_arns:  # objects of the stack's own buckets (the model bucket's LATEST objects)
        statements.append(
            {
                "Sid": "WriteTheseObjects",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:PutObject"],
                "Resource": list(write_object_arns),
                "Condition": own,
            }
        )
    return document(statements)
