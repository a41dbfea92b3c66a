"""What the benchmarks run against: a data folder with the example model published and some messages
stored, and the payload-2.0 events of the requests they time (built by the handler tests' own helpers)."""

from __future__ import annotations

import compileall
import random
import shutil
from pathlib import Path
from typing import Any

from inference.models.publishing import publish_version
from inference.store.messages import MessageStore
from testing.api_events import http_event, json_event

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_MODEL = REPO / "models" / "digits"
MODEL_NAME = "digits"
PIXELS = 64  # the example model's input: 8x8 pixels, 0..16


def prepare_data_dir(data_dir: Path, messages: int = 0) -> Path:
    """Publish the example model into ``data_dir`` and store ``messages`` messages there."""
    if not (EXAMPLE_MODEL / "model.onnx").exists():
        raise SystemExit(f"{EXAMPLE_MODEL} has no model: run `make model` first")
    publish_version(EXAMPLE_MODEL, data_dir / "models", MODEL_NAME)
    store = MessageStore(data_dir / "messages")
    for number in range(messages):
        store.append(f"benchmark message {number}")
    return data_dir


def handler_package(folder: Path, *, byte_compiled: bool) -> Path:
    """A copy of the handler's package under ``folder`` (put ``folder`` first on PYTHONPATH), byte-compiled or
    not: a Lambda task root is read-only, so modules the image ships without .pyc are compiled on every cold
    start, and this repository's own __pycache__ may or may not exist (PYTHONDONTWRITEBYTECODE)."""
    shutil.copytree(
        REPO / "inference_image" / "inference", folder / "inference", ignore=shutil.ignore_patterns("__pycache__")
    )
    if byte_compiled and not compileall.compile_dir(folder, quiet=1):
        raise RuntimeError(f"cannot byte-compile {folder}")
    return folder


def digit_rows(batch: int, seed: int = 0) -> list[list[float]]:
    """``batch`` random 8x8 images, flattened (the same inputs for every contender)."""
    rng = random.Random(seed)
    return [[float(rng.randint(0, 16)) for _ in range(PIXELS)] for _ in range(batch)]


def events(batch_sizes: tuple[int, ...] = (1, 32)) -> dict[str, dict[str, Any]]:
    """The timed requests, by name."""
    named = {
        "GET /health": http_event("GET", "/health"),
        "POST /messages": json_event("POST", "/messages", {"text": "hello from the benchmark"}),
        "GET /messages": http_event("GET", "/messages", query="limit=50"),
    }
    for batch in batch_sizes:
        named[f"POST /predict x{batch}"] = json_event("POST", "/predict", {"inputs": digit_rows(batch)})
    return named
