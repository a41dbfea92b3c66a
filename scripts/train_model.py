"""Train the example model (`make model`): scikit-learn's bundled 8x8 digits, a scaled logistic
regression, exported to ONNX with skl2onnx, written with its metadata (docs/MODELS.md) to --out.

Deterministic: a fixed split and seed give byte-identical files on every run with the same library
versions. The accuracy printed is measured on the held-out split by ONNX Runtime running the exported
model, i.e. on exactly what is served."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import skl2onnx
import sklearn
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from inference.models.inputs import validate_inputs
from inference.models.metadata import (
    FORMAT_VERSION,
    METADATA_FILE,
    MODEL_FILE,
    TASK_CLASSIFICATION,
    ModelMetadata,
    sha256_hex,
)

NAME = "digits"
INPUT_NAME = "input"
PIXELS = 64
MAX_PIXEL = 16  # load_digits counts the set pixels of a 4x4 block of a 32x32 bitmap: 0..16
OPSETS = {"": 17, "ai.onnx.ml": 3}  # old enough for any recent ONNX Runtime
DESCRIPTION = "Handwritten digit (0-9) from an 8x8 grayscale image; scikit-learn's digits, logistic regression."
PREPROCESSING = (
    "An 8x8 image, row-major, one number per pixel from 0 (background) to 16 (ink), as in "
    "sklearn.datasets.load_digits; or a PNG/JPEG image of one digit, which the server turns into that "
    "(see 'image'). The model standardises the pixels itself."
)
# The data set's look: light ink on black, the digit cropped to its ink and centred in a square, 8x8,
# the brightest pixel at 16.
IMAGE_PREPROCESSING = {
    "formats": ["PNG", "JPEG"],
    "mode": "L",
    "invert": "auto",
    "crop_to_ink": 48,
    "size": [8, 8],
    "resample": "box",
    "divide_by": "max",
    "scale": MAX_PIXEL,
    "mean": 0,
    "std": 1,
    "layout": "hw",
    "max_pixels": 4096 * 4096,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("models") / NAME, help="output folder (default: %(default)s)")
    parser.add_argument("--version", default="2", help="version to record in the metadata (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the train/test split (default: %(default)s)")
    parser.add_argument("--test-size", type=float, default=0.25, help="held-out share (default: %(default)s)")
    return parser.parse_args(argv)


def train(seed: int, test_size: float) -> tuple[Pipeline, np.ndarray, np.ndarray, int]:
    images, digits = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits, test_size=test_size, random_state=seed, stratify=digits
    )
    pipeline = Pipeline([("scale", StandardScaler()), ("classify", LogisticRegression(C=0.1, max_iter=2000))])
    pipeline.fit(x_train, y_train)
    return pipeline, x_test, y_test, len(x_train)


def export(pipeline: Pipeline) -> bytes:
    onnx_model = convert_sklearn(
        pipeline,
        initial_types=[(INPUT_NAME, FloatTensorType([None, PIXELS]))],
        # Probabilities as a plain [N, 10] tensor rather than a list of maps.
        options={id(pipeline.named_steps["classify"]): {"zipmap": False}},
        target_opset=OPSETS,
        name=NAME,  # otherwise a random graph name makes every export differ
    )
    return bytes(onnx_model.SerializeToString())


def onnx_accuracy(model_bytes: bytes, x_test: np.ndarray, y_test: np.ndarray, labels: list[str]) -> float:
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    (probabilities,) = session.run(["probabilities"], {INPUT_NAME: x_test.astype(np.float32)})
    predicted = [labels[index] for index in probabilities.argmax(axis=1)]
    return float(np.mean([label == str(truth) for label, truth in zip(predicted, y_test, strict=True)]))


def held_out_samples(x_test: np.ndarray, y_test: np.ndarray) -> list[dict[str, Any]]:
    """The first held-out image of each digit, so the UI can offer one of every class."""
    chosen = [int(np.flatnonzero(y_test == digit)[0]) for digit in range(10)]
    return [{"label": str(y_test[i]), "input": [int(pixel) for pixel in x_test[i]]} for i in chosen]


def build_metadata(
    args: argparse.Namespace,
    model_bytes: bytes,
    *,
    labels: list[str],
    accuracy: float,
    split_sizes: tuple[int, int],
    samples: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "name": NAME,
        "version": args.version,
        "description": DESCRIPTION,
        "task": TASK_CLASSIFICATION,
        "files": {MODEL_FILE: {"sha256": sha256_hex(model_bytes), "bytes": len(model_bytes)}},
        "graph": {
            "inputs": [{"name": INPUT_NAME, "dtype": "float32", "shape": [None, PIXELS]}],
            "outputs": ["label", "probabilities"],
        },
        "input": {
            "kind": "image",
            "graph_input": INPUT_NAME,
            "range": [0, MAX_PIXEL],
            "also_accepts": [[8, 8]],
            "preprocessing": PREPROCESSING,
            # What turns a photo, scan or drawing of one digit into the data set's look.
            "image": IMAGE_PREPROCESSING,
        },
        "labels": labels,
        "probabilities_output": "probabilities",
        "provenance": {
            "dataset": "sklearn.datasets.load_digits (1,797 images of 8x8 pixels)",
            "estimator": "StandardScaler + LogisticRegression(C=0.1, max_iter=2000)",
            "split": {"test_size": args.test_size, "stratified": True, "random_state": args.seed},
            "train_samples": split_sizes[0],
            "test_samples": split_sizes[1],
            "metrics": {"accuracy": round(accuracy, 4)},
            "libraries": {"scikit-learn": sklearn.__version__, "skl2onnx": skl2onnx.__version__},
            "onnx_opsets": OPSETS,
        },
        "samples": samples,
    }


def to_json(value: Any, indent: str = "") -> str:
    """Indented JSON that keeps lists of plain values (pixels, shapes, labels) on one line."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(key)}: {to_json(item, inner)}" for key, item in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        return "[\n" + ",\n".join(inner + to_json(item, inner) for item in value) + "\n" + indent + "]"
    return json.dumps(value)


def write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    pipeline, x_test, y_test, train_size = train(args.seed, args.test_size)
    model_bytes = export(pipeline)
    labels = [str(label) for label in pipeline.classes_]
    accuracy = onnx_accuracy(model_bytes, x_test, y_test, labels)
    samples = held_out_samples(x_test, y_test)
    metadata = build_metadata(
        args, model_bytes, labels=labels, accuracy=accuracy, split_sizes=(train_size, len(x_test)), samples=samples
    )
    # Write nothing unless the result reads back as valid metadata with valid samples.
    checked = ModelMetadata.from_dict(metadata)
    assert checked.input is not None
    validate_inputs([sample["input"] for sample in checked.samples], checked.input, max_batch=len(checked.samples))

    args.out.mkdir(parents=True, exist_ok=True)
    # The model first: until the metadata naming its sha256 lands, the folder is never loadable as a mix.
    write_atomically(args.out / MODEL_FILE, model_bytes)
    write_atomically(args.out / METADATA_FILE, (to_json(metadata) + "\n").encode())
    print(f"{NAME} {args.version}: held-out accuracy {accuracy:.4f} on {len(x_test)} images ({len(model_bytes)} bytes)")
    print(f"wrote {args.out / MODEL_FILE} and {args.out / METADATA_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
