"""Lambda entry point of the dead-letter consumer (same image, ``image_config.command =
["inference.jobs.dead_letters.handler"]``), triggered by the job queue's dead-letter queue.

A shard's message reaches the dead-letter queue once its attempts are used up, whatever ended them: an
error the worker recorded, but also a worker that could not start, could not reach S3, ran out of memory
or time, and so recorded nothing. This function, outside the VPC, copies the message beside the job's
state (so it stays inspectable after the queue deletes it) and fails the job with a reason, so that the
job reads ``failed`` seconds after its message is dead-lettered instead of ``queued`` forever. A message
it could not settle (S3 failing) is reported in ``batchItemFailures`` and comes back."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from inference.jobs.layout import JobKeys
from inference.jobs.messages import BadMessage, ShardMessage
from inference.jobs.service import iso, read_request
from inference.jobs.settings import JobSettings
from inference.jobs.store import JobStore, s3_client

logger = logging.getLogger(__name__)
logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO"))


@dataclass(frozen=True)
class DeadLetters:
    store: JobStore
    max_attempts: int
    now: Callable[[], datetime]

    def settle(self, record: dict[str, Any]) -> str:
        """What was done with one dead-lettered SQS record: ``failed`` (the job, now), ``kept`` (copied; the
        job had already ended or the shard had finished), or ``dropped`` (it names no job that still exists)."""
        message_id = str(record.get("messageId", ""))
        try:
            message = ShardMessage.from_body(str(record.get("body", "")))
        except BadMessage as error:
            logger.error("dead letter %s names no job (%s): %s", message_id, error, record.get("body"))
            return "dropped"
        job = read_request(self.store, message.job_id)
        if job is None:
            logger.warning("dead letter %s: job %s has expired", message_id, message.job_id)
            return "dropped"
        keys = JobKeys(message.job_id)
        copy = {"message_id": message_id, "body": record.get("body"), "attributes": record.get("attributes", {})}
        self.store.put_json_once(keys.dead_letter(message.shard, message_id), {**copy, "at": iso(self.now())})
        present = {item.key: item for item in self.store.list(keys.prefix)}
        if keys.result in present or keys.failed in present or keys.outputs(message.shard) in present:
            logger.info("dead letter %s: job %s shard %s had already ended", message_id, job.job_id, message.shard)
            return "kept"
        failure = {
            "code": "attempts_exhausted",
            "message": self._reason(keys, message.shard, present),
            "at": iso(self.now()),
            "dead_letter": keys.dead_letter(message.shard, message_id),
        }
        self.store.put_json_once(keys.failed, failure)
        logger.warning("job %s failed: %s", job.job_id, failure["message"])
        return "failed"

    def _reason(self, keys: JobKeys, shard: int, present: dict[str, Any]) -> str:
        """The last attempt's own error when it recorded one, else what can end an attempt without a word."""
        attempts = sorted(found[1] for key in present if (found := keys.attempt_of(key)) and found[0] == shard)
        if attempts and present[keys.attempt(shard, attempts[-1])].size:
            recorded = self.store.get_json(keys.attempt(shard, attempts[-1])) or {}
            if recorded.get("message"):
                return str(recorded["message"])
        started = f"{len(attempts)} of them started" if attempts else "none of them started"
        return (
            f"shard {shard}: its message used up its {self.max_attempts} attempts and was moved to the dead-letter "
            f"queue; {started}, and none finished or recorded an error: the worker could not start, could not "
            "reach S3, ran out of memory, or ran past its timeout (its log group says which)"
        )


def build_dead_letters() -> DeadLetters:
    settings = JobSettings.from_env()
    return DeadLetters(JobStore(s3_client(), settings.bucket), settings.max_attempts, lambda: datetime.now(UTC))


# At import, in Lambda's init phase, as the worker does: a bad setting fails loudly before any message is taken.
dead_letters = build_dead_letters()


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    failures: list[dict[str, str]] = []
    for record in event.get("Records", []):
        try:
            outcome = dead_letters.settle(record)
        except Exception:  # S3 failing: the message stays in the dead-letter queue and comes back
            logger.exception("dead letter %s could not be settled", record.get("messageId"))
            failures.append({"itemIdentifier": str(record.get("messageId"))})
            continue
        logger.info("dead letter %s: %s", record.get("messageId"), outcome)
    return {"batchItemFailures": failures}
