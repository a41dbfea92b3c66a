"""Runs every benchmark, each in its own fresh process, and records each table in BENCHMARKS.md.

    python -m bench.run_all [--quick] [--only cold_start,store_scaling]

The full run takes a few minutes on 2 cores; ``--quick`` shrinks every size (stores up to 100k messages,
shorter loads, fewer repetitions) to check that the scripts work: it prints the tables but does not record
them in BENCHMARKS.md. Only the tables and a summary reach the terminal: everything else a benchmark prints
(progress, the handler's own JSON logs and EMF metric lines) goes to test-artifacts/bench/<name>.log."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.report import BENCHMARKS, RECORD_ENV, REPO, TABLES_ENV

LOG_DIR = REPO / "test-artifacts" / "bench"
_TARGET = re.compile(r"\*\*Target — (.+?): (met|missed)\b")
_FAILURE_TAIL_LINES = 40

# name -> extra arguments in quick mode
QUICK_ARGS: dict[str, list[str]] = {
    "cold_start": ["--runs", "3"],
    "warm_overhead": ["--requests", "300"],
    "store_scaling": ["--sizes", "1000,20000,100000", "--posts", "100"],
    "throughput": ["--seconds", "2"],
    "mock_evaluation": ["--runs", "1"],
    "image_weight": ["--importtime-runs", "3"],
    "syscalls": ["--sizes", "1000,20000,100000", "--requests", "5"],
    "concurrency": ["--seconds", "1"],
    "jobs": ["--runs", "1", "--inputs", "300", "--job-inputs", "2000"],
    "minilm": ["--requests", "40", "--seconds", "2", "--cold-runs", "2"],
    "job_bounds": ["--runs", "1", "--inputs", "5000"],
    "worst_case_memory": ["--no-before", "--kinds", "image"],
    "bring_your_own": ["--runs", "2"],
}


@dataclass(frozen=True)
class Outcome:
    returncode: int
    tables: str  # the sections the benchmark published, as printed
    targets: list[tuple[str, bool]]  # (target, met)
    log: Path  # everything else it printed


def run_benchmark(module: str, arguments: list[str], *, record: bool, log_dir: Path = LOG_DIR) -> Outcome:
    """Run ``python -m module`` in a fresh process; its output goes to ``log_dir``, its tables come back."""
    log_dir.mkdir(parents=True, exist_ok=True)
    name = module.rsplit(".", 1)[-1]
    log, tables = log_dir / f"{name}.log", log_dir / f"{name}.tables.md"
    tables.write_text("", encoding="utf-8")
    env = {**os.environ, TABLES_ENV: str(tables), **({} if record else {RECORD_ENV: "0"})}
    with log.open("wb") as output:
        result = subprocess.run(
            [sys.executable, "-m", module, *arguments],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        )
    text = tables.read_text(encoding="utf-8")
    targets = [(found.group(1), found.group(2) == "met") for found in _TARGET.finditer(text)]
    return Outcome(result.returncode, text, targets, log)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the scripts, not for publishing")
    parser.add_argument("--only", default="", help="comma-separated benchmark names (default: all)")
    args = parser.parse_args()
    names = [name for name in args.only.split(",") if name] or list(QUICK_ARGS)
    unknown = set(names) - set(QUICK_ARGS)
    if unknown:
        parser.error(f"unknown benchmarks {sorted(unknown)}; choose from {', '.join(QUICK_ARGS)}")
    failed: list[str] = []
    targets: list[tuple[str, bool]] = []
    started = time.perf_counter()
    for name in names:
        extra = QUICK_ARGS[name] if args.quick else []
        print(f"\n=== bench.{name} {' '.join(extra)}".rstrip(), flush=True)
        begun = time.perf_counter()
        outcome = run_benchmark(f"bench.{name}", extra, record=not args.quick)
        print(outcome.tables.rstrip(), flush=True)
        if outcome.returncode != 0:
            failed.append(name)
            tail = outcome.log.read_text(errors="replace").splitlines()[-_FAILURE_TAIL_LINES:]
            print("\n".join(["--- the end of its output:", *tail]), flush=True)
        targets += outcome.targets
        verdict = "ok" if outcome.returncode == 0 else f"FAILED (exit {outcome.returncode})"
        print(f"=== bench.{name}: {verdict} in {time.perf_counter() - begun:.0f} s", flush=True)
    print(summary(names, failed, targets, args.quick, time.perf_counter() - started))
    return 1 if failed else 0


def summary(names: list[str], failed: list[str], targets: list[tuple[str, bool]], quick: bool, seconds: float) -> str:
    missed = [target for target, met in targets if not met]
    lines = [
        "",
        "=== Summary",
        f"Benchmarks: {len(names) - len(failed)}/{len(names)} ran to the end in {seconds:.0f} s"
        + (f"; FAILED: {', '.join(failed)}" if failed else "."),
        f"Targets: {len(targets) - len(missed)} met, {len(missed)} missed"
        + (f" ({'; '.join(missed)})" if missed else "")
        + ". A missed target is a measured result to report, not a failure: it does not change the exit status.",
        "Tables: " + ("not recorded (quick run)." if quick else f"recorded in {BENCHMARKS.relative_to(REPO)}."),
        f"Full output of each benchmark (progress, the handler's logs and metrics): {LOG_DIR.relative_to(REPO)}/",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
