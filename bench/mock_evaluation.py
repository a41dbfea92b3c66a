"""Benchmark 5, mock evaluation: the time for full-stack runs of the Pulumi program (``__main__.py`` with
every component) under Pulumi's unit-test mocks, as the infra tests run it — no CLI, no engine, no AWS.

    python -m bench.mock_evaluation [--runs N]

Uses the infra tests' harness (``testing/pulumi_mocks.py``). This script runs in a fresh process, so the first
figure includes importing Pulumi and the providers' SDKs."""

from __future__ import annotations

import argparse
import json
import time

from bench.measure import median
from bench.report import REPO, ms, publish, table

STACKS = ("dev", "prod")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per stack after the first (default 3)")
    args = parser.parse_args()
    started = time.perf_counter()
    from testing import pulumi_mocks  # timed: the first run pays for importing Pulumi and the SDKs

    imports = time.perf_counter() - started

    def config(stack: str) -> dict[str, str]:
        models = json.dumps([str(REPO / "models" / "digits"), str(REPO / "models" / "minilm")])
        return {**pulumi_mocks.stack_file_config(stack), f"{pulumi_mocks.PROJECT}:modelDirs": models}

    rows = []
    for stack in STACKS:
        times, resources = [], 0
        for _ in range(args.runs + 1):
            begun = time.perf_counter()
            run = pulumi_mocks.run_program(config(stack), stack)
            times.append(time.perf_counter() - begun)
            resources = len(run.resources)
        rows.append([stack, resources, ms(times[0]), ms(median(times[1:]))])
    body = "\n\n".join(
        [
            f"Importing the harness (Pulumi, pulumi-aws, pulumi-awsx) took {ms(imports)} ms. Then each stack file's "
            f"config ran through the whole program: a first run, then the median of {args.runs} more. Times in ms.",
            table(["stack", "resources registered", "first run", "later runs (median)"], rows),
        ]
    )
    publish("mock_evaluation", "5. Mock evaluation", body)


if __name__ == "__main__":
    main()
