"""Benchmark 2, warm overhead: per-request time through this handler (and the FastAPI + Mangum peer) once
everything is loaded, and /predict against raw onnxruntime ``session.run`` on the same inputs.

    python -m bench.warm_overhead [--requests N]

The data folder is on tmpfs (/dev/shm) so that fsync costs next to nothing: this measures the code's
overhead, not the disk (benchmark 3 measures the disk). Samples are taken in interleaved rounds."""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.measure import median, percentile, timed
from bench.report import publish, ratio, table, target_line, us
from bench.workload import MODEL_NAME, digit_rows, events, prepare_data_dir
from testing.lambda_context import FakeLambdaContext

TARGET_OVERHEAD = 0.10
HEALTH_TARGET_US = 150.0
ROUNDS = 5
BATCHES = (1, 32)
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="timed requests per kind (default 1000)")
    args = parser.parse_args()
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(prefix="bench-warm-", dir=shm) as folder:
        data_dir = prepare_data_dir(Path(folder) / "data", messages=1000)
        os.environ["DATA_DIR"] = str(data_dir)  # read by both apps' settings at import
        from bench import peer_app
        from inference.api import handler
        from inference.models.pointer import read_latest
        from inference.models.registry import ModelRegistry
        from inference.models.runtime import load_model

        version = read_latest(data_dir / "models" / MODEL_NAME) or "2"
        loaded = load_model(data_dir / "models" / MODEL_NAME / version, MODEL_NAME, version)
        results = measure(
            {"this handler": handler.lambda_handler, "FastAPI + Mangum": peer_app.lambda_handler},
            loaded,
            ModelRegistry(data_dir / "models", default_model=MODEL_NAME),  # no metrics sink: the bare logic
            args.requests,
        )
    print_and_publish(results, args.requests)


def measure(apps: dict[str, Handler], loaded: Any, registry: Any, requests: int) -> dict[tuple[str, str], list[float]]:
    """Seconds per call, keyed by (contender, request)."""
    import numpy as np

    context = FakeLambdaContext()
    calls: dict[tuple[str, str], Callable[[], object]] = {}
    for app_name, app in apps.items():
        for request_name, event in events(BATCHES).items():
            calls[(app_name, request_name)] = _checked(app, event, context)
    spec = loaded.metadata
    for batch in BATCHES:
        rows = digit_rows(batch)
        array = np.asarray(rows, dtype=spec.input.dtype).reshape(batch, *spec.input.row_shape)
        name = f"POST /predict x{batch}"
        calls[("raw onnxruntime session.run", name)] = partial(
            loaded.session.run, [spec.probabilities_output], {spec.input.name: array}
        )
        calls[("ModelRegistry.predict", name)] = partial(registry.predict, None, rows)
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in calls}
    for call in calls.values():
        timed(call, 20)  # warm-up: caches, lazy imports, the first model load
    for _ in range(ROUNDS):
        for key, call in calls.items():
            samples[key] += timed(call, max(1, requests // ROUNDS))
    return samples


def _checked(app: Handler, event: dict[str, Any], context: Any) -> Callable[[], object]:
    def call() -> object:
        response = app(event, context)
        if response["statusCode"] >= 300:
            raise SystemExit(f"{event['rawPath']} answered {response['statusCode']}: {response['body']}")
        return response

    return call


def print_and_publish(samples: dict[tuple[str, str], list[float]], requests: int) -> None:
    med = {key: median(values) for key, values in samples.items()}
    p99 = {key: percentile(values, 0.99) for key, values in samples.items()}
    plain = ["GET /health", "POST /messages", "GET /messages"]
    request_rows = [
        [
            name,
            us(med[("this handler", name)]),
            us(p99[("this handler", name)]),
            us(med[("FastAPI + Mangum", name)]),
            ratio(med[("FastAPI + Mangum", name)], med[("this handler", name)]),
        ]
        for name in plain
    ]
    predict_rows = []
    overhead_at_1 = 0.0
    for batch in BATCHES:
        name = f"POST /predict x{batch}"
        raw, handler = med[("raw onnxruntime session.run", name)], med[("this handler", name)]
        overhead = (handler - raw) / raw
        overhead_at_1 = overhead if batch == 1 else overhead_at_1
        predict_rows.append(
            [
                batch,
                us(raw),
                us(med[("ModelRegistry.predict", name)]),
                us(handler),
                us(med[("FastAPI + Mangum", name)]),
                us(handler - raw),
                f"{overhead * 100:.0f}%",
            ]
        )
    absolute = med[("this handler", "POST /predict x1")] - med[("raw onnxruntime session.run", "POST /predict x1")]
    body = "\n\n".join(
        [
            f"Median of {requests} requests per kind (5 interleaved rounds), in µs, data folder on tmpfs.",
            table(["request", "this handler", "p99", "FastAPI + Mangum", "peer / handler"], request_rows),
            "`/predict` on the example model (8x8 digits, logistic regression) vs raw `session.run` on the same "
            "inputs and session; `ModelRegistry.predict` is the same without the HTTP layer (input validation, "
            "output formatting, version check).",
            table(
                [
                    "batch",
                    "raw session.run",
                    "ModelRegistry.predict",
                    "this handler",
                    "FastAPI + Mangum",
                    "handler - raw",
                    "overhead vs raw",
                ],
                predict_rows,
            ),
            target_line(
                f"warm GET /health ≤ {HEALTH_TARGET_US:.0f} µs",
                med[("this handler", "GET /health")] * 1e6 <= HEALTH_TARGET_US,
                f"median {us(med[('this handler', 'GET /health')])} µs, p99 {us(p99[('this handler', 'GET /health')])}",
            ),
            target_line(
                "/predict handler overhead ≤ 10% of raw onnxruntime at batch 1",
                overhead_at_1 <= TARGET_OVERHEAD,
                f"{overhead_at_1 * 100:.0f}%: {us(absolute)} µs on top of the model's own run; the target holds "
                f"for models whose batch-1 run takes ≥ {absolute / TARGET_OVERHEAD * 1000:.1f} ms",
            ),
        ]
    )
    publish("warm_overhead", "2. Warm overhead", body)


if __name__ == "__main__":
    main()
