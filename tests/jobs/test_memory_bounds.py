"""Memory bounds of jobs, each measured in a process of its own (ru_maxrss), never by timing: a maximum-size
MiniLM job's assembly stays under half the worker's memory, and a hostile upload's submit costs no more than an
honest upload of the same size."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from inference.jobs.settings import JobSettings
from infra.config.schema import JobsConfig
from tests.jobs.conftest import MakeStack
from tests.jobs.helpers import post_upload

pytestmark = pytest.mark.slow


def _measure(module: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=600, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    measured: dict[str, Any] = json.loads(done.stdout)
    return measured


def test_a_maximum_minilm_jobs_assembly_stays_under_half_the_workers_memory() -> None:
    """jobsMaxInputs (100,000) MiniLM embeddings in default shards, a 789 MB result, assembled by the worker's own
    code: streamed from the stored shards, so its peak is a few parts, not the result twice (2.3 GB before)."""
    defaults = JobSettings(bucket="-")
    measured = _measure(
        "testing.job_assembly_peak", "--inputs", str(defaults.max_inputs), "--shard-size", str(defaults.shard_size)
    )
    assert measured["result_matches"], measured
    assert measured["result_bytes"] > 700_000_000  # it is the maximum job
    assert measured["warm_mb"] + measured["request_mb"] < JobsConfig().worker_memory_mb / 2, measured


def test_a_hostile_uploads_submit_costs_no_more_than_an_honest_upload_of_its_size(make_stack: MakeStack) -> None:
    """20 MB of [[[]],...] (a legal size; json.loads would build 8 million lists, ~800 MB) is refused unparsed,
    with a smaller peak than an honest 20 MB upload of the maximum job of digits, which is accepted."""
    stack = make_stack()
    service = stack.service()
    limit = stack.settings.max_upload_bytes
    hostile = b"[" + b"[[]]," * ((limit - 6) // 5) + b"[[]]]"
    rows = [[(row + column) % 17 for column in range(64)] for row in range(100_000)]
    honest = json.dumps(rows, separators=(",", ":")).encode()
    assert len(hostile) <= limit and len(honest) <= limit
    peaks = {}
    for name, body in (("hostile", hostile), ("honest", honest)):
        upload = service.create_upload()
        assert post_upload(upload, body) == 204
        warm_up = json.dumps(rows[:2])
        peaks[name] = _measure(
            "testing.job_submit_peak", upload["upload_id"], "--warm-up", warm_up, env=stack.worker_env()
        )
    assert (peaks["hostile"]["status"], peaks["hostile"]["code"]) == (400, "invalid_input")
    assert peaks["honest"]["status"] == 202
    growth = {name: peak["request_mb"] for name, peak in peaks.items()}
    assert growth["hostile"] < growth["honest"], peaks
