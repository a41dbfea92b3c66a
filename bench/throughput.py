"""Benchmark 4, local stack throughput: the local API (``python -m local.server``, the real handler in worker
processes) under a closed-loop load from 127.0.0.1 — requests/s and p50/p99 latency per endpoint.

    python -m bench.throughput [--seconds S] [--connections C] [--workers W]

Bounded: each endpoint gets a short warm-up and then ``--seconds`` of load; the server is stopped at the end.
The load generator shares the machine's cores with the server, so figures are for comparing endpoints."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from bench import loadgen
from bench.report import ms, publish, table
from bench.workload import digit_rows, prepare_data_dir
from testing.local_stack import start_server, stop

WARM_UP_SECONDS = 1.0


def loads() -> dict[str, loadgen.Load]:
    return {
        "GET /health": loadgen.Load("GET", "/health"),
        "POST /messages": loadgen.Load("POST", "/messages", json.dumps({"text": "load test"}).encode()),
        "POST /predict x1": loadgen.Load("POST", "/predict", json.dumps({"inputs": digit_rows(1)}).encode()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="load per endpoint (default 5 s)")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections (default 4)")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="server worker processes")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
        data_dir = prepare_data_dir(Path(folder) / "data", messages=100)
        server = start_server(
            data_dir,
            Path(folder) / "server.log",
            "--workers",
            str(args.workers),
            handler="inference.api.handler.lambda_handler",
        )
        try:
            for name, load in loads().items():
                loadgen.run(server.url, load, WARM_UP_SECONDS, args.connections)  # every worker warm, model loaded
                results[name] = loadgen.run(server.url, load, args.seconds, args.connections)
                print(f"{name}: {results[name]}", flush=True)
        finally:
            stop(server)
    rows = [
        [name, f"{r.requests_per_second:.0f}", ms(r.p50), ms(r.p99), f"{r.requests:,}", r.failures]
        for name, r in results.items()
    ]
    tool = next(iter(results.values())).tool
    body = "\n\n".join(
        [
            f"`{tool}`, {args.connections} connections, {args.seconds:g} s per endpoint after {WARM_UP_SECONDS:g} s "
            f"of warm-up; the local API with {args.workers} worker processes (the real handler), data on the local "
            "disk (so POST /messages pays real fsyncs). Latencies in ms.",
            table(["endpoint", "requests/s", "p50", "p99", "requests", "non-2xx / errors"], rows),
        ]
    )
    publish("throughput", "4. Local stack throughput", body)


if __name__ == "__main__":
    main()
