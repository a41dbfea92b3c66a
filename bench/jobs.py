"""Benchmark 10, async jobs on the local stack (moto's S3/SQS server, the job poller and its worker
processes, the real handler behind local.server), with the MiniLM embedding model:

- job overhead: submit-to-start latency, and submit-to-result time against the same sentences sent
  synchronously to POST /models/minilm/predict in batches of 128 (the model's limit), one after the other,
  with one job worker, so that both paths have the same CPU;
- throughput of one 10,000-sentence job (in shards of the default size) with 1, 2 and 4 local workers.

Every model session runs one intra-op thread (MODEL_THREADS=1), as on a 1,769 MB Lambda (one vCPU).

    python -m bench.jobs [--runs R] [--inputs N] [--job-inputs M]

Needs models/minilm (`make minilm`)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.minilm import MINILM, sentences
from bench.report import ms, publish, ratio, table
from bench.workload import prepare_data_dir
from inference.jobs.settings import JobSettings
from inference.models.publishing import publish_version
from local.job_stack import local_jobs
from testing.local_stack import call, free_port, start_server, stop

MODEL_NAME = "minilm"
SYNC_BATCH = 128  # the model's own limit per request
POLL_SECONDS = 0.02
THROUGHPUT_POLL_SECONDS = 0.25
JOB_TIMEOUT_SECONDS = 300.0
JSON = [("content-type", "application/json")]
SHARD_SIZE = JobSettings.shard_size  # the local stack's, as the stack's default


def _json(reply: Any) -> Any:
    assert 200 <= reply.status < 300, (reply.status, reply.body[:300])
    return json.loads(reply.body)


def sync_seconds(url: str, inputs: list[Any]) -> float:
    started = time.perf_counter()
    for start in range(0, len(inputs), SYNC_BATCH):
        _json(
            call(
                url,
                "POST",
                f"/models/{MODEL_NAME}/predict",
                json.dumps({"inputs": inputs[start : start + SYNC_BATCH]}).encode(),
                headers=JSON,
            )
        )
    return time.perf_counter() - started


def job_seconds(url: str, inputs: list[Any], poll_seconds: float = POLL_SECONDS) -> tuple[float, float, float]:
    """(submit answered, first seen running, result in hand), each in seconds after the submit was sent."""
    started = time.perf_counter()
    accepted = _json(
        call(url, "POST", "/jobs", json.dumps({"model": MODEL_NAME, "inputs": inputs}).encode(), headers=JSON)
    )
    submitted = time.perf_counter() - started
    running = None
    deadline = started + JOB_TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        view = _json(call(url, "GET", accepted["status_url"]))
        if running is None and view["status"] != "queued":
            running = time.perf_counter() - started
        if view["status"] == "failed":
            raise RuntimeError(f"the job failed: {view['error']}")
        if view["status"] == "succeeded":
            if "result_url" in view:  # what a client does next (a presigned S3 URL); inline results came here
                with urllib.request.urlopen(view["result_url"], timeout=JOB_TIMEOUT_SECONDS) as result:
                    json.loads(result.read())
            return submitted, running or submitted, time.perf_counter() - started
        time.sleep(poll_seconds)
    raise RuntimeError(f"the job did not finish within {JOB_TIMEOUT_SECONDS:g} s")


def warm_job_workers(url: str, workers: int) -> None:
    """Several one-input jobs at once, so that every job worker has had its cold start (imports, model load)."""
    submitted = [
        _json(
            call(url, "POST", "/jobs", json.dumps({"model": MODEL_NAME, "inputs": ["warm up"]}).encode(), headers=JSON)
        )
        for _ in range(3 * workers)
    ]
    deadline = time.perf_counter() + JOB_TIMEOUT_SECONDS
    for accepted in submitted:
        while _json(call(url, "GET", accepted["status_url"]))["status"] not in ("succeeded", "failed"):
            if time.perf_counter() > deadline:
                raise RuntimeError("the warm-up jobs did not finish")
            time.sleep(POLL_SECONDS)


def minilm_data_dir(folder: Path) -> Path:
    data_dir = prepare_data_dir(folder)
    publish_version(MINILM, data_dir / "models", MODEL_NAME)
    return data_dir


def overhead(folder: Path, runs: int, count: int) -> list[list[object]]:
    data_dir = minilm_data_dir(folder / "overhead")
    inputs = sentences(count)
    with local_jobs(
        host="127.0.0.1",
        aws_port=free_port(),
        workers=1,
        worker_timeout=120,
        data_dir=data_dir,
        model=(MODEL_NAME, MINILM),
    ) as env:
        os.environ.update(env)  # the API server (and so its workers) reads these
        server = start_server(
            data_dir, folder / "server.log", "--workers", "2", handler="inference.api.handler.lambda_handler"
        )
        try:
            for _ in range(4):  # warm both API workers' models (the server hands requests to either)
                sync_seconds(server.url, inputs[:SYNC_BATCH])
            warm_job_workers(server.url, 1)
            syncs, jobs = [], []
            for _ in range(runs):  # interleaved, so that noise hits both alike
                syncs.append(sync_seconds(server.url, inputs))
                jobs.append(job_seconds(server.url, inputs))
        finally:
            stop(server)
    sync = statistics.median(syncs)
    submitted, started, finished = (statistics.median(values) for values in zip(*jobs, strict=True))
    return [[f"{count:,}", ms(sync), ms(submitted), ms(started), ms(finished), ratio(finished, sync)]]


def throughput(folder: Path, count: int, worker_counts: tuple[int, ...]) -> list[list[object]]:
    inputs = sentences(count)
    rows: list[list[object]] = []
    base = None
    for workers in worker_counts:
        data_dir = minilm_data_dir(folder / f"throughput-{workers}")
        with local_jobs(
            host="127.0.0.1",
            aws_port=free_port(),
            workers=workers,
            worker_timeout=300,
            data_dir=data_dir,
            model=(MODEL_NAME, MINILM),
        ) as env:
            os.environ.update(env)
            server = start_server(
                data_dir,
                folder / f"server-{workers}.log",
                "--workers",
                "2",
                handler="inference.api.handler.lambda_handler",
            )
            try:
                warm_job_workers(server.url, workers)
                # Polled less often: each GET lists the job's objects on the same two cores as the workers.
                _, started, finished = job_seconds(server.url, inputs, THROUGHPUT_POLL_SECONDS)
            finally:
                stop(server)
        base = base or finished
        rows.append([workers, ms(started), f"{finished:.2f}", f"{count / finished:,.0f}", ratio(base, finished)])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions of the overhead comparison (median)")
    parser.add_argument("--inputs", type=int, default=1000, help="inputs of the overhead comparison")
    parser.add_argument("--job-inputs", type=int, default=10_000, help="inputs of the throughput job")
    args = parser.parse_args()
    os.environ["MODEL_THREADS"] = "1"  # read by the API's and the job workers' processes
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as name:
        folder = Path(name)
        costs = overhead(folder, args.runs, args.inputs)
        throughput_rows = throughput(folder, args.job_inputs, (1, 2, 4))
    body = f"""
Job overhead: the same sentences sent synchronously to `POST /models/minilm/predict` in batches of
{SYNC_BATCH} one after the other, and as one job (`POST /jobs`, then `GET /jobs/{{id}}` every
{POLL_SECONDS * 1000:.0f} ms), median of {args.runs}, interleaved. Shards of {SHARD_SIZE} sentences, 1 job worker (so
that the job has the CPU the synchronous requests have), 2 API workers, one intra-op thread per model session.
Times in ms from sending the submit; "job: result" includes downloading the result from its presigned URL (it
is over the inline limit).

{table(["sentences", "sync total", "job: 202 answered", "job: seen running", "job: result", "job / sync"], costs)}

Throughput: one job of {args.job_inputs:,} MiniLM sentences in shards of {SHARD_SIZE}, with 1, 2 and 4 local job
workers (each a Lambda-like worker process fed by the poller, one intra-op thread), polled every
{THROUGHPUT_POLL_SECONDS * 1000:.0f} ms; "seen running" in ms, the result in s. This machine has 2 cores: on
Lambda each worker has its own vCPUs, so workers past 2 cannot add speed here.

{table(["job workers", "seen running (ms)", "result (s)", "inputs/s", "speed-up"], throughput_rows)}
"""
    publish("jobs", "10. Async jobs", body)


if __name__ == "__main__":
    main()
