"""Runs every benchmark, each in its own fresh process, and records each table in BENCHMARKS.md.

    python -m bench.run_all [--quick] [--only cold_start,store_scaling]

The full run takes a few minutes on 2 cores; ``--quick`` shrinks every size (stores up to 100k messages,
shorter loads, fewer repetitions) to check that the scripts work: it prints the tables but does not record
them in BENCHMARKS.md."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from bench.report import BENCHMARKS, RECORD_ENV, REPO

# name -> extra arguments in quick mode
QUICK_ARGS: dict[str, list[str]] = {
    "cold_start": ["--runs", "3"],
    "warm_overhead": ["--requests", "300"],
    "store_scaling": ["--sizes", "1000,10000,100000", "--posts", "100"],
    "throughput": ["--seconds", "2"],
    "mock_evaluation": ["--runs", "1"],
    "image_weight": ["--importtime-runs", "3"],
    "minilm": ["--requests", "40", "--seconds", "2", "--cold-runs", "2"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the scripts, not for publishing")
    parser.add_argument("--only", default="", help="comma-separated benchmark names (default: all)")
    args = parser.parse_args()
    names = [name for name in args.only.split(",") if name] or list(QUICK_ARGS)
    unknown = set(names) - set(QUICK_ARGS)
    if unknown:
        parser.error(f"unknown benchmarks {sorted(unknown)}; choose from {', '.join(QUICK_ARGS)}")
    failed = []
    started = time.perf_counter()
    for name in names:
        extra = QUICK_ARGS[name] if args.quick else []
        print(f"\n=== bench.{name} {' '.join(extra)}", flush=True)
        begun = time.perf_counter()
        env = {**os.environ, RECORD_ENV: "0"} if args.quick else None
        result = subprocess.run([sys.executable, "-m", f"bench.{name}", *extra], cwd=REPO, env=env, check=False)
        print(
            f"=== bench.{name}: {'ok' if result.returncode == 0 else 'FAILED'} in {time.perf_counter() - begun:.0f} s"
        )
        if result.returncode != 0:
            failed.append(name)
    print(
        f"\n{len(names) - len(failed)}/{len(names)} benchmarks done in {time.perf_counter() - started:.0f} s; "
        + ("not recorded (quick run)" if args.quick else f"tables in {BENCHMARKS.relative_to(REPO)}")
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
