"""Async jobs (optional): the job bucket, the queue and its dead-letter queue, the jobs function outside the
VPC that accepts jobs, and the worker in it that runs their shards."""

from infra.jobs.api_function import JobApiFunction, JobApiFunctionArgs
from infra.jobs.bucket import JobBucket, JobBucketArgs
from infra.jobs.queue import JobQueue, JobQueueArgs
from infra.jobs.worker import JobWorker, JobWorkerArgs

__all__ = [
    "JobApiFunction",
    "JobApiFunctionArgs",
    "JobBucket",
    "JobBucketArgs",
    "JobQueue",
    "JobQueueArgs",
    "JobWorker",
    "JobWorkerArgs",
]
