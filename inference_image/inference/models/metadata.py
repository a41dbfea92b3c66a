"""A model version's ``metadata.json`` (format in docs/MODELS.md), and the rules for model names
and versions. Standard library only: listing models must not import numpy or onnxruntime."""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.errors import BadRequest

FORMAT_VERSION = 1
MODEL_FILE = "model.onnx"
METADATA_FILE = "metadata.json"

TASK_CLASSIFICATION = "classification"
TASK_TENSOR = "tensor"
DTYPES = ("float32", "float64", "int32", "int64")

# One path segment, never "." or "..": names and versions become directory names on EFS.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_NAME_RULE = "use 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit, without '..'"


class MetadataError(ValueError):
    """A metadata file that does not follow the documented format."""


def is_valid_name(value: object) -> bool:
    return isinstance(value, str) and _NAME.fullmatch(value) is not None and ".." not in value


def check_name(name: object) -> str:
    if not is_valid_name(name):
        raise BadRequest(f"invalid model name {_shown(name)}: {_NAME_RULE}", "invalid_model_name")
    return str(name)


def check_version(version: object) -> str:
    if not is_valid_name(version):
        raise BadRequest(f"invalid model version {_shown(version)}: {_NAME_RULE}", "invalid_version")
    return str(version)


def _shown(value: object, limit: int = 80) -> str:
    """The value as an error message quotes it: never so long that the answer itself grows large."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class InputSpec:
    name: str
    dtype: str
    row_shape: tuple[int, ...]  # the shape of one input, i.e. the model's shape without the batch dimension
    value_range: tuple[float, float] | None = None
    also_accepts: tuple[tuple[int, ...], ...] = ()  # other row shapes, flattened row-major to row_shape
    preprocessing: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "shape": [None, *self.row_shape],
            "dtype": self.dtype,
            "range": None if self.value_range is None else list(self.value_range),
            "also_accepts": [list(shape) for shape in self.also_accepts],
            "preprocessing": self.preprocessing,
        }


@dataclass(frozen=True)
class ModelMetadata:
    name: str
    version: str
    description: str
    task: str
    model_sha256: str
    model_bytes: int
    input: InputSpec
    outputs: tuple[str, ...]
    labels: tuple[str, ...] | None
    probabilities_output: str | None
    samples: tuple[dict[str, Any], ...]
    training: dict[str, Any]

    @classmethod
    def from_dict(cls, data: object) -> ModelMetadata:
        if not isinstance(data, dict):
            raise MetadataError("metadata must be a JSON object")
        if data.get("format_version") != FORMAT_VERSION:
            raise MetadataError(f"format_version must be {FORMAT_VERSION}, got {data.get('format_version')!r}")
        task = _field(data, "task", str)
        if task not in (TASK_CLASSIFICATION, TASK_TENSOR):
            raise MetadataError(f"task must be {TASK_CLASSIFICATION!r} or {TASK_TENSOR!r}, got {task!r}")
        outputs = _string_list(data, "outputs")
        labels, probabilities_output = _classifier_fields(data, task, outputs)
        return cls(
            name=_named(data, "name"),
            version=_named(data, "version"),
            description=_field(data, "description", str, ""),
            task=task,
            model_sha256=_sha256(data),
            model_bytes=_count(data, "model_bytes"),
            input=_input_spec(_field(data, "input", dict)),
            outputs=outputs,
            labels=labels,
            probabilities_output=probabilities_output,
            samples=_samples(data),
            training=_field(data, "training", dict, {}),
        )

    @classmethod
    def read(cls, version_dir: Path) -> ModelMetadata:
        """Parse ``metadata.json`` in a version directory; OSError if unreadable, MetadataError if malformed."""
        raw = (version_dir / METADATA_FILE).read_bytes()
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise MetadataError(f"{METADATA_FILE} is not valid JSON: {error}") from error
        return cls.from_dict(data)


def _field(data: dict[str, Any], key: str, kind: type, default: Any = None) -> Any:
    value = data.get(key, default)
    if value is None or not isinstance(value, kind) or isinstance(value, bool):
        raise MetadataError(f"{key!r} must be a {kind.__name__}, got {value!r}")
    return value


def _named(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not is_valid_name(value):
        raise MetadataError(f"{key!r} must match the model naming rules, got {value!r}")
    return str(value)


def _sha256(data: dict[str, Any]) -> str:
    value = data.get("model_sha256")
    if not isinstance(value, str) or re.fullmatch(r"[0-9a-f]{64}", value) is None:
        raise MetadataError(f"'model_sha256' must be 64 lowercase hex digits, got {value!r}")
    return value


def _count(data: dict[str, Any], key: str) -> int:
    value = _field(data, key, int)
    if value <= 0:
        raise MetadataError(f"{key!r} must be positive, got {value!r}")
    return int(value)


def _string_list(data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = _field(data, key, list)
    if not value or not all(isinstance(item, str) and item for item in value):
        raise MetadataError(f"{key!r} must be a non-empty list of non-empty strings")
    return tuple(value)


def _classifier_fields(
    data: dict[str, Any], task: str, outputs: tuple[str, ...]
) -> tuple[tuple[str, ...] | None, str | None]:
    if task != TASK_CLASSIFICATION:
        return None, None
    labels = _string_list(data, "labels")
    probabilities_output = _field(data, "probabilities_output", str)
    if probabilities_output not in outputs:
        raise MetadataError(f"'probabilities_output' {probabilities_output!r} is not one of 'outputs' {list(outputs)}")
    return labels, probabilities_output


def _shape(value: object, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise MetadataError(f"{where} must be a non-empty list of positive integers")
    if not all(isinstance(dim, int) and not isinstance(dim, bool) and dim > 0 for dim in value):
        raise MetadataError(f"{where} must be a non-empty list of positive integers, got {value!r}")
    return tuple(value)


def _input_spec(raw: dict[str, Any]) -> InputSpec:
    shape = raw.get("shape")
    if not isinstance(shape, list) or len(shape) < 2 or shape[0] is not None:
        raise MetadataError(f"input 'shape' must start with null (the batch) then fixed sizes, got {shape!r}")
    row_shape = _shape(shape[1:], "input 'shape' after the batch dimension")
    dtype = raw.get("dtype")
    if dtype not in DTYPES:
        raise MetadataError(f"input 'dtype' must be one of {list(DTYPES)}, got {dtype!r}")
    also_accepts = tuple(_shape(item, "each of input 'also_accepts'") for item in _field(raw, "also_accepts", list, []))
    for alternative in also_accepts:
        if math.prod(alternative) != math.prod(row_shape):
            raise MetadataError(f"input 'also_accepts' shape {list(alternative)} does not hold {list(row_shape)}")
    return InputSpec(
        name=_field(raw, "name", str),
        dtype=str(dtype),
        row_shape=row_shape,
        value_range=_value_range(raw.get("range")),
        also_accepts=also_accepts,
        preprocessing=_field(raw, "preprocessing", str, ""),
    )


def _value_range(value: object) -> tuple[float, float] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(bound, int | float) and not isinstance(bound, bool) for bound in value)
        or not all(math.isfinite(bound) for bound in value)
        or value[0] > value[1]
    ):
        raise MetadataError(f"input 'range' must be [low, high] with finite low <= high, got {value!r}")
    return float(value[0]), float(value[1])


def _samples(data: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    samples = _field(data, "samples", list, [])
    for index, sample in enumerate(samples):
        if not isinstance(sample, dict) or "input" not in sample or not isinstance(sample.get("label", ""), str):
            raise MetadataError(f"samples[{index}] must be an object with an 'input' and an optional string 'label'")
    return tuple(samples)
