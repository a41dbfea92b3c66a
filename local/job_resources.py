"""The jobs' AWS resources on the local S3/SQS server, shaped as infra/ creates them on AWS: a job bucket
with the lifecycle rule, a queue whose visibility timeout is six times the worker's timeout, a
dead-letter queue after the configured attempts (its visibility timeout six times its consumer's), and a
model bucket holding each model's metadata where `pulumi up` puts it (``models/<name>/<version>/``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from inference.jobs.settings import DEAD_LETTER_TIMEOUT_SECONDS, JobSettings, visibility_timeout_seconds
from inference.models.bucket_layout import version_prefix
from inference.models.metadata import METADATA_FILE
from inference.models.publishing import verify_version_dir

LOCAL_PREFIX = "efs-inference-local"
MESSAGE_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's longest, as on AWS: a dead letter waits for a look


@dataclass(frozen=True)
class LocalJobResources:
    settings: JobSettings
    dead_letter_queue_url: str


def provision(
    s3: Any, sqs: Any, settings: JobSettings, models: list[tuple[str, Path]], prefix: str = LOCAL_PREFIX
) -> LocalJobResources:
    """Create (or find) the buckets and queues named after ``prefix``, and publish each (name, model
    folder)'s metadata. Returns the settings completed with their names."""
    job_bucket, model_bucket = f"{prefix}-jobs", f"{prefix}-models"
    for bucket in (job_bucket, model_bucket):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_lifecycle_configuration(
        Bucket=job_bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "expire-jobs",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "Expiration": {"Days": settings.retention_days},
                }
            ]
        },
    )
    for name, folder in models:
        metadata = verify_version_dir(folder)
        body = (folder / METADATA_FILE).read_bytes()
        s3.put_object(Bucket=model_bucket, Key=f"{version_prefix(name, metadata.version)}{METADATA_FILE}", Body=body)
    dlq_url = sqs.create_queue(
        QueueName=f"{prefix}-jobs-dlq",
        Attributes={
            "VisibilityTimeout": str(visibility_timeout_seconds(DEAD_LETTER_TIMEOUT_SECONDS)),
            "MessageRetentionPeriod": str(MESSAGE_RETENTION_SECONDS),
        },
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName=f"{prefix}-jobs",
        Attributes={
            "VisibilityTimeout": str(visibility_timeout_seconds(settings.worker_timeout_seconds)),
            "MessageRetentionPeriod": str(MESSAGE_RETENTION_SECONDS),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": settings.max_attempts}),
        },
    )["QueueUrl"]
    named = replace(settings, bucket=job_bucket, queue_url=queue_url, model_bucket=model_bucket)
    return LocalJobResources(named, dlq_url)
