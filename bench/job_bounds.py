"""Benchmark 12, the jobs' bounds (issues 17 and 19): how long a MiniLM shard takes, which sizes the worker's
default timeout and shard size; and the peak memory of the two costliest inputs of jobs, a maximum job's
assembly and a hostile upload's parse, before and after they were bounded.

- Shard time: the worker's own path (``ModelRegistry.predict_outputs``) on one shard of everyday sentences and
  on one of MiniLM's longest inputs (texts cut at 256 tokens), one intra-op thread, median of ``--runs``.
- Assembly: ``testing.job_assembly_peak`` (the worker's assembly over a synthetic bucket) for a job of
  ``jobsMaxInputs`` embeddings; "before" runs the runner of commit ``BEFORE_COMMIT`` in the same harness.
- Upload: ``testing.job_submit_peak`` (the jobs function's submit, against moto's server) on a 20 MB upload of
  ``[[[]],...]`` and on an honest upload of the maximum digits job; "before" is what the old submit did with
  it, ``json.loads`` of the whole body.

Each peak is a child process's own (VmHWM, reset after its warm-up).

    python -m bench.job_bounds [--runs R] [--inputs N]

Needs models/minilm (`make minilm`)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.minilm import MINILM, sentences
from bench.report import publish, table, target_line
from inference.jobs.layout import new_id, upload_key
from inference.jobs.settings import VISIBILITY_TIMEOUT_FACTOR, JobSettings
from inference.models.publishing import publish_version
from inference.models.registry import ModelRegistry
from infra.config.schema import JobsConfig

REPO = Path(__file__).resolve().parents[1]
BEFORE_COMMIT = "06c1051"  # the last commit whose worker assembled a result by parsing every output
LAMBDA_MB_PER_VCPU = 1769  # Lambda gives one vCPU's share at 1,769 MB, in proportion below and above
HEADROOM_TARGET = 5
DLQ_TARGET_SECONDS = 3600
LONGEST_TEXT = ("The quick brown fox jumps over the lazy dog near the riverbank while the children play. " * 200)[
    :16_000
]  # well past 256 tokens: MiniLM sees its first 256, the most any input costs
_PARSE_BEFORE = """
import json, sys
from testing.peak_child import Meter
body = open(sys.argv[1], "rb").read()
with Meter() as meter:
    json.loads(body)
print(json.dumps(meter.result("parsed")))
"""


def _child(*command: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env, check=True, timeout=1800)
    measured: dict[str, Any] = json.loads(done.stdout)
    return measured


def _growth(measured: dict[str, Any]) -> float:
    return float(measured["request_mb"])


def shard_seconds(folder: Path, shard_size: int, runs: int) -> dict[str, float]:
    """Median seconds of one shard of everyday sentences and of one of the longest inputs."""
    models = folder / "models"
    publish_version(MINILM, models, "minilm")
    registry = ModelRegistry(models, "minilm", threads=1)
    version = registry.predict("minilm", ["warm up"])["version"]
    shards = {"everyday sentences": sentences(shard_size), "longest inputs (256 tokens)": [LONGEST_TEXT] * shard_size}
    timings: dict[str, float] = {}
    for name, texts in shards.items():
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            registry.predict_outputs("minilm", version, texts)
            samples.append(time.perf_counter() - started)
        timings[name] = statistics.median(samples)
    return timings


def assembly_peaks(inputs: int, shard_size: int, folder: Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(after, before): the current assembly's measurement, and BEFORE_COMMIT's (None without git history)."""
    after = _child(
        sys.executable, "-m", "testing.job_assembly_peak", "--inputs", str(inputs), "--shard-size", str(shard_size)
    )
    old_runner = folder / "runner_before.py"
    shown = subprocess.run(
        ["git", "show", f"{BEFORE_COMMIT}:inference_image/inference/jobs/runner.py"],
        capture_output=True,
        cwd=REPO,
        check=False,
    )
    if shown.returncode != 0:
        return after, None
    old_runner.write_bytes(shown.stdout)
    before = _child(
        sys.executable,
        *("-m", "testing.job_assembly_peak", "--inputs", str(inputs), "--shard-size", str(shard_size)),
        *("--runner", str(old_runner)),
    )
    return after, before


def upload_peaks(folder: Path) -> dict[str, dict[str, Any]]:
    """hostile/honest x before/after, on moto's server with the stack's defaults."""
    import boto3

    from inference.jobs.store import s3_client
    from local.aws_server import client_env, moto_command, wait_until_answers
    from local.job_resources import provision
    from testing.local_stack import free_port

    port = free_port()
    server = subprocess.Popen(moto_command("127.0.0.1", port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_answers("127.0.0.1", port, server)
        aws = client_env("127.0.0.1", port)
        os.environ.update(aws)
        digits = REPO / "models" / "digits"
        resources = provision(s3_client(), boto3.client("sqs"), JobSettings(bucket="-"), [("digits", digits)])
        settings = resources.settings
        env = {**os.environ, **settings.to_env(), "DEFAULT_MODEL": "digits"}
        limit = settings.max_upload_bytes
        rows = [[(row + column) % 17 for column in range(64)] for row in range(settings.max_inputs)]
        bodies = {
            "hostile": b"[" + b"[[]]," * ((limit - 6) // 5) + b"[[]]]",
            "honest": json.dumps(rows, separators=(",", ":")).encode(),
        }
        measured: dict[str, dict[str, Any]] = {}
        for name, body in bodies.items():
            path = folder / f"{name}.json"
            path.write_bytes(body)
            upload_id = new_id()  # put as the upload form would
            s3_client().put_object(Bucket=settings.bucket, Key=upload_key(upload_id), Body=body)
            warm_up = json.dumps(rows[:2])
            after = _child(sys.executable, "-m", "testing.job_submit_peak", upload_id, "--warm-up", warm_up, env=env)
            before = _child(sys.executable, "-c", _PARSE_BEFORE, str(path))
            measured[name] = {"bytes": len(body), "after": after, "before": before}
        return measured
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each shard (median)")
    parser.add_argument("--inputs", type=int, default=JobSettings.max_inputs, help="inputs of the assembled job")
    args = parser.parse_args()
    defaults, config = JobSettings(bucket="-"), JobsConfig()
    timeout, shard_size = defaults.worker_timeout_seconds, defaults.shard_size
    worker_vcpus = config.worker_memory_mb / LAMBDA_MB_PER_VCPU
    with tempfile.TemporaryDirectory(prefix="bench-job-bounds-") as name:
        folder = Path(name)
        timings = shard_seconds(folder, shard_size, args.runs)
        assembly_after, assembly_before = assembly_peaks(args.inputs, shard_size, folder)
        uploads = upload_peaks(folder)

    worst = max(timings.values())
    headroom = timeout / worst
    per_text = worst / shard_size
    largest_fitting = int(timeout / HEADROOM_TARGET / per_text)
    dead_letter_seconds = defaults.max_attempts * VISIBILITY_TIMEOUT_FACTOR * timeout
    old_dead_letter_seconds = defaults.max_attempts * VISIBILITY_TIMEOUT_FACTOR * 900
    shard_rows = [
        [kind, shard_size, f"{seconds:.2f}", f"{timeout / seconds:.1f}x"] for kind, seconds in timings.items()
    ]
    half_worker = config.worker_memory_mb / 2
    assembly_growth = _growth(assembly_after)
    before_growth = _growth(assembly_before) if assembly_before else None
    result_mb = assembly_after["result_bytes"] / 1e6
    hostile, honest = uploads["hostile"], uploads["honest"]
    memory_rows = [
        [
            f"a maximum job's assembly ({args.inputs:,} MiniLM embeddings, a {result_mb:,.0f} MB result)",
            f"worker, {config.worker_memory_mb:,} MB",
            "n/a" if before_growth is None else f"+{before_growth:,.0f} MB",
            f"+{assembly_growth:,.0f} MB",
            f"< {half_worker:,.0f} MB (half the worker)",
        ],
        [
            f"a hostile upload's parse ({hostile['bytes'] / 2**20:.0f} MiB of `[[[]],...]`)",
            "jobs function, 1,024 MB",
            f"+{_growth(hostile['before']):,.0f} MB",
            f"+{_growth(hostile['after']):,.0f} MB (refused unparsed: {hostile['after']['code']})",
            f"<= an honest upload's: +{_growth(honest['after']):,.0f} MB",
        ],
        [
            f"an honest upload ({honest['bytes'] / 2**20:.1f} MiB: the maximum digits job)",
            "jobs function, 1,024 MB",
            f"+{_growth(honest['before']):,.0f} MB (its parse alone)",
            f"+{_growth(honest['after']):,.0f} MB (parsed, checked, stored: {honest['after']['status']})",
            "the reference",
        ],
    ]
    body = f"""
**Shard sizing.** One shard of {shard_size} MiniLM inputs through the worker's own path
(`predict_outputs`: the registry's batches of the model's limit), one intra-op thread, median of {args.runs}
(seconds). Scaling to Lambda: the worker has {config.worker_memory_mb:,} MB, so {worker_vcpus:.2f} vCPUs' share
(1 vCPU per {LAMBDA_MB_PER_VCPU:,} MB); one vCPU is taken as one core of this machine and the extra
{worker_vcpus - 1:.2f} is not counted, so the times below are what the worker takes at most on x86_64 (Graviton
is not measured here). Headroom is the {timeout} s worker timeout over the shard's time.

{table(["shard of", "inputs", "seconds", "headroom"], shard_rows)}

{
        target_line(
            f"a shard fits the worker timeout with {HEADROOM_TARGET}x headroom",
            headroom >= HEADROOM_TARGET,
            f"{headroom:.1f}x for the longest inputs; shards of up to {largest_fitting} of them would keep "
            f"{HEADROOM_TARGET}x",
        )
    }
{
        target_line(
            "with default settings a failing shard reaches the DLQ within an hour",
            dead_letter_seconds <= DLQ_TARGET_SECONDS,
            f"{defaults.max_attempts} attempts x {VISIBILITY_TIMEOUT_FACTOR} x {timeout} s = "
            f"{dead_letter_seconds / 60:.0f} min, then seconds to `failed` through the dead-letter consumer; "
            f"{old_dead_letter_seconds / 3600:.1f} h with the old 900 s timeout",
        )
    }

**Peak memory of the jobs' costliest inputs**, each in a child process of its own (growth of the peak resident
set over what the process held before the measured call; "before" is the code before these bounds: the
assembly of commit {BEFORE_COMMIT}, and the old submit's `json.loads` of the whole upload).

{table(["input kind, worst case", "function", "peak before", "peak after", "bound"], memory_rows)}

{
        target_line(
            "a maximum MiniLM job's assembly under half the worker's memory",
            assembly_growth < half_worker,
            f"+{assembly_growth:,.0f} MB against {half_worker:,.0f} MB"
            + ("" if before_growth is None else f"; +{before_growth:,.0f} MB before"),
        )
    }
{
        target_line(
            "a hostile upload costs no more than an honest upload of its kind",
            _growth(hostile["after"]) <= _growth(honest["after"]),
            f"+{_growth(hostile['after']):,.0f} MB against +{_growth(honest['after']):,.0f} MB; "
            f"+{_growth(hostile['before']):,.0f} MB before",
        )
    }
"""
    publish("job_bounds", "12. Jobs: shard sizing and memory bounds", body)


if __name__ == "__main__":
    main()
