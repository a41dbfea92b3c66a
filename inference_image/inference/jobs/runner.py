"""One shard of a job, run by the worker: at least once, and idempotent.

A delivery of a finished shard, or of a shard of a finished job, does nothing. Outputs and the
result are written once (a conditional put): a duplicate or a retry that races another computes the
same outputs from the same inputs and version, and its write is simply refused. The shard that
completes the job assembles the result, streaming the stored outputs' bytes into it (a maximum job's
result is far larger than the worker's memory); a worker that dies after writing its outputs leaves the
assembly to its retry, or to the next shard that finishes."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from inference import json_bytes
from inference.errors import ServiceError
from inference.jobs.layout import FINISHED_AT_METADATA, JobKeys
from inference.jobs.messages import ShardMessage
from inference.jobs.service import JobRequest, iso, read_request
from inference.jobs.store import JobStore

logger = logging.getLogger(__name__)

# (model, version, inputs) -> one output per input: the registry's generic predict, whatever the model type.
Predict = Callable[[str, str, list[Any]], list[Any]]


class AttemptFailed(Exception):
    """This attempt failed in a way another attempt may not: the message is to be delivered again."""


@dataclass(frozen=True)
class ShardRun:
    store: JobStore
    predict: Predict
    max_attempts: int
    now: Callable[[], Any]

    def run(self, message: ShardMessage, attempt: int) -> str:
        """What happened: ``done``, ``skipped`` (nothing left to do) or ``failed`` (for good). Raises
        AttemptFailed when a retry may succeed."""
        keys = JobKeys(message.job_id)
        job = read_request(self.store, message.job_id)
        if job is None or message.shard >= job.shards:
            logger.warning("no such job or shard (expired?): %s shard %s", message.job_id, message.shard)
            return "skipped"
        present = {item.key for item in self.store.list(keys.prefix) if keys.attempt_of(item.key) is None}
        if self._finished(job, message.shard, present):
            return "skipped"
        if keys.started not in present:  # the job's first attempt: the first write wins
            self.store.put_json_once(keys.started, {"at": iso(self.now())})
        self.store.put(keys.attempt(message.shard, attempt), b"")  # the attempt has started
        try:
            outputs = self._outputs(job, message.shard)
            self.store.put_json_once(keys.outputs(message.shard), outputs)
            self._assemble_if_complete(job)
        except ServiceError as error:
            if error.status < 500:  # the model refuses this job: every attempt would
                self._record(keys, message.shard, attempt, f"{error.code}: {error.message}", "model_refused")
                return "failed"
            self._retry_or_fail(keys, message.shard, attempt, f"{error.code}: {error.message}")
        except Exception as error:
            self._retry_or_fail(keys, message.shard, attempt, f"{type(error).__name__}: {error}")
        return "done"

    def _finished(self, job: JobRequest, shard: int, present: set[str]) -> bool:
        """Whether the job has ended or this shard has outputs, from one listing of the job's objects."""
        keys = JobKeys(job.job_id)
        if keys.result in present or keys.failed in present:
            return True
        if keys.outputs(shard) in present:
            self._assemble_if_complete(job)  # its first run may have died before assembling
            return True
        return False

    def _outputs(self, job: JobRequest, shard: int) -> list[Any]:
        inputs = self.store.get_json(JobKeys(job.job_id).inputs(shard))
        if not isinstance(inputs, list):
            raise RuntimeError(f"the inputs of shard {shard} are missing from the job bucket")
        return self.predict(job.model, job.version, inputs)

    def _assemble_if_complete(self, job: JobRequest) -> None:
        keys = JobKeys(job.job_id)
        finished = {
            shard
            for item in self.store.list(f"{keys.prefix}outputs/")
            if (shard := keys.outputs_shard(item.key)) is not None
        }
        if len(finished) < job.shards:
            return
        metadata = {FINISHED_AT_METADATA: iso(self.now())}
        if self.store.put_once_from(keys.result, self._result_bytes(job), metadata):
            logger.info("job %s succeeded: %d outputs", job.job_id, job.total)

    def _result_bytes(self, job: JobRequest) -> Iterator[bytes]:
        """The result, ``{"job_id", "model", "version", "outputs": [...]}``, as the stored shards' outputs joined
        byte for byte (each a JSON list, written compact by json_bytes): one shard's bytes in memory at a time,
        never a parsed output."""
        keys = JobKeys(job.job_id)
        header = json_bytes.dumps({"job_id": job.job_id, "model": job.model, "version": job.version, "outputs": []})
        yield header[: -len(b"]}")]
        for shard in range(job.shards):
            stored = self.store.get(keys.outputs(shard))
            if stored is None or stored[:1] != b"[" or stored[-1:] != b"]":
                raise RuntimeError(f"the outputs of shard {shard} are missing or not a JSON list")
            if shard:
                yield b","
            yield stored[1:-1]
        yield b"]}"

    def _retry_or_fail(self, keys: JobKeys, shard: int, attempt: int, reason: str) -> None:
        code = "attempts_exhausted" if attempt >= self.max_attempts else "attempt_failed"
        self._record(keys, shard, attempt, reason, code)
        raise AttemptFailed(reason)

    def _record(self, keys: JobKeys, shard: int, attempt: int, reason: str, code: str) -> None:
        """Note why the attempt failed; unless a retry may still succeed, the job has failed too."""
        message = f"shard {shard}: attempt {attempt} of {self.max_attempts} failed: {reason}"
        logger.warning("job %s %s", keys.job_id, message)
        record = {"code": code, "message": message, "at": iso(self.now())}
        self.store.put(keys.attempt(shard, attempt), json.dumps(record).encode())
        if code != "attempt_failed":
            self.store.put_json_once(keys.failed, record)
