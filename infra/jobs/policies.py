"""IAM statements of the three job functions, as plain data (least privilege, no wildcard actions):

- the jobs function (accepts and reports jobs) may put and read job objects and uploads, list job objects
  and uploads (so that S3 answers a HEAD on a missing upload with 404 rather than 403), read the models'
  metadata and LATEST (never their weights), and send to the job queue;
- the worker may read and write job objects (a large result in parts, abandoned parts aborted), list them,
  and consume the job queue (through the event source mapping); mounting EFS comes with its EfsFunction;
- the dead-letter consumer may read and write job objects, list them, and consume the dead-letter queue.

The job ids are unguessable (128 random bits); knowing one is what lets a caller read its job."""

from __future__ import annotations

from inference.jobs.catalog import MODELS_PREFIX
from inference.jobs.layout import JOBS_PREFIX, UPLOADS_PREFIX
from inference.models.bucket_layout import latest_key
from infra.building_blocks.iam import Statement

# What Lambda's event source mapping does with a queue on the function's behalf.
QUEUE_CONSUMER_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
)


def _list_prefixes(sid: str, bucket_arn: str, *prefixes: str) -> Statement:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": bucket_arn,
        "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in prefixes]}},
    }


def _read_and_write_jobs(bucket_arn: str, *extra_actions: str) -> list[Statement]:
    return [
        {
            "Sid": "ReadAndWriteJobObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", *extra_actions],
            "Resource": f"{bucket_arn}/{JOBS_PREFIX}*",
        },
        _list_prefixes("ListJobObjects", bucket_arn, JOBS_PREFIX),
    ]


def _consume(sid: str, queue_arn: str) -> Statement:
    return {"Sid": sid, "Effect": "Allow", "Action": list(QUEUE_CONSUMER_ACTIONS), "Resource": queue_arn}


def job_api_statements(job_bucket_arn: str, model_bucket_arn: str, queue_arn: str) -> list[Statement]:
    objects = [f"{job_bucket_arn}/{JOBS_PREFIX}*", f"{job_bucket_arn}/{UPLOADS_PREFIX}*"]
    return [
        {
            "Sid": "PutAndReadJobObjects",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject"],
            "Resource": objects,
        },
        _list_prefixes("ListJobObjectsAndUploads", job_bucket_arn, JOBS_PREFIX, UPLOADS_PREFIX),
        {
            "Sid": "ReadModelMetadata",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            # Each version's metadata, and each model's LATEST (the version a new job runs).
            "Resource": [f"{model_bucket_arn}/{MODELS_PREFIX}*/metadata.json", f"{model_bucket_arn}/{latest_key('*')}"],
        },
        _list_prefixes("ListModelVersions", model_bucket_arn, MODELS_PREFIX),
        {"Sid": "SendToJobQueue", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": queue_arn},
    ]


def job_worker_statements(job_bucket_arn: str, queue_arn: str) -> list[Statement]:
    return [
        *_read_and_write_jobs(job_bucket_arn, "s3:AbortMultipartUpload"),
        _consume("ConsumeJobQueue", queue_arn),
    ]


def dead_letter_statements(job_bucket_arn: str, dead_letter_queue_arn: str) -> list[Statement]:
    return [*_read_and_write_jobs(job_bucket_arn), _consume("ConsumeDeadLetterQueue", dead_letter_queue_arn)]
