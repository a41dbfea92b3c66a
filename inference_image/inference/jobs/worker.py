"""Lambda entry point of the job worker (same image, ``image_config.command =
["inference.jobs.worker.handler"]``), triggered by the queue through an event source mapping.

It runs in the VPC with EFS mounted and serves models through the same ``ModelRegistry`` as the
API; it reaches S3 through the VPC's gateway endpoint and never calls SQS (the Lambda service polls
the queue for it). A record whose attempt failed is reported in ``batchItemFailures``: SQS delivers
it again after the visibility timeout, and moves it to the dead-letter queue after the last attempt."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from typing import Any

from inference.jobs.messages import BadMessage, ShardMessage
from inference.jobs.runner import AttemptFailed, ShardRun
from inference.jobs.settings import JobSettings
from inference.jobs.store import JobStore, s3_client
from inference.models.registry import ModelRegistry
from inference.settings import Settings

logger = logging.getLogger(__name__)
logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO"))


def build_shard_run() -> ShardRun:
    settings, jobs = Settings.from_env(), JobSettings.from_env()
    registry = ModelRegistry.from_settings(settings)  # MODEL_THREADS and the limits as the API has them

    return ShardRun(
        store=JobStore(s3_client(), jobs.bucket),
        predict=registry.predict_outputs,
        max_attempts=jobs.max_attempts,
        now=lambda: datetime.now(UTC),
    )


# At import, so in Lambda's init phase: the clients and settings are ready before the first invocation's
# timeout starts (a bad setting fails the init, loudly). Models still load on first use.
shard_run = build_shard_run()


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    failures: list[dict[str, str]] = []
    for record in event.get("Records", []):
        try:
            message = ShardMessage.from_body(record["body"])
        except BadMessage as error:
            logger.error("dropping message %s: %s", record.get("messageId"), error)  # no retry can help it
            continue
        attempt = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        try:
            outcome = shard_run.run(message, attempt)
        except AttemptFailed:
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        except Exception:  # e.g. S3 unreachable: nothing was recorded, the next delivery tries again
            logger.exception("job %s shard %s attempt %s could not run", message.job_id, message.shard, attempt)
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        logger.info("job %s shard %s attempt %s: %s", message.job_id, message.shard, attempt, outcome)
    return {"batchItemFailures": failures}
