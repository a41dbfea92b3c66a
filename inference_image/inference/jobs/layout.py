"""Where a job lives in the job bucket; every key is derived here and nowhere else.

    jobs/<id>/job.json                  the request: model, version, total, shards, created_at (immutable)
    jobs/<id>/inputs/<shard>.json       one shard's inputs, written before the job is queued (immutable)
    jobs/<id>/started.json              when the job's first attempt started (the first write wins)
    jobs/<id>/attempts/<shard>/<n>      attempt n of a shard: empty while it runs, its error once it failed
    jobs/<id>/outputs/<shard>.json      one shard's outputs (the first write wins)
    jobs/<id>/result.json               the whole result, assembled once every shard has outputs (first wins;
                                        its user metadata ``finished-at`` says when)
    jobs/<id>/failed.json               why the job failed, and when (first wins)
    jobs/<id>/dead-letters/<shard>-<message id>.json
                                        a shard's message as it reached the dead-letter queue (first wins)
    uploads/<upload id>.json            a client's upload of inputs, before a job refers to it

The bucket's lifecycle rule expires everything after the configured number of days."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

JOBS_PREFIX = "jobs/"
UPLOADS_PREFIX = "uploads/"
FINISHED_AT_METADATA = "finished-at"  # the result's user metadata: when the job finished
_ID = re.compile(r"[0-9a-f]{32}")
_SHARD_DIGITS = 5  # zero-padded, so that keys list in shard order


def new_id() -> str:
    """A job or upload id: 128 random bits, unguessable, so knowing an id is what grants reading its job."""
    return secrets.token_hex(16)


def is_valid_id(value: object) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def upload_key(upload_id: str) -> str:
    return f"{UPLOADS_PREFIX}{upload_id}.json"


@dataclass(frozen=True)
class JobKeys:
    job_id: str

    @property
    def prefix(self) -> str:
        return f"{JOBS_PREFIX}{self.job_id}/"

    @property
    def request(self) -> str:
        return f"{self.prefix}job.json"

    @property
    def result(self) -> str:
        return f"{self.prefix}result.json"

    @property
    def failed(self) -> str:
        return f"{self.prefix}failed.json"

    @property
    def started(self) -> str:
        return f"{self.prefix}started.json"

    def dead_letter(self, shard: int, message_id: str) -> str:
        safe_id = re.sub(r"[^A-Za-z0-9-]", "_", message_id)[:128]  # SQS's ids are UUIDs; never a path
        return f"{self.prefix}dead-letters/{shard:0{_SHARD_DIGITS}d}-{safe_id}.json"

    def inputs(self, shard: int) -> str:
        return f"{self.prefix}inputs/{shard:0{_SHARD_DIGITS}d}.json"

    def outputs(self, shard: int) -> str:
        return f"{self.prefix}outputs/{shard:0{_SHARD_DIGITS}d}.json"

    def attempt(self, shard: int, attempt: int) -> str:
        return f"{self.prefix}attempts/{shard:0{_SHARD_DIGITS}d}/{attempt}"

    def outputs_shard(self, key: str) -> int | None:
        """The shard whose outputs ``key`` holds, or None if it holds none."""
        match = re.fullmatch(rf"{re.escape(self.prefix)}outputs/(\d+)\.json", key)
        return int(match.group(1)) if match else None

    def attempt_of(self, key: str) -> tuple[int, int] | None:
        """(shard, attempt) of an attempt key, or None for any other key."""
        match = re.fullmatch(rf"{re.escape(self.prefix)}attempts/(\d+)/(\d+)", key)
        return (int(match.group(1)), int(match.group(2))) if match else None
