"""The controls every bucket of this stack gets: no public access, no ACLs (the owner owns every object),
TLS-only access and SSE-S3. Not a component: its resources are children of the component that owns the
bucket, under the bucket's own name, so both owners keep their resource names."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from infra.building_blocks.iam import deny_insecure_bucket_transport_document


def private_bucket_controls(name: str, bucket: aws.s3.Bucket, parent: pulumi.Resource) -> list[pulumi.Resource]:
    """The public access block, the TLS-only bucket policy, ownership controls and default encryption."""
    child = pulumi.ResourceOptions(parent=parent)
    sse_by_default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs
    public_access_block = aws.s3.BucketPublicAccessBlock(
        name,
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    return [
        public_access_block,
        aws.s3.BucketPolicy(
            name,
            bucket=bucket.id,
            policy=bucket.arn.apply(lambda arn: json.dumps(deny_insecure_bucket_transport_document(arn))),
            # S3 refuses concurrent changes to a bucket's access settings.
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[public_access_block]),
        ),
        aws.s3.BucketOwnershipControls(
            name,
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        ),
        aws.s3.BucketServerSideEncryptionConfiguration(
            name,
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=sse_by_default(sse_algorithm="AES256")
                )
            ],
            opts=child,
        ),
    ]
