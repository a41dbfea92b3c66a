"""The job bucket: private, TLS only, encrypted, and every object expired after the configured days
(inputs, state and results alike: a job is gone, and answers 404, once its retention has passed). With
CORS origins (the API's corsAllowOrigins), browsers on those origins may use its presigned URLs too: POST
an upload form, GET a result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.building_blocks.private_bucket import private_bucket_controls
from infra.config.schema import StackConfig

_ABORT_UPLOADS_AFTER_DAYS = 1
# What a browser does with the presigned URLs the jobs function hands out: an upload form, a result download.
CORS_METHODS = ("POST", "GET")
_CORS_MAX_AGE_SECONDS = 3600


@dataclass
class JobBucketArgs:
    retention_days: int = 7
    allow_deletion: bool = False  # whether `pulumi destroy` may delete a bucket that still holds jobs
    cors_origins: Sequence[str] = field(default_factory=list)  # empty: no CORS rules at all

    @classmethod
    def from_config(cls, config: StackConfig) -> JobBucketArgs:
        return cls(
            retention_days=config.jobs.retention_days,
            allow_deletion=config.storage.allow_deletion,
            cors_origins=list(config.api.cors_allow_origins),  # the API's origins: the same browser clients
        )


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

        self.bucket = aws.s3.Bucket(name, force_destroy=args.allow_deletion, opts=child)
        self.controls = private_bucket_controls(name, self.bucket, self)
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
        self.cors = None
        if args.cors_origins:
            self.cors = aws.s3.BucketCorsConfiguration(
                name,
                bucket=self.bucket.id,
                cors_rules=[
                    aws.s3.BucketCorsConfigurationCorsRuleArgs(
                        allowed_methods=list(CORS_METHODS),
                        allowed_origins=list(args.cors_origins),
                        max_age_seconds=_CORS_MAX_AGE_SECONDS,
                    )
                ],
                opts=child,
            )
        self.bucket_name = self.bucket.bucket
        self.bucket_arn = self.bucket.arn
        self.register_outputs({"bucket_name": self.bucket_name, "bucket_arn": self.bucket_arn})
