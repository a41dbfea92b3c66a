"""Tiny ONNX models and model folders for the model tests (the real example model lives in models/digits)."""

from __future__ import annotations

import functools
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.linear_model import LinearRegression, LogisticRegression

from inference.models.metadata import METADATA_FILE, MODEL_FILE, ImageSpec, ModelMetadata, sha256_hex

REPO = Path(__file__).resolve().parents[2]
DIGITS_DIR = REPO / "models" / "digits"
MINILM_DIR = REPO / "models" / "minilm"
MINILM_REFERENCE = REPO / "scripts" / "minilm_reference.json"


def digits_image_spec() -> ImageSpec:
    """How the digits example turns a picture into its input (its metadata's image block)."""
    spec = ModelMetadata.read(DIGITS_DIR).image
    assert spec is not None
    return spec


@functools.cache
def minilm_dir() -> Path:
    """The real MiniLM example, built by `make minilm` (make test does it first); built here if missing."""
    if not all((MINILM_DIR / name).is_file() for name in (MODEL_FILE, METADATA_FILE, "tokenizer.json")):
        from scripts.build_minilm import main

        assert main(["--out", str(MINILM_DIR)]) == 0
    return MINILM_DIR


def linked_copy(source: Path, target: Path) -> Path:
    """A copy of a model folder whose files are hard links: cheap for a 90 MB model, and safe as long as the
    test replaces a file (unlink, write) rather than writing into it."""
    target.mkdir(parents=True)
    for path in source.iterdir():
        if path.is_file():
            os.link(path, target / path.name)
    return target


# The tiny classifier answers labels[1] when x[0] > x[1], else labels[0].
FIRST_WINS = [0.9, 0.1]
SECOND_WINS = [0.1, 0.9]


@functools.cache
def tiny_onnx(variant: str = "a", task: str = "classification") -> bytes:
    """A two-feature model; each variant has its own graph name, hence different bytes and sha256."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (60, 2))
    options: dict[int, dict[str, bool]] = {}
    estimator: Any
    if task == "classification":
        estimator = LogisticRegression().fit(x, (x[:, 0] > x[:, 1]).astype(int))
        options = {id(estimator): {"zipmap": False}}
    else:
        estimator = LinearRegression().fit(x, x.sum(axis=1))
    onnx_model = convert_sklearn(
        estimator,
        initial_types=[("x", FloatTensorType([None, 2]))],
        options=options,
        target_opset={"": 17, "ai.onnx.ml": 3},
        name=f"tiny-{variant}",
    )
    return bytes(onnx_model.SerializeToString())


def tiny_metadata(
    model_bytes: bytes, *, name: str = "tiny", version: str = "1", labels: tuple[str, str] = ("a", "b")
) -> dict[str, Any]:
    return {
        "format_version": 1,
        "name": name,
        "version": version,
        "description": "a tiny test classifier",
        "task": "classification",
        "model_sha256": sha256_hex(model_bytes),
        "model_bytes": len(model_bytes),
        "input": {"name": "x", "dtype": "float32", "shape": [None, 2], "range": [0, 1]},
        "outputs": ["label", "probabilities"],
        "labels": list(labels),
        "probabilities_output": "probabilities",
        "training": {"metrics": {}},
    }


def write_model_dir(folder: Path, model_bytes: bytes, metadata: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MODEL_FILE).write_bytes(model_bytes)
    (folder / METADATA_FILE).write_text(json.dumps(metadata))
    return folder


def tiny_model_dir(
    folder: Path, *, variant: str = "a", name: str = "tiny", version: str = "1", labels: tuple[str, str] = ("a", "b")
) -> Path:
    model_bytes = tiny_onnx(variant)
    return write_model_dir(folder, model_bytes, tiny_metadata(model_bytes, name=name, version=version, labels=labels))


class FakeClock:
    """A monotonic clock the test moves by hand, so refresh intervals need no sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def digit_png(pixels: np.ndarray, *, side: int = 96, image_format: str = "PNG", mode: str = "L") -> bytes:
    """A data-set digit as a person would upload it: dark ink on white paper, enlarged, with a margin."""
    ink = Image.fromarray((255 - pixels / 16 * 255).astype(np.uint8), mode="L").resize(
        (side, side), Image.Resampling.NEAREST
    )
    paper = Image.new("L", (side + 40, side + 40), 255)
    paper.paste(ink, (20, 20))
    out = io.BytesIO()
    paper.convert(mode).save(out, format=image_format)
    return out.getvalue()
