"""The peak memory of assembling a job's result, measured in a process of its own (run as a module).

A job of ``--inputs`` MiniLM embeddings in shards of ``--shard-size`` is laid out in an S3 stand-in that
makes each shard's stored outputs (orjson's bytes of 384-float embeddings, as the worker writes them) on
every read and keeps only a running SHA-256 of what is written: so the process's peak is the assembly's
own, not the stored objects'. The worker's real assembly (``ShardRun._assemble_if_complete``, through
``JobStore``) runs on it, measured by ``testing.peak_child.Meter``; the script prints JSON: the resident set
before the assembly (``warm_mb``), the assembly's own peak above it (``request_mb``), the result's size, and
whether its bytes equal the result's JSON.

    python -m testing.job_assembly_peak --inputs 100000 --shard-size 250 [--runner PATH]

``--runner`` runs another version of ``inference/jobs/runner.py`` (the benchmark's "before")."""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import io
import json
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import orjson

from inference.jobs import runner as current_runner
from inference.jobs.layout import JobKeys
from inference.jobs.service import JobRequest, iso
from inference.jobs.store import JobStore
from testing.peak_child import Meter

JOB_ID = "f" * 32
DIMENSION = 384


class _ClientError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


class _NoSuchKey(_ClientError):
    def __init__(self) -> None:
        super().__init__("NoSuchKey")


class _Exceptions:
    ClientError = _ClientError
    NoSuchKey = _NoSuchKey


def shard_outputs(shard: int, count: int) -> bytes:
    """One shard's stored outputs: ``count`` embeddings of 384 floats, as orjson writes them."""
    rng = random.Random(shard)
    return orjson.dumps([{"embedding": [rng.uniform(-0.2, 0.2) for _ in range(DIMENSION)]} for _ in range(count)])


class SyntheticJobBucket:
    """The few S3 calls the assembly makes, over one job whose shards' outputs are made on each read."""

    exceptions = _Exceptions

    def __init__(self, job: JobRequest) -> None:
        self._job = job
        self._keys = JobKeys(job.job_id)
        self._templates = {
            size: shard_outputs(0, size) for size in {len(job.shard_range(0)), len(job.shard_range(job.shards - 1))}
        }
        self._uploads: dict[str, hashlib._Hash] = {}
        self._sizes: dict[str, int] = {}
        self.written: dict[str, tuple[int, str]] = {}  # key -> (size, sha256)

    def _outputs(self, shard: int) -> bytes:
        return bytes(self._templates[len(self._job.shard_range(shard))])  # a fresh copy, as a real read gives

    def get_paginator(self, name: str) -> Any:
        bucket = self

        class Paginator:
            def paginate(self, Bucket: str, Prefix: str) -> Iterator[dict[str, Any]]:
                keys = [bucket._keys.request] + [bucket._keys.outputs(shard) for shard in range(bucket._job.shards)]
                now = datetime.now(UTC)
                yield {
                    "Contents": [{"Key": key, "Size": 1, "LastModified": now} for key in keys if key.startswith(Prefix)]
                }

        return Paginator()

    def get_object(self, Bucket: str, Key: str, **_: Any) -> dict[str, Any]:
        if Key == self._keys.request:
            return {"Body": io.BytesIO(json.dumps(self._job.to_dict()).encode())}
        shard = self._keys.outputs_shard(Key)
        if shard is None:
            raise _NoSuchKey()
        return {"Body": io.BytesIO(self._outputs(shard))}

    def put_object(self, Bucket: str, Key: str, Body: bytes, **kwargs: Any) -> dict[str, Any]:
        if kwargs.get("IfNoneMatch") == "*" and Key in self.written:
            raise _ClientError("PreconditionFailed")
        self.written[Key] = (len(Body), hashlib.sha256(Body).hexdigest())
        return {}

    def create_multipart_upload(self, Bucket: str, Key: str, **_: Any) -> dict[str, Any]:
        self._uploads[Key], self._sizes[Key] = hashlib.sha256(), 0
        return {"UploadId": f"upload-{Key}"}

    def upload_part(self, Bucket: str, Key: str, UploadId: str, PartNumber: int, Body: bytes) -> dict[str, Any]:
        self._uploads[Key].update(Body)  # parts come in order: the running hash is the object's
        self._sizes[Key] += len(Body)
        return {"ETag": f'"{PartNumber}"'}

    def complete_multipart_upload(self, Bucket: str, Key: str, **kwargs: Any) -> dict[str, Any]:
        if kwargs.get("IfNoneMatch") == "*" and Key in self.written:
            raise _ClientError("PreconditionFailed")
        self.written[Key] = (self._sizes.pop(Key), self._uploads.pop(Key).hexdigest())
        return {}

    def abort_multipart_upload(self, Bucket: str, Key: str, UploadId: str) -> dict[str, Any]:
        self._uploads.pop(Key, None)
        return {}

    def expected_result(self) -> tuple[int, str]:
        """The size and SHA-256 of the job's result as JSON, computed a shard at a time."""
        digest, size = hashlib.sha256(), 0
        head = orjson.dumps({"job_id": self._job.job_id, "model": self._job.model, "version": self._job.version})
        for shard in range(-1, self._job.shards + 1):
            if shard == -1:
                piece = head[:-1] + b',"outputs":['
            elif shard == self._job.shards:
                piece = b"]}"
            else:
                piece = (b"," if shard else b"") + self._outputs(shard)[1:-1]
            digest.update(piece)
            size += len(piece)
        return size, digest.hexdigest()


def _runner_module(path: str | None) -> ModuleType:
    if not path:
        return current_runner
    spec = importlib.util.spec_from_file_location("inference.jobs.runner_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--shard-size", type=int, default=250)
    parser.add_argument("--runner", default="", help="the runner module's file to measure (default: this tree's)")
    args = parser.parse_args(argv)
    job = JobRequest(JOB_ID, "minilm", "1", args.inputs, args.shard_size, iso(datetime.now(UTC)))
    bucket = SyntheticJobBucket(job)
    runner = _runner_module(args.runner)
    run = runner.ShardRun(JobStore(bucket, "jobs"), lambda *_: [], 3, lambda: datetime.now(UTC))
    expected = bucket.expected_result()  # also warms every code path the assembly shares
    with Meter() as meter:
        run._assemble_if_complete(job)
    written = bucket.written.get(JobKeys(JOB_ID).result)
    measured = meter.result("assembled" if written else "not written")
    json.dump({**measured, "result_bytes": expected[0], "result_matches": written == expected}, sys.stdout)


if __name__ == "__main__":
    main()
