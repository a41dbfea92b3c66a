"""IAM statements of the three job functions, as plain data (least privilege, no wildcard actions):

- the jobs function (accepts and reports jobs) may put and read job objects and uploads, list the job bucket,
  read the models' metadata and LATEST (never their weights), list the model bucket, and send to the job queue;
- the worker may read and write job objects (a large result in parts, abandoned parts aborted), list them,
  and consume the job queue (through the event source mapping); mounting EFS comes with its EfsFunction;
- the dead-letter consumer may read and write job objects, list them, and consume the dead-letter queue.

Each role may list its buckets whole, without an `s3:prefix` condition: S3 answers a GET or HEAD of a missing key
with 404 only to a caller allowed to list the bucket, and a listing limited by prefix is no such permission (a
request for one key names no prefix), so without it an unknown job id, an expired job or an unknown model would
be a 403 where the code expects 404. The buckets hold only this stack's jobs and models, and a role's listing
is never shown to a caller. The job ids are unguessable (128 random bits); knowing one is what lets a caller
read its job."""

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


def _list(sid: str, bucket_arn: str) -> Statement:
    return {"Sid": sid, "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": bucket_arn}


def _read_and_write_jobs(bucket_arn: str, *extra_actions: str) -> list[Statement]:
    return [
        {
            "Sid": "ReadAndWriteJobObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", *extra_actions],
            "Resource": f"{bucket_arn}/{JOBS_PREFIX}*",
        },
        _list("ListJobBucket", bucket_arn),
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
        _list("ListJobBucket", job_bucket_arn),
        {
            "Sid": "ReadModelMetadata",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            # Each version's metadata, and each model's LATEST (the version a new job runs).
            "Resource": [f"{model_bucket_arn}/{MODELS_PREFIX}*/metadata.json", f"{model_bucket_arn}/{latest_key('*')}"],
        },
        _list("ListModelBucket", model_bucket_arn),
        {"Sid": "SendToJobQueue", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": queue_arn},
    ]


def job_worker_statements(job_bucket_arn: str, queue_arn: str) -> list[Statement]:
    return [
        *_read_and_write_jobs(job_bucket_arn, "s3:AbortMultipartUpload"),
        _consume("ConsumeJobQueue", queue_arn),
    ]


def dead_letter_statements(job_bucket_arn: str, dead_letter_queue_arn: str) -> list[Statement]:
    return [*_read_and_write_jobs(job_bucket_arn), _consume("ConsumeDeadLetterQueue", dead_letter_queue_arn)]
