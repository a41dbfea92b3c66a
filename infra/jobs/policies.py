"""IAM statements of the two job functions, as plain data (least privilege, no wildcard actions):

- the jobs function (accepts and reports jobs) may put and read job objects and uploads, list one job's
  objects, read the models' metadata (never their weights), and send to the job queue;
- the worker may read and write job objects, list them, and consume the job queue (through the event
  source mapping); mounting EFS comes with its EfsFunction.

The job ids are unguessable (128 random bits); knowing one is what lets a caller read its job."""

from __future__ import annotations

from inference.jobs.catalog import MODELS_PREFIX
from inference.jobs.layout import JOBS_PREFIX, UPLOADS_PREFIX
from infra.building_blocks.iam import Statement

# What Lambda's event source mapping does with the queue on the function's behalf.
QUEUE_CONSUMER_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
)


def _list_prefix(sid: str, bucket_arn: str, prefix: str) -> Statement:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": bucket_arn,
        "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}},
    }


def job_api_statements(job_bucket_arn: str, model_bucket_arn: str, queue_arn: str) -> list[Statement]:
    objects = [f"{job_bucket_arn}/{JOBS_PREFIX}*", f"{job_bucket_arn}/{UPLOADS_PREFIX}*"]
    return [
        {
            "Sid": "PutAndReadJobObjects",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject"],
            "Resource": objects,
        },
        _list_prefix("ListJobObjects", job_bucket_arn, JOBS_PREFIX),
        {
            "Sid": "ReadModelMetadata",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": f"{model_bucket_arn}/{MODELS_PREFIX}*/metadata.json",
        },
        _list_prefix("ListModelVersions", model_bucket_arn, MODELS_PREFIX),
        {"Sid": "SendToJobQueue", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": queue_arn},
    ]


def job_worker_statements(job_bucket_arn: str, queue_arn: str) -> list[Statement]:
    return [
        {
            "Sid": "ReadAndWriteJobObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": f"{job_bucket_arn}/{JOBS_PREFIX}*",
        },
        _list_prefix("ListJobObjects", job_bucket_arn, JOBS_PREFIX),
        {"Sid": "ConsumeJobQueue", "Effect": "Allow", "Action": list(QUEUE_CONSUMER_ACTIONS), "Resource": queue_arn},
    ]
