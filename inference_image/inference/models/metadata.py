"""A model version's ``metadata.json`` (formats 1 and 2, in docs/MODELS.md), and the rules for model names
and versions. Standard library only: listing models must not import numpy or onnxruntime.

Both formats parse into one ``ModelMetadata``: format 1 (one tensor input, one checksummed file) is read
as the format-2 model it describes, so the rest of the code knows a single shape."""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.errors import BadRequest

FORMAT_VERSION = 2
FORMAT_VERSIONS = (1, 2)  # what readers accept: models published before format 2 keep loading
MODEL_FILE = "model.onnx"
METADATA_FILE = "metadata.json"

TASK_CLASSIFICATION = "classification"
TASK_EMBEDDING = "embedding"
TASK_TENSOR = "tensor"
TASKS = (TASK_CLASSIFICATION, TASK_EMBEDDING, TASK_TENSOR)
KIND_TENSOR = "tensor"
KIND_TEXT = "text"
KIND_IMAGE = "image"
KINDS = (KIND_TENSOR, KIND_TEXT, KIND_IMAGE)
DTYPES = ("float32", "float64", "int32", "int64")
POOLINGS = ("mean", "cls", "none")
IMAGE_FORMATS = ("PNG", "JPEG")
IMAGE_MODES = {"L": 1, "RGB": 3}  # colour mode -> channels
IMAGE_LAYOUTS = ("hw", "hwc", "chw")  # then flattened row-major into the graph input's shape
RESAMPLE_FILTERS = ("nearest", "box", "bilinear", "hamming", "bicubic", "lanczos")
TEXT_ROLES = ("input_ids", "attention_mask", "token_type_ids")  # token_type_ids is optional
DEFAULT_MAX_PIXELS = 4096 * 4096  # decoded pixels per image: refuses decompression bombs before decoding

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
class FileEntry:
    sha256: str
    size: int


@dataclass(frozen=True)
class GraphInput:
    name: str
    dtype: str
    shape: tuple[int | None, ...]  # None where the graph takes any size (the batch, a sequence)


@dataclass(frozen=True)
class InputSpec:
    """A numeric tensor input, as clients send it: one nested list per input."""

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
class TextSpec:
    """Text inputs, tokenised on the server by the ``tokenizer`` file published with the model."""

    tokenizer: str  # a file of the version, listed in ``files``
    graph_inputs: dict[str, str]  # role (input_ids, attention_mask, token_type_ids) -> graph input name
    max_tokens: int  # truncation length, the model's maximum sequence length
    max_text_bytes: int  # a longer text is refused (truncation happens only past max_tokens)
    max_batch: int | None  # texts per request, if lower than the server's MAX_BATCH
    vocab_size: int  # the tokenizer's, checked on load against the tokenizer and the graph

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": KIND_TEXT,
            "max_tokens": self.max_tokens,
            "max_text_bytes": self.max_text_bytes,
            "max_batch": self.max_batch,
        }


@dataclass(frozen=True)
class ImageSpec:
    """How an uploaded image becomes the graph input: decode, colour mode, crop, resize, invert, scale."""

    formats: tuple[str, ...]
    mode: str
    size: tuple[int, int]  # width, height
    resample: str
    invert: bool | str  # True, False, or "auto": invert when the image's border is light (dark ink on paper)
    crop_to_ink: int | None  # if set, crop to the pixels darker... (after inversion: brighter) than this, squared
    divide_by: float | str  # 255, or "max": the brightest pixel becomes 1
    scale: float
    mean: tuple[float, ...]
    std: tuple[float, ...]
    layout: str
    max_pixels: int

    @property
    def channels(self) -> int:
        return IMAGE_MODES[self.mode]

    def to_dict(self) -> dict[str, Any]:
        return {
            "formats": list(self.formats),
            "mode": self.mode,
            "size": list(self.size),
            "resample": self.resample,
            "invert": self.invert,
            "crop_to_ink": self.crop_to_ink,
            "divide_by": self.divide_by,
            "scale": self.scale,
            "mean": list(self.mean),
            "std": list(self.std),
            "layout": self.layout,
            "max_pixels": self.max_pixels,
        }


@dataclass(frozen=True)
class EmbeddingSpec:
    output: str  # the graph output holding token (or already pooled) vectors
    pooling: str  # mean over the attention mask, the first (CLS) token, or none (the output is pooled)
    normalize: bool  # L2-normalise each vector
    dimension: int


@dataclass(frozen=True)
class ModelMetadata:
    name: str
    version: str
    description: str
    task: str
    kind: str
    files: dict[str, FileEntry]  # every file the version needs, model.onnx first
    graph_inputs: tuple[GraphInput, ...]
    outputs: tuple[str, ...]
    input: InputSpec | None  # tensor and image models: the tensor a client may also send directly
    text: TextSpec | None
    image: ImageSpec | None
    labels: tuple[str, ...] | None
    probabilities_output: str | None
    embedding: EmbeddingSpec | None
    samples: tuple[dict[str, Any], ...]
    provenance: dict[str, Any] = field(default_factory=dict)  # format 1's "training"
    format_version: int = FORMAT_VERSION

    @property
    def model_sha256(self) -> str:
        return self.files[MODEL_FILE].sha256

    @property
    def model_bytes(self) -> int:
        return self.files[MODEL_FILE].size

    def describe_input(self) -> dict[str, Any]:
        """The input as ``GET /models`` reports it."""
        if self.text is not None:
            return self.text.to_dict()
        assert self.input is not None  # parsing guarantees it for the other kinds
        described = {"kind": self.kind, **self.input.to_dict()}
        if self.image is not None:
            described["image"] = self.image.to_dict()
        return described

    @classmethod
    def from_dict(cls, data: object) -> ModelMetadata:
        if not isinstance(data, dict):
            raise MetadataError("metadata must be a JSON object")
        format_version = data.get("format_version")
        if format_version not in FORMAT_VERSIONS or isinstance(format_version, bool):
            raise MetadataError(f"format_version must be one of {list(FORMAT_VERSIONS)}, got {format_version!r}")
        return _from_v1(data) if format_version == 1 else _from_v2(data)

    @classmethod
    def read(cls, version_dir: Path) -> ModelMetadata:
        """Parse ``metadata.json`` in a version directory; OSError if unreadable, MetadataError if malformed."""
        raw = (version_dir / METADATA_FILE).read_bytes()
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise MetadataError(f"{METADATA_FILE} is not valid JSON: {error}") from error
        return cls.from_dict(data)


def _from_v1(data: dict[str, Any]) -> ModelMetadata:
    """Format 1: one tensor input described in place, ``model_sha256``/``model_bytes``, ``training``."""
    task = _choice(data, "task", (TASK_CLASSIFICATION, TASK_TENSOR))
    outputs = _string_list(data, "outputs")
    labels, probabilities_output = _classifier_fields(data, task, outputs)
    raw = _field(data, "input", dict)
    shape = raw.get("shape")
    if not isinstance(shape, list) or len(shape) < 2 or shape[0] is not None:
        raise MetadataError(f"input 'shape' must start with null (the batch) then fixed sizes, got {shape!r}")
    graph_input = GraphInput(
        _field(raw, "name", str),
        _dtype(raw.get("dtype")),
        (None, *_shape(shape[1:], "input 'shape' after the batch dimension")),
    )
    return ModelMetadata(
        **_identity(data),
        task=task,
        kind=KIND_TENSOR,
        files={MODEL_FILE: FileEntry(_sha256(data.get("model_sha256"), "'model_sha256'"), _count(data, "model_bytes"))},
        graph_inputs=(graph_input,),
        outputs=outputs,
        input=_tensor_spec(raw, graph_input),
        text=None,
        image=None,
        labels=labels,
        probabilities_output=probabilities_output,
        embedding=None,
        provenance=_field(data, "training", dict, {}),
        format_version=1,
    )


def _from_v2(data: dict[str, Any]) -> ModelMetadata:
    task = _choice(data, "task", TASKS)
    files = _files(_field(data, "files", dict))
    graph = _field(data, "graph", dict)
    graph_inputs = _graph_inputs(_field(graph, "inputs", list))
    outputs = _string_list(graph, "outputs")
    labels, probabilities_output = _classifier_fields(data, task, outputs)
    raw = _field(data, "input", dict)
    kind = _choice(raw, "kind", KINDS)
    by_name = {item.name: item for item in graph_inputs}
    tensor = text = image = None
    if kind == KIND_TEXT:
        text = _text_spec(raw, by_name, files)
    else:
        fed = by_name.get(_field(raw, "graph_input", str))
        if fed is None:
            raise MetadataError(f"input 'graph_input' must name one of the graph inputs {sorted(by_name)}")
        if len(graph_inputs) != 1:
            raise MetadataError(
                f"a {kind} input feeds exactly one graph input, but the graph lists {len(graph_inputs)}"
            )
        if any(dim is None for dim in fed.shape[1:]):
            raise MetadataError(f"a {kind} input needs fixed sizes after the batch dimension, got {list(fed.shape)}")
        tensor = _tensor_spec(raw, fed)
        if kind == KIND_IMAGE:
            image = _image_spec(_field(raw, "image", dict), tensor)
    return ModelMetadata(
        **_identity(data),
        task=task,
        kind=kind,
        files=files,
        graph_inputs=graph_inputs,
        outputs=outputs,
        input=tensor,
        text=text,
        image=image,
        labels=labels,
        probabilities_output=probabilities_output,
        embedding=_embedding_spec(data, task, outputs),
        provenance=_field(data, "provenance", dict, {}),
    )


def _identity(data: dict[str, Any]) -> dict[str, Any]:
    """The fields both formats share: what the model is called and what it offers people."""
    return {
        "name": _named(data, "name"),
        "version": _named(data, "version"),
        "description": _field(data, "description", str, ""),
        "samples": _samples(data),
    }


def _field(data: dict[str, Any], key: str, kind: type, default: Any = None) -> Any:
    value = data.get(key, default)
    if value is None or not isinstance(value, kind) or isinstance(value, bool):
        raise MetadataError(f"{key!r} must be a {kind.__name__}, got {value!r}")
    return value


def _choice(data: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = data.get(key)
    if value not in allowed:
        raise MetadataError(f"{key!r} must be one of {list(allowed)}, got {value!r}")
    return str(value)


def _named(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not is_valid_name(value):
        raise MetadataError(f"{key!r} must match the model naming rules, got {value!r}")
    return str(value)


def _sha256(value: object, where: str) -> str:
    if not isinstance(value, str) or re.fullmatch(r"[0-9a-f]{64}", value) is None:
        raise MetadataError(f"{where} must be 64 lowercase hex digits, got {value!r}")
    return value


def _count(data: dict[str, Any], key: str) -> int:
    value = _field(data, key, int)
    if value <= 0:
        raise MetadataError(f"{key!r} must be positive, got {value!r}")
    return int(value)


def _number(data: dict[str, Any], key: str, default: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MetadataError(f"{key!r} must be a finite number, got {value!r}")
    return float(value)


def _dtype(value: object) -> str:
    if value not in DTYPES:
        raise MetadataError(f"input 'dtype' must be one of {list(DTYPES)}, got {value!r}")
    return str(value)


def _string_list(data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = _field(data, key, list)
    if not value or not all(isinstance(item, str) and item for item in value):
        raise MetadataError(f"{key!r} must be a non-empty list of non-empty strings")
    return tuple(value)


def _files(raw: dict[str, Any]) -> dict[str, FileEntry]:
    if MODEL_FILE not in raw:
        raise MetadataError(f"'files' must list {MODEL_FILE}")
    files = {}
    for name in sorted(raw, key=lambda item: item != MODEL_FILE):
        entry = raw[name]
        if not is_valid_name(name) or name == METADATA_FILE or not isinstance(entry, dict):
            raise MetadataError(
                f"'files' maps plain file names (not {METADATA_FILE}) to {{sha256, bytes}}, got {name!r}"
            )
        files[name] = FileEntry(_sha256(entry.get("sha256"), f"files[{name!r}].sha256"), _count(entry, "bytes"))
    return files


def _graph_inputs(raw: list[Any]) -> tuple[GraphInput, ...]:
    if not raw:
        raise MetadataError("'graph.inputs' must list at least one input")
    inputs = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise MetadataError(f"graph.inputs[{index}] must be an object with name, dtype and shape")
        shape = item.get("shape")
        if (
            not isinstance(shape, list)
            or len(shape) < 2
            or shape[0] is not None
            or not all(dim is None or (isinstance(dim, int) and not isinstance(dim, bool) and dim > 0) for dim in shape)
        ):
            raise MetadataError(
                f"graph.inputs[{index}].shape must be null (the batch) then sizes or nulls, got {shape!r}"
            )
        inputs.append(GraphInput(_field(item, "name", str), _dtype(item.get("dtype")), tuple(shape)))
    if len({item.name for item in inputs}) != len(inputs):
        raise MetadataError("graph input names must be unique")
    return tuple(inputs)


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


def _embedding_spec(data: dict[str, Any], task: str, outputs: tuple[str, ...]) -> EmbeddingSpec | None:
    if task != TASK_EMBEDDING:
        return None
    raw = _field(data, "embedding", dict)
    output = _field(raw, "output", str)
    if output not in outputs:
        raise MetadataError(f"embedding 'output' {output!r} is not one of the graph outputs {list(outputs)}")
    normalize = raw.get("normalize")
    if not isinstance(normalize, bool):
        raise MetadataError(f"embedding 'normalize' must be true or false, got {normalize!r}")
    return EmbeddingSpec(output, _choice(raw, "pooling", POOLINGS), normalize, _count(raw, "dimension"))


def _shape(value: object, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise MetadataError(f"{where} must be a non-empty list of positive integers")
    if not all(isinstance(dim, int) and not isinstance(dim, bool) and dim > 0 for dim in value):
        raise MetadataError(f"{where} must be a non-empty list of positive integers, got {value!r}")
    return tuple(value)


def _tensor_spec(raw: dict[str, Any], graph_input: GraphInput) -> InputSpec:
    row_shape = tuple(int(dim) for dim in graph_input.shape[1:] if dim is not None)
    also_accepts = tuple(_shape(item, "each of input 'also_accepts'") for item in _field(raw, "also_accepts", list, []))
    for alternative in also_accepts:
        if math.prod(alternative) != math.prod(row_shape):
            raise MetadataError(f"input 'also_accepts' shape {list(alternative)} does not hold {list(row_shape)}")
    return InputSpec(
        name=graph_input.name,
        dtype=graph_input.dtype,
        row_shape=row_shape,
        value_range=_value_range(raw.get("range")),
        also_accepts=also_accepts,
        preprocessing=_field(raw, "preprocessing", str, ""),
    )


def _text_spec(raw: dict[str, Any], graph_inputs: dict[str, GraphInput], files: dict[str, FileEntry]) -> TextSpec:
    tokenizer = _field(raw, "tokenizer", str)
    if tokenizer not in files:
        raise MetadataError(f"input 'tokenizer' {tokenizer!r} must be one of the checksummed 'files' {sorted(files)}")
    roles = _field(raw, "graph_inputs", dict)
    unknown = set(roles) - set(TEXT_ROLES)
    if unknown or not {"input_ids", "attention_mask"} <= set(roles):
        raise MetadataError(
            "input 'graph_inputs' maps input_ids, attention_mask (and optionally token_type_ids) to graph inputs, "
            f"got {sorted(roles)}"
        )
    for role, name in roles.items():
        fed = graph_inputs.get(name) if isinstance(name, str) else None
        if fed is None or fed.dtype not in ("int32", "int64") or len(fed.shape) != 2:
            raise MetadataError(f"text role {role!r} must name an integer [batch, sequence] graph input, got {name!r}")
    if set(roles.values()) != set(graph_inputs):
        raise MetadataError(f"a text model's graph inputs {sorted(graph_inputs)} must all be fed by the tokenizer")
    max_batch = raw.get("max_batch")
    return TextSpec(
        tokenizer=tokenizer,
        graph_inputs=dict(roles),
        max_tokens=_count(raw, "max_tokens"),
        max_text_bytes=_count(raw, "max_text_bytes"),
        max_batch=None if max_batch is None else _count(raw, "max_batch"),
        vocab_size=_count(raw, "vocab_size"),
    )


def _image_spec(raw: dict[str, Any], tensor: InputSpec) -> ImageSpec:
    formats = _string_list(raw, "formats")
    if not set(formats) <= set(IMAGE_FORMATS):
        raise MetadataError(f"image 'formats' must be among {list(IMAGE_FORMATS)}, got {list(formats)}")
    mode = _choice(raw, "mode", tuple(IMAGE_MODES))
    size = _shape(raw.get("size"), "image 'size' ([width, height])")
    if len(size) != 2:
        raise MetadataError(f"image 'size' must be [width, height], got {list(size)}")
    invert = raw.get("invert", False)
    if invert not in (True, False, "auto"):
        raise MetadataError(f"image 'invert' must be true, false or \"auto\", got {invert!r}")
    crop = raw.get("crop_to_ink")
    if crop is not None and (isinstance(crop, bool) or not isinstance(crop, int) or not 0 <= crop < 255):
        raise MetadataError(f"image 'crop_to_ink' must be null or a threshold from 0 to 254, got {crop!r}")
    divide_by = raw.get("divide_by", 255)
    if divide_by != "max" and (
        isinstance(divide_by, bool) or not isinstance(divide_by, int | float) or not divide_by > 0
    ):
        raise MetadataError(f"image 'divide_by' must be a positive number or \"max\", got {divide_by!r}")
    channels = IMAGE_MODES[mode]
    mean, std = _per_channel(raw, "mean", 0.0, channels), _per_channel(raw, "std", 1.0, channels)
    if not all(value > 0 for value in std):
        raise MetadataError("image 'std' must be positive")
    layout = _choice(raw, "layout", IMAGE_LAYOUTS)
    if math.prod(size) * channels != math.prod(tensor.row_shape):
        raise MetadataError(
            f"an image of {size[0]}x{size[1]}x{channels} values does not fill the graph input {list(tensor.row_shape)}"
        )
    return ImageSpec(
        formats=formats,
        mode=mode,
        size=(size[0], size[1]),
        resample=_choice(raw, "resample", RESAMPLE_FILTERS),
        invert=invert,
        crop_to_ink=crop,
        divide_by=divide_by if divide_by == "max" else float(divide_by),
        scale=_number(raw, "scale", 1.0),
        mean=mean,
        std=std,
        layout=layout,
        max_pixels=int(_number(raw, "max_pixels", DEFAULT_MAX_PIXELS)),
    )


def _per_channel(raw: dict[str, Any], key: str, default: float, channels: int) -> tuple[float, ...]:
    value = raw.get(key, default)
    values = value if isinstance(value, list) else [value]
    if len(values) not in (1, channels) or not all(
        isinstance(item, int | float) and not isinstance(item, bool) and math.isfinite(item) for item in values
    ):
        raise MetadataError(f"image {key!r} must be a number or one number per channel ({channels}), got {value!r}")
    return tuple(float(item) for item in values) * (channels if len(values) == 1 else 1)


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
