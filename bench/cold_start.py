"""Benchmark 1, cold start: a fresh process imports a handler and serves its first requests.

    python -m bench.cold_start [--runs N]

Each run starts three fresh interpreters, one per contender, in turn (so drift hits all alike): the bare
function (the floor), this handler, and FastAPI + Mangum doing the same work (the peer). Medians over
the runs; the first round is a discarded warm-up of the page cache."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import median
from bench.report import REPO, ms, publish, ratio, table, target_line
from bench.workload import digit_rows, handler_package, prepare_data_dir
from testing.api_events import http_event, json_event

TARGET_MS = 100.0
# contender -> (the probe's app, whether the handler's package comes byte-compiled)
CONTENDERS = {
    "bare function": ("bare function", True),
    "this handler": ("this handler", True),
    "this handler, no .pyc": ("this handler", False),
    "FastAPI + Mangum": ("FastAPI + Mangum", True),
}
KEYS = ("imports", "first_request", "first_predict", "warm_predict", "process")


def probe(app: str, events_path: Path, data_dir: Path, package_dir: Path) -> dict[str, float]:
    """One fresh interpreter's timings, plus its whole wall time from spawn to exit. Nothing is byte-compiled
    during the run, so each contender always starts with the .pyc files it had."""
    env = {**os.environ, "DATA_DIR": str(data_dir), "PYTHONPATH": str(package_dir), "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "bench.cold_probe", app, str(events_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    wall = time.perf_counter() - started
    line = next((line for line in result.stdout.splitlines() if line.startswith("RESULT ")), None)
    if result.returncode != 0 or line is None:
        raise SystemExit(f"the {app} probe failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return {**json.loads(line.removeprefix("RESULT ")), "process": wall}


def interpreter_start() -> float:
    """Wall time of ``python -c pass``: what every contender pays before its first import."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True, timeout=60)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per contender (default 7)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as folder:
        data_dir = prepare_data_dir(Path(folder) / "data")
        events_path = Path(folder) / "events.json"
        events = {
            "health": http_event("GET", "/health"),
            "predict": json_event("POST", "/predict", {"inputs": digit_rows(1)}),
        }
        events_path.write_text(json.dumps(events))
        packages = {
            compiled: handler_package(Path(folder) / ("compiled" if compiled else "source"), byte_compiled=compiled)
            for compiled in (True, False)
        }
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in CONTENDERS}
        baseline: list[float] = []
        for run in range(args.runs + 1):
            for name, (app, compiled) in CONTENDERS.items():
                timings = probe(app, events_path, data_dir, packages[compiled])
                if run:
                    samples[name].append(timings)
            if run:
                baseline.append(interpreter_start())
    print_and_publish(samples, median(baseline), args.runs)


def print_and_publish(samples: dict[str, list[dict[str, float]]], interpreter: float, runs: int) -> None:
    med = {app: {key: median([run[key] for run in runs_of]) for key in KEYS} for app, runs_of in samples.items()}
    rows = []
    for app, m in med.items():
        init = m["imports"] + m["first_request"]
        model_load = m["first_predict"] - m["warm_predict"]
        rows.append(
            [
                app,
                ms(m["imports"]),
                ms(m["first_request"]),
                ms(init),
                ms(model_load) if app != "bare function" else "-",
                ms(m["warm_predict"]),
                ms(m["process"]),
                ratio(init, med["this handler"]["imports"] + med["this handler"]["first_request"]),
            ]
        )
    handler = med["this handler"]
    handler_init = handler["imports"] + handler["first_request"]
    body = "\n\n".join(
        [
            f"Median of {runs} fresh processes per contender, run in turn. Times in ms. `python -c pass` takes "
            f"{ms(interpreter)} ms here (in every process's total, not in its imports). The handler's package is "
            'byte-compiled (as the image\'s `python -m compileall` step leaves it) except in the "no .pyc" row, '
            "which shows what that step saves: the task root is read-only, so without it those modules would be "
            "compiled on every cold start. Dependencies come with the .pyc files pip wrote when installing them.",
            table(
                [
                    "contender",
                    "imports",
                    "first request (GET /health)",
                    "import + init",
                    "model load (1st - 2nd /predict)",
                    "warm /predict",
                    "process, spawn to exit",
                    "import + init vs this handler",
                ],
                rows,
            ),
            target_line(
                f"handler import + init without the model ≤ {TARGET_MS:.0f} ms",
                handler_init * 1000 <= TARGET_MS,
                f"{ms(handler_init)} ms = imports {ms(handler['imports'])}"
                f" + first request {ms(handler['first_request'])}",
            ),
        ]
    )
    publish("cold_start", "1. Cold start", body)


if __name__ == "__main__":
    main()
