"""Async jobs (optional): the job bucket, the queue and its dead-letter queue, the jobs function outside the
VPC that accepts jobs, the worker in it that runs their shards, and the consumer of the dead-letter queue that
fails the jobs whose shards end there."""

from infra.jobs.api_function import JobApiFunction, JobApiFunctionArgs
from infra.jobs.bucket import JobBucket, JobBucketArgs
from infra.jobs.dead_letters import JobDeadLetters, JobDeadLettersArgs
from infra.jobs.queue import JobQueue, JobQueueArgs
from infra.jobs.worker import JobWorker, JobWorkerArgs

__all__ = [
    "JobApiFunction",
    "JobApiFunctionArgs",
    "JobBucket",
    "JobBucketArgs",
    "JobDeadLetters",
    "JobDeadLettersArgs",
    "JobQueue",
    "JobQueueArgs",
    "JobWorker",
    "JobWorkerArgs",
]
