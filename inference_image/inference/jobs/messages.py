"""The queue's message body: which job, and which shard of it. Never inputs: those stay in S3."""

from __future__ import annotations

import json
from dataclasses import dataclass

from inference.jobs.layout import is_valid_id


class BadMessage(ValueError):
    """A message that names no job: it can never succeed, so the worker drops it (with a log line)."""


@dataclass(frozen=True)
class ShardMessage:
    job_id: str
    shard: int

    def to_body(self) -> str:
        return json.dumps({"job_id": self.job_id, "shard": self.shard})

    @classmethod
    def from_body(cls, body: str) -> ShardMessage:
        try:
            data = json.loads(body)
        except ValueError as error:
            raise BadMessage(f"the message is not JSON: {error}") from error
        if not isinstance(data, dict) or not is_valid_id(data.get("job_id")):
            raise BadMessage("the message names no job id")
        shard = data.get("shard")
        if not isinstance(shard, int) or isinstance(shard, bool) or shard < 0:
            raise BadMessage(f"the message's shard must be a non-negative integer, got {shard!r}")
        return cls(str(data["job_id"]), shard)
