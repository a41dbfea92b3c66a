"""The jobs' settings, read from the environment the stack (or the local stack) sets. Without
JOBS_BUCKET the stack has jobs turned off, and the routes answer 404 jobs_disabled."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from inference.errors import ServiceError
from inference.settings import _positive as positive_setting  # one parser for every numeric setting

# AWS's advice for a queue that triggers a function: a visibility timeout of at least six times the
# function's timeout, so that throttled and retried invocations do not see a message come back early.
VISIBILITY_TIMEOUT_FACTOR = 6
LAMBDA_MAX_TIMEOUT_SECONDS = 900
# The dead-letter consumer's timeout: it copies one small message and writes two small objects.
DEAD_LETTER_TIMEOUT_SECONDS = 30


class JobsDisabled(ServiceError):
    status = 404  # a client error, not a fault: the route exists only on stacks with jobs
    default_code = "jobs_disabled"


@dataclass(frozen=True)
class JobSettings:
    bucket: str
    queue_url: str = ""  # the accepting function's; the worker never talks to SQS (the Lambda service does)
    model_bucket: str = ""  # where the accepting function reads model metadata
    max_attempts: int = 3
    # Sized together (BENCHMARKS.md, section 12): a shard of 200 of MiniLM's longest texts (256 tokens) took 8.5 s
    # on one core (13 s on a loaded machine), 9-14x within this timeout; and a shard whose attempts all fail
    # reaches the dead-letter queue after 3 visibility timeouts of 6 x 120 s: 36 minutes.
    worker_timeout_seconds: int = 120
    shard_size: int = 200
    max_inputs: int = 100_000
    max_upload_bytes: int = 20 * 1024 * 1024
    inline_result_bytes: int = 256 * 1024
    url_expiry_seconds: int = 300
    retention_days: int = 7

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> JobSettings:
        """The settings, or JobsDisabled when this stack runs no jobs."""
        bucket = env.get("JOBS_BUCKET", "")
        if not bucket:
            raise JobsDisabled("async jobs are not enabled on this stack: set the config key jobsEnabled to true")
        return cls(
            bucket=bucket,
            queue_url=env.get("JOBS_QUEUE_URL", ""),
            model_bucket=env.get("MODEL_BUCKET", ""),
            max_attempts=positive_setting(env, "JOBS_MAX_ATTEMPTS", cls.max_attempts),
            worker_timeout_seconds=positive_setting(env, "JOBS_WORKER_TIMEOUT_SECONDS", cls.worker_timeout_seconds),
            shard_size=positive_setting(env, "JOBS_SHARD_SIZE", cls.shard_size),
            max_inputs=positive_setting(env, "JOBS_MAX_INPUTS", cls.max_inputs),
            max_upload_bytes=positive_setting(env, "JOBS_MAX_UPLOAD_BYTES", cls.max_upload_bytes),
            inline_result_bytes=positive_setting(env, "JOBS_INLINE_RESULT_BYTES", cls.inline_result_bytes),
            url_expiry_seconds=positive_setting(env, "JOBS_URL_EXPIRY_SECONDS", cls.url_expiry_seconds),
            retention_days=positive_setting(env, "JOBS_RETENTION_DAYS", cls.retention_days),
        )

    def to_env(self) -> dict[str, str]:
        """The environment that ``from_env`` reads back: what the stack and the local stack set."""
        values = {
            "JOBS_BUCKET": self.bucket,
            "JOBS_QUEUE_URL": self.queue_url,
            "MODEL_BUCKET": self.model_bucket,
            "JOBS_MAX_ATTEMPTS": self.max_attempts,
            "JOBS_WORKER_TIMEOUT_SECONDS": self.worker_timeout_seconds,
            "JOBS_SHARD_SIZE": self.shard_size,
            "JOBS_MAX_INPUTS": self.max_inputs,
            "JOBS_MAX_UPLOAD_BYTES": self.max_upload_bytes,
            "JOBS_INLINE_RESULT_BYTES": self.inline_result_bytes,
            "JOBS_URL_EXPIRY_SECONDS": self.url_expiry_seconds,
            "JOBS_RETENTION_DAYS": self.retention_days,
        }
        return {key: str(value) for key, value in values.items() if value != ""}


def visibility_timeout_seconds(worker_timeout_seconds: int) -> int:
    return VISIBILITY_TIMEOUT_FACTOR * worker_timeout_seconds
