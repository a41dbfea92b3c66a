"""The job bucket: private, TLS only, encrypted, and every object expired after the configured days
(inputs, state and results alike: a job is gone, and answers 404, once its retention has passed)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.config import StackConfig
from infra.policies import deny_insecure_bucket_transport_document

_ABORT_UPLOADS_AFTER_DAYS = 1


@dataclass
class JobBucketArgs:
    retention_days: int = 7
    allow_deletion: bool = False  # whether `pulumi destroy` may delete a bucket that still holds jobs

    @classmethod
    def from_config(cls, config: StackConfig) -> JobBucketArgs:
        return cls(retention_days=config.jobs.retention_days, allow_deletion=config.storage.allow_deletion)


def validate_job_bucket_args(args: JobBucketArgs) -> None:
    if not 1 <= args.retention_days <= 365:
        raise ValueError(f"JobBucketArgs.retention_days must be from 1 to 365, not {args.retention_days}")


class JobBucket(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]

    def __init__(self, name: str, args: JobBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate_job_bucket_args(args)
        super().__init__("efs-inference:job_bucket:JobBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        sse_by_default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs

        self.bucket = aws.s3.Bucket(name, force_destroy=args.allow_deletion, opts=child)
        self.public_access_block = aws.s3.BucketPublicAccessBlock(
            name,
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        self.policy = aws.s3.BucketPolicy(
            name,
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(lambda arn: json.dumps(deny_insecure_bucket_transport_document(arn))),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.public_access_block]),
        )
        self.ownership = aws.s3.BucketOwnershipControls(
            name,
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        self.encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            name,
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=sse_by_default(sse_algorithm="AES256")
                )
            ],
            opts=child,
        )
        # No versioning: written-once objects need none, and expired jobs must really go.
        self.lifecycle = aws.s3.BucketLifecycleConfiguration(
            name,
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-jobs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.retention_days),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=_ABORT_UPLOADS_AFTER_DAYS
                    ),
                )
            ],
            opts=child,
        )
        self.bucket_name = self.bucket.bucket
        self.bucket_arn = self.bucket.arn
        self.register_outputs({"bucket_name": self.bucket_name, "bucket_arn": self.bucket_arn})
