"""A model version's ``metadata.json`` (formats 1 and 2, in docs/MODELS.md), and the rules for model names
and versions. Standard library only: listing models must not import numpy or onnxruntime.

Both formats parse into one ``ModelMetadata``: format 1 (one tensor input, one checksummed file) is read
as the format-2 model it describes, so the rest of the code knows a single shape.

Parsing reads the whole file before it judges: a ``MetadataError`` lists every problem it found, each in
plain words with what the field means (``missing field input.max_tokens: the longest token sequence the model
takes, e.g. 256``), so that a hand-written file is put right in one attempt."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable
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

# What each field means, said after "missing field <path>:" so that the reader knows what to write there.
FIELD_HINTS = {
    "format_version": "2 for this format",
    "name": "the model's name, as requests use it, e.g. iris",
    "version": "this version's name, e.g. 1",
    "task": "classification, embedding or tensor: how the outputs are presented",
    "files": "every file of the version with its sha256 and size, "
    'e.g. {"model.onnx": {"sha256": "...", "bytes": 1234}}',
    "graph": 'the graph\'s inputs and outputs, e.g. {"inputs": [...], "outputs": ["probabilities"]}',
    "graph.inputs": "each graph input's name, dtype and shape, "
    'e.g. [{"name": "X", "dtype": "float32", "shape": [null, 4]}]',
    "graph.outputs": 'the graph outputs to use, e.g. ["probabilities"]',
    "input": 'what a request sends, e.g. {"kind": "tensor", "graph_input": "X"}',
    "input.kind": "tensor, text or image",
    "input.graph_input": "the graph input that a request's numbers feed, e.g. X",
    "input.tokenizer": "the tokenizer file published with the model, e.g. tokenizer.json",
    "input.graph_inputs": 'which graph input gets each token array, e.g. {"input_ids": "input_ids", '
    '"attention_mask": "attention_mask"}',
    "input.max_tokens": "the longest token sequence the model takes, e.g. 256",
    "input.max_text_bytes": "the longest text accepted, in UTF-8 bytes, e.g. 16384",
    "input.vocab_size": "the number of tokens in the tokenizer's vocabulary, e.g. 30522",
    "input.image": 'how an uploaded picture becomes the graph input, e.g. {"formats": ["PNG", "JPEG"], "mode": "RGB", '
    '"size": [224, 224], "resample": "bilinear", "layout": "chw"}',
    "input.image.formats": 'the picture formats accepted, e.g. ["PNG", "JPEG"]',
    "input.image.mode": "L (grayscale) or RGB",
    "input.image.size": "[width, height] of the picture the graph takes, e.g. [224, 224]",
    "input.image.resample": "the resize filter: nearest, box, bilinear, hamming, bicubic or lanczos",
    "input.image.layout": "how the pixels are laid out in the graph input: hw, hwc or chw",
    "input.name": "the graph input's name, e.g. X",
    "input.dtype": "float32, float64, int32 or int64",
    "input.shape": "the graph input's shape, batch first as null, e.g. [null, 4]",
    "labels": 'the class names, in the order of the probabilities, e.g. ["setosa", "versicolor", "virginica"]',
    "probabilities_output": "the graph output holding the class probabilities, e.g. probabilities",
    "embedding": '{"output", "pooling", "normalize", "dimension"}, e.g. {"output": "last_hidden_state", '
    '"pooling": "mean", "normalize": true, "dimension": 384}',
    "embedding.output": "the graph output holding the vectors, e.g. last_hidden_state",
    "embedding.pooling": "mean, cls (the first token) or none (the output is one vector per input)",
    "embedding.normalize": "true or false: whether each vector is scaled to length 1",
    "embedding.dimension": "the length of each vector, e.g. 384",
    "model_sha256": "the sha256 of model.onnx, 64 hex digits",
    "model_bytes": "the size of model.onnx in bytes",
    "outputs": 'the graph outputs to use, e.g. ["probabilities"]',
}


class ModelProblems(ValueError):
    """Everything found wrong with a model version, each problem a sentence a person can act on."""

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("; ".join(self.problems))


class MetadataError(ModelProblems):
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


def name_problem(value: object, what: str) -> str | None:
    """Why ``value`` cannot be a model name or version (``what`` says which), or None."""
    return None if is_valid_name(value) else f"{what} {_shown(value)} is not allowed: {_NAME_RULE}"


def _shown(value: object, limit: int = 80) -> str:
    """The value as JSON shows it, never so long that a message itself grows large."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
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
    # Classification: the graph's own class values (ints or strings) in the order of ``labels``, which key the
    # probabilities when the graph gives them as a map per input (skl2onnx's ZipMap); and whether the
    # probabilities output holds scores (logits) that softmax turns into probabilities.
    classes: tuple[int | str, ...] | None = None
    softmax: bool = False

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
        """The metadata, or MetadataError listing every problem found."""
        reader = _Reader()
        metadata = _parse(reader, data)
        if reader.problems or metadata is None:
            raise MetadataError(reader.problems or ["metadata.json could not be read"])
        return metadata

    @classmethod
    def read(cls, version_dir: Path) -> ModelMetadata:
        """Parse ``metadata.json`` in a version directory; OSError if unreadable, MetadataError if malformed."""
        raw = (version_dir / METADATA_FILE).read_bytes()
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise MetadataError(f"{METADATA_FILE} is not valid JSON: {error}") from error
        return cls.from_dict(data)


# --- reading fields, noting every problem -------------------------------------------------------------------

_MISSING: Any = object()
_KIND_WORDS = {str: "a string", int: "a whole number", float: "a number", list: "a list", dict: "an object"}


class _Reader:
    """Reads fields by their dotted path and notes each problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def missing(self, path: str) -> None:
        hint = FIELD_HINTS.get(path) or FIELD_HINTS.get(path.rsplit(".", 1)[-1])
        self.problem(f"missing field {path}" + (f": {hint}" if hint else ""))

    def wrong(self, path: str, expected: str, value: object) -> None:
        self.problem(f"field {path} must be {expected}, got {_shown(value)}")

    def get(self, data: dict[str, Any], key: str, path: str, kind: type, default: Any = _MISSING) -> Any:
        """``data[key]`` if it is a ``kind``; ``default`` when absent (or null) and a default is given; else
        None, with the problem noted."""
        value = data.get(key)
        if value is None:
            if default is _MISSING:
                self.missing(path)
            return None if default is _MISSING else default
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            self.wrong(path, _KIND_WORDS.get(kind, kind.__name__), value)
            return None
        return value

    def choice(
        self, data: dict[str, Any], key: str, path: str, allowed: tuple[str, ...], default: Any = _MISSING
    ) -> Any:
        value = data.get(key)
        if value is None and default is not _MISSING:
            return default
        if value is None:
            self.missing(path)
            return None
        if value not in allowed:
            self.wrong(path, f"one of {', '.join(allowed)}", value)
            return None
        return str(value)

    def name(self, data: dict[str, Any], key: str) -> str | None:
        value = data.get(key)
        if value is None:
            self.missing(key)
            return None
        if not is_valid_name(value):
            self.wrong(key, f"a name that can be a folder ({_NAME_RULE})", value)
            return None
        return str(value)

    def count(self, data: dict[str, Any], key: str, path: str, default: Any = _MISSING) -> Any:
        """A positive whole number."""
        value = self.get(data, key, path, int, default)
        if isinstance(value, int) and value <= 0:
            self.wrong(path, "a positive whole number", value)
            return None
        return value

    def number(self, data: dict[str, Any], key: str, path: str, default: float) -> float | None:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.wrong(path, "a finite number", value)
            return None
        return float(value)

    def boolean(self, data: dict[str, Any], key: str, path: str, default: Any = _MISSING) -> Any:
        value = data.get(key)
        if value is None and default is not _MISSING:
            return default
        if not isinstance(value, bool):
            if value is None:
                self.missing(path)
            else:
                self.wrong(path, "true or false", value)
            return None
        return value

    def strings(self, data: dict[str, Any], key: str, path: str) -> tuple[str, ...] | None:
        value = self.get(data, key, path, list)
        if value is None:
            return None
        if not value or not all(isinstance(item, str) and item for item in value):
            self.wrong(path, "a non-empty list of non-empty strings", value)
            return None
        return tuple(value)

    def sha256(self, value: object, path: str) -> str | None:
        if value is None:
            self.missing(path)
            return None
        if not isinstance(value, str) or re.fullmatch(r"[0-9a-f]{64}", value) is None:
            self.wrong(path, "64 lowercase hex digits (the file's sha256)", value)
            return None
        return value

    def dtype(self, value: object, path: str) -> str | None:
        if value is None:
            self.missing(path)
            return None
        if value not in DTYPES:
            self.wrong(path, f"one of {', '.join(DTYPES)}", value)
            return None
        return str(value)

    def shape(self, value: object, path: str) -> tuple[int, ...] | None:
        if not isinstance(value, list) or not value or not all(_positive_int(dim) for dim in value):
            self.wrong(path, "a non-empty list of positive whole numbers", value)
            return None
        return tuple(value)


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _parse(reader: _Reader, data: object) -> ModelMetadata | None:
    if not isinstance(data, dict):
        reader.problem(f"metadata must be a JSON object, got {_shown(data)}")
        return None
    format_version = data.get("format_version")
    if format_version is None:
        reader.missing("format_version")
        return None
    if format_version not in FORMAT_VERSIONS or isinstance(format_version, bool):
        reader.wrong("format_version", f"one of {', '.join(map(str, FORMAT_VERSIONS))}", format_version)
        return None
    return _from_v1(reader, data) if format_version == 1 else _from_v2(reader, data)


def _from_v1(reader: _Reader, data: dict[str, Any]) -> ModelMetadata | None:
    """Format 1: one tensor input described in place, ``model_sha256``/``model_bytes``, ``training``."""
    identity = _identity(reader, data)
    task = reader.choice(data, "task", "task", (TASK_CLASSIFICATION, TASK_TENSOR))
    outputs = reader.strings(data, "outputs", "outputs")
    classifier = _classifier_fields(reader, data, task, outputs)
    model_sha256 = reader.sha256(data.get("model_sha256"), "model_sha256")
    model_bytes = reader.count(data, "model_bytes", "model_bytes")
    provenance = reader.get(data, "training", "training", dict, {})
    raw = reader.get(data, "input", "input", dict)
    graph_input = tensor = None
    if raw is not None:
        shape = raw.get("shape")
        name = reader.get(raw, "name", "input.name", str)
        dtype = reader.dtype(raw.get("dtype"), "input.dtype")
        if shape is None:
            reader.missing("input.shape")
        elif not isinstance(shape, list) or len(shape) < 2 or shape[0] is not None:
            reader.wrong("input.shape", "null (the batch) then fixed sizes, e.g. [null, 4]", shape)
            shape = None
        dims = reader.shape(shape[1:], "input.shape after the batch dimension") if shape else None
        if name is not None and dtype is not None and dims is not None:
            graph_input = GraphInput(name, dtype, (None, *dims))
            tensor = _tensor_spec(reader, raw, graph_input)
    if (
        reader.problems
        or identity is None
        or task is None
        or outputs is None
        or model_sha256 is None
        or model_bytes is None
        or graph_input is None
        or tensor is None
    ):
        return None
    return ModelMetadata(
        **identity,
        task=task,
        kind=KIND_TENSOR,
        files={MODEL_FILE: FileEntry(model_sha256, model_bytes)},
        graph_inputs=(graph_input,),
        outputs=outputs,
        input=tensor,
        text=None,
        image=None,
        embedding=None,
        provenance=provenance,
        format_version=1,
        **classifier,
    )


def _from_v2(reader: _Reader, data: dict[str, Any]) -> ModelMetadata | None:
    identity = _identity(reader, data)
    task = reader.choice(data, "task", "task", TASKS)
    raw_files = reader.get(data, "files", "files", dict)
    files = _files(reader, raw_files) if raw_files is not None else None
    graph = reader.get(data, "graph", "graph", dict)
    graph_inputs = outputs = None
    if graph is not None:
        raw_inputs = reader.get(graph, "inputs", "graph.inputs", list)
        graph_inputs = _graph_inputs(reader, raw_inputs) if raw_inputs is not None else None
        outputs = reader.strings(graph, "outputs", "graph.outputs")
    classifier = _classifier_fields(reader, data, task, outputs)
    embedding = _embedding_spec(reader, data, task, outputs)
    provenance = reader.get(data, "provenance", "provenance", dict, {})
    raw = reader.get(data, "input", "input", dict)
    kind = reader.choice(raw, "kind", "input.kind", KINDS) if raw is not None else None
    tensor = text = image = None
    if raw is not None and kind == KIND_TEXT:
        text = _text_spec(reader, raw, graph_inputs, files)
    elif raw is not None and kind is not None:
        tensor, image = _tensor_or_image(reader, raw, kind, graph_inputs)
    if (
        reader.problems
        or identity is None
        or task is None
        or files is None
        or graph_inputs is None
        or outputs is None
        or kind is None
    ):
        return None
    return ModelMetadata(
        **identity,
        task=task,
        kind=kind,
        files=files,
        graph_inputs=graph_inputs,
        outputs=outputs,
        input=tensor,
        text=text,
        image=image,
        embedding=embedding,
        provenance=provenance,
        **classifier,
    )


def _identity(reader: _Reader, data: dict[str, Any]) -> dict[str, Any] | None:
    """The fields both formats share: what the model is called and what it offers people."""
    name, version = reader.name(data, "name"), reader.name(data, "version")
    description = reader.get(data, "description", "description", str, "")
    samples = _samples(reader, data)
    if name is None or version is None or description is None or samples is None:
        return None
    return {"name": name, "version": version, "description": description, "samples": samples}


def _files(reader: _Reader, raw: dict[str, Any]) -> dict[str, FileEntry] | None:
    if MODEL_FILE not in raw:
        reader.problem(f"field files must list {MODEL_FILE} (and every other file the version needs)")
    files = {}
    for name in sorted(raw, key=lambda item: item != MODEL_FILE):
        entry, path = raw[name], f"files[{_shown(name)}]"
        if not is_valid_name(name) or name == METADATA_FILE:
            reader.problem(f"{path}: files lists plain file names of the folder, never {METADATA_FILE} itself")
            continue
        if not isinstance(entry, dict):
            reader.wrong(path, 'an object {"sha256": ..., "bytes": ...}', entry)
            continue
        sha256 = reader.sha256(entry.get("sha256"), f"{path}.sha256")
        size = reader.count(entry, "bytes", f"{path}.bytes")
        if sha256 is not None and size is not None:
            files[name] = FileEntry(sha256, size)
    return files if MODEL_FILE in files else None


def _graph_inputs(reader: _Reader, raw: list[Any]) -> tuple[GraphInput, ...] | None:
    if not raw:
        reader.problem(f"field graph.inputs must list at least one input: {FIELD_HINTS['graph.inputs']}")
        return None
    inputs = []
    for index, item in enumerate(raw):
        path = f"graph.inputs[{index}]"
        if not isinstance(item, dict):
            reader.wrong(path, "an object with name, dtype and shape", item)
            continue
        name = reader.get(item, "name", f"{path}.name", str)
        dtype = reader.dtype(item.get("dtype"), f"{path}.dtype")
        shape = item.get("shape")
        if (
            not isinstance(shape, list)
            or len(shape) < 2
            or shape[0] is not None
            or not all(dim is None or _positive_int(dim) for dim in shape)
        ):
            reader.wrong(
                f"{path}.shape",
                "null (the batch) then sizes, or null for a size the graph leaves open, e.g. [null, 4]",
                shape,
            )
            continue
        if name is not None and dtype is not None:
            inputs.append(GraphInput(name, dtype, tuple(shape)))
    if len({item.name for item in inputs}) != len(inputs):
        reader.problem("the graph inputs' names must differ from one another")
    return tuple(inputs) if len(inputs) == len(raw) else None


def _classifier_fields(
    reader: _Reader, data: dict[str, Any], task: str | None, outputs: tuple[str, ...] | None
) -> dict[str, Any]:
    if task != TASK_CLASSIFICATION:
        for key in ("labels", "probabilities_output", "classes", "softmax"):
            if data.get(key) is not None and task is not None:
                reader.problem(f"field {key} applies to classification models only, and this one's task is {task}")
        return {"labels": None, "probabilities_output": None}
    labels = reader.strings(data, "labels", "labels")
    probabilities_output = reader.get(data, "probabilities_output", "probabilities_output", str)
    if probabilities_output is not None and outputs is not None and probabilities_output not in outputs:
        reader.problem(
            f"field probabilities_output names {_shown(probabilities_output)}, which is not one of the graph "
            f"outputs {_shown(list(outputs))}"
        )
    if labels is not None and len(set(labels)) != len(labels):
        reader.problem(f"field labels must not repeat a label, got {_shown(list(labels))}")
    classes = data.get("classes")
    if classes is not None:
        if (
            not isinstance(classes, list)
            or not classes
            or not (
                all(isinstance(item, int) and not isinstance(item, bool) for item in classes)
                or all(isinstance(item, str) for item in classes)
            )
            or len(set(classes)) != len(classes)
        ):
            reader.wrong("classes", "a list of distinct whole numbers, or of distinct strings", classes)
            classes = None
        elif labels is not None and len(classes) != len(labels):
            reader.problem(f"field classes has {len(classes)} values but labels has {len(labels)}: one per label")
            classes = None
    softmax = reader.boolean(data, "softmax", "softmax", False)
    return {
        "labels": labels,
        "probabilities_output": probabilities_output,
        "classes": None if classes is None else tuple(classes),
        "softmax": bool(softmax),
    }


def _embedding_spec(
    reader: _Reader, data: dict[str, Any], task: str | None, outputs: tuple[str, ...] | None
) -> EmbeddingSpec | None:
    if task != TASK_EMBEDDING:
        if data.get("embedding") is not None and task is not None:
            reader.problem(f"field embedding applies to embedding models only, and this one's task is {task}")
        return None
    raw = reader.get(data, "embedding", "embedding", dict)
    if raw is None:
        return None
    output = reader.get(raw, "output", "embedding.output", str)
    if output is not None and outputs is not None and output not in outputs:
        reader.problem(
            f"field embedding.output names {_shown(output)}, which is not one of the graph outputs "
            f"{_shown(list(outputs))}"
        )
    normalize = reader.boolean(raw, "normalize", "embedding.normalize")
    pooling = reader.choice(raw, "pooling", "embedding.pooling", POOLINGS)
    dimension = reader.count(raw, "dimension", "embedding.dimension")
    if output is None or normalize is None or pooling is None or dimension is None:
        return None
    return EmbeddingSpec(output, pooling, normalize, dimension)


def _tensor_or_image(
    reader: _Reader, raw: dict[str, Any], kind: str, graph_inputs: tuple[GraphInput, ...] | None
) -> tuple[InputSpec | None, ImageSpec | None]:
    name = reader.get(raw, "graph_input", "input.graph_input", str)
    if name is None or graph_inputs is None:
        return None, None
    by_name = {item.name: item for item in graph_inputs}
    fed = by_name.get(name)
    if fed is None:
        reader.problem(
            f"field input.graph_input names {_shown(name)}, which is not one of the graph inputs {sorted(by_name)}"
        )
        return None, None
    if len(graph_inputs) != 1:
        reader.problem(f"a {kind} input feeds exactly one graph input, but graph.inputs lists {len(graph_inputs)}")
    if any(dim is None for dim in fed.shape[1:]):
        reader.problem(
            f"a {kind} input needs fixed sizes after the batch dimension, but {name} has the shape "
            f"{_shown(list(fed.shape))}"
        )
        return None, None
    tensor = _tensor_spec(reader, raw, fed)
    if kind != KIND_IMAGE or tensor is None:
        return tensor, None
    image = reader.get(raw, "image", "input.image", dict)
    return tensor, (None if image is None else _image_spec(reader, image, tensor))


def _tensor_spec(reader: _Reader, raw: dict[str, Any], graph_input: GraphInput) -> InputSpec | None:
    row_shape = tuple(int(dim) for dim in graph_input.shape[1:] if dim is not None)
    also_accepts: list[tuple[int, ...]] = []
    for index, item in enumerate(reader.get(raw, "also_accepts", "input.also_accepts", list, []) or []):
        alternative = reader.shape(item, f"input.also_accepts[{index}]")
        if alternative is not None and math.prod(alternative) != math.prod(row_shape):
            reader.problem(
                f"field input.also_accepts[{index}] is the shape {list(alternative)}, which does not hold the "
                f"{math.prod(row_shape)} values of {list(row_shape)}"
            )
        elif alternative is not None:
            also_accepts.append(alternative)
    value_range = _value_range(reader, raw.get("range"))
    preprocessing = reader.get(raw, "preprocessing", "input.preprocessing", str, "")
    return InputSpec(
        name=graph_input.name,
        dtype=graph_input.dtype,
        row_shape=row_shape,
        value_range=value_range,
        also_accepts=tuple(also_accepts),
        preprocessing=preprocessing or "",
    )


def _text_spec(
    reader: _Reader,
    raw: dict[str, Any],
    graph_inputs: tuple[GraphInput, ...] | None,
    files: dict[str, FileEntry] | None,
) -> TextSpec | None:
    tokenizer = reader.get(raw, "tokenizer", "input.tokenizer", str)
    if tokenizer is not None and files is not None and tokenizer not in files:
        reader.problem(
            f"field input.tokenizer names {_shown(tokenizer)}, which is not one of the checksummed files "
            f"{sorted(files)}"
        )
    roles = reader.get(raw, "graph_inputs", "input.graph_inputs", dict)
    if roles is not None:
        unknown = sorted(set(roles) - set(TEXT_ROLES))
        lacking = [role for role in ("input_ids", "attention_mask") if role not in roles]
        if unknown:
            reader.problem(f"field input.graph_inputs has unknown roles {unknown}: use {', '.join(TEXT_ROLES)}")
        if lacking:
            reader.problem(f"field input.graph_inputs lacks {', '.join(lacking)}: {FIELD_HINTS['input.graph_inputs']}")
        by_name = {item.name: item for item in graph_inputs or ()}
        for role, name in roles.items():
            fed = by_name.get(name) if isinstance(name, str) else None
            if graph_inputs is not None and (fed is None or fed.dtype not in ("int32", "int64") or len(fed.shape) != 2):
                reader.problem(
                    f"field input.graph_inputs.{role} must name an integer [batch, sequence] graph input, "
                    f"got {_shown(name)}"
                )
        if graph_inputs is not None and set(roles.values()) != set(by_name):
            unfed = sorted(set(by_name) - set(roles.values()))
            if unfed:
                reader.problem(f"the graph inputs {unfed} are fed by nothing: a text model's tokenizer feeds them all")
    max_tokens = reader.count(raw, "max_tokens", "input.max_tokens")
    max_text_bytes = reader.count(raw, "max_text_bytes", "input.max_text_bytes")
    max_batch = reader.count(raw, "max_batch", "input.max_batch", None)
    vocab_size = reader.count(raw, "vocab_size", "input.vocab_size")
    if tokenizer is None or roles is None or max_tokens is None or max_text_bytes is None or vocab_size is None:
        return None
    return TextSpec(
        tokenizer=tokenizer,
        graph_inputs=dict(roles),
        max_tokens=max_tokens,
        max_text_bytes=max_text_bytes,
        max_batch=max_batch,
        vocab_size=vocab_size,
    )


def _image_spec(reader: _Reader, raw: dict[str, Any], tensor: InputSpec) -> ImageSpec | None:
    formats = reader.strings(raw, "formats", "input.image.formats")
    if formats is not None and not set(formats) <= set(IMAGE_FORMATS):
        reader.wrong("input.image.formats", f"a list of {' and '.join(IMAGE_FORMATS)}", list(formats))
    mode = reader.choice(raw, "mode", "input.image.mode", tuple(IMAGE_MODES))
    size = reader.get(raw, "size", "input.image.size", list)
    if size is not None and (len(size) != 2 or not all(_positive_int(side) for side in size)):
        reader.wrong("input.image.size", "[width, height] in pixels", size)
        size = None
    invert = raw.get("invert", False)
    if invert not in (True, False, "auto"):
        reader.wrong("input.image.invert", 'true, false or "auto"', invert)
    crop = raw.get("crop_to_ink")
    if crop is not None and (isinstance(crop, bool) or not isinstance(crop, int) or not 0 <= crop < 255):
        reader.wrong("input.image.crop_to_ink", "null or a threshold from 0 to 254", crop)
    divide_by = raw.get("divide_by", 255)
    if divide_by != "max" and (
        isinstance(divide_by, bool) or not isinstance(divide_by, int | float) or not divide_by > 0
    ):
        reader.wrong("input.image.divide_by", 'a positive number or "max"', divide_by)
    resample = reader.choice(raw, "resample", "input.image.resample", RESAMPLE_FILTERS)
    layout = reader.choice(raw, "layout", "input.image.layout", IMAGE_LAYOUTS)
    scale = reader.number(raw, "scale", "input.image.scale", 1.0)
    max_pixels = reader.number(raw, "max_pixels", "input.image.max_pixels", DEFAULT_MAX_PIXELS)
    if mode is None:
        return None
    channels = IMAGE_MODES[mode]
    mean = _per_channel(reader, raw, "mean", 0.0, channels)
    std = _per_channel(reader, raw, "std", 1.0, channels)
    if std is not None and not all(value > 0 for value in std):
        reader.wrong("input.image.std", "positive", list(std))
    if size is not None and math.prod(size) * channels != math.prod(tensor.row_shape):
        reader.problem(
            f"an image of {size[0]}x{size[1]} pixels with {channels} channel{'s' * (channels > 1)} "
            f"({math.prod(size) * channels} values) does not fill the graph input {tensor.name}, "
            f"{list(tensor.row_shape)} ({math.prod(tensor.row_shape)} values)"
        )
    if (
        reader.problems
        or formats is None
        or size is None
        or resample is None
        or layout is None
        or scale is None
        or max_pixels is None
        or mean is None
        or std is None
    ):
        return None
    return ImageSpec(
        formats=formats,
        mode=mode,
        size=(size[0], size[1]),
        resample=resample,
        invert=invert,
        crop_to_ink=crop,
        divide_by=divide_by if divide_by == "max" else float(divide_by),
        scale=scale,
        mean=mean,
        std=std,
        layout=layout,
        max_pixels=int(max_pixels),
    )


def _per_channel(
    reader: _Reader, raw: dict[str, Any], key: str, default: float, channels: int
) -> tuple[float, ...] | None:
    value = raw.get(key, default)
    values = value if isinstance(value, list) else [value]
    if len(values) not in (1, channels) or not all(
        isinstance(item, int | float) and not isinstance(item, bool) and math.isfinite(item) for item in values
    ):
        reader.wrong(f"input.image.{key}", f"a number or one number per channel ({channels})", value)
        return None
    return tuple(float(item) for item in values) * (channels if len(values) == 1 else 1)


def _value_range(reader: _Reader, value: object) -> tuple[float, float] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(bound, int | float) and not isinstance(bound, bool) for bound in value)
        or not all(math.isfinite(bound) for bound in value)
        or value[0] > value[1]
    ):
        reader.wrong("input.range", "[low, high] with finite low <= high", value)
        return None
    return float(value[0]), float(value[1])


def _samples(reader: _Reader, data: dict[str, Any]) -> tuple[dict[str, Any], ...] | None:
    samples = reader.get(data, "samples", "samples", list, [])
    if samples is None:
        return None
    for index, sample in enumerate(samples):
        if not isinstance(sample, dict) or "input" not in sample or not isinstance(sample.get("label", ""), str):
            reader.wrong(f"samples[{index}]", 'an object {"input": ..., "label": "..."} (label optional)', sample)
    return tuple(samples)
