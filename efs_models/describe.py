"""`efs-models init`: from an ONNX file (or a folder holding one) to a model folder, without hand-written JSON.

It reads the graph (``efs_models.graph``), infers what it can and says what it assumed:

- the kind of input: token inputs (``input_ids``, ``attention_mask``, ``token_type_ids``) make a text model, fed by
  the tokenizer (``--tokenizer``, or a ``tokenizer.json`` beside the model); ``--image-preset`` or one float input of
  rank 4 with 1 or 3 channels an image model; anything else a tensor model of its one input;
- the task: a classifier when the graph names its classes (skl2onnx), when ``--labels`` or ``--softmax`` is given,
  or when a Hugging Face ``config.json`` beside the model has ``id2label`` for an output that wide; an embedding
  model when ``--pooling`` is given or a text model outputs token vectors; else plain outputs by name;
- the details: a classifier's probabilities output (skl2onnx's ZipMap too) and class labels in the order of its
  probabilities, ``vocab_size`` from the tokenizer, ``max_tokens`` from sentence-transformers' or the tokenizer's
  settings, the pooling and normalisation from a sentence-transformers folder, an embedding's ``dimension`` and a
  tensor model's per-input outputs from one run in ONNX Runtime.

The result is a folder in metadata format 2 with every file's checksum; the caller then runs the publish checks
on it. Every problem with the flags or the graph is collected and raised at once (``UsageProblems``)."""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from efs_models.graph import GraphInfo, Port, read_graph
from inference.models.checks import PROBE_TEXTS, made_up_tensors
from inference.models.metadata import (
    DTYPES,
    FORMAT_VERSION,
    IMAGE_LAYOUTS,
    KIND_IMAGE,
    KIND_TENSOR,
    KIND_TEXT,
    METADATA_FILE,
    MODEL_FILE,
    POOLINGS,
    TASK_CLASSIFICATION,
    TASK_EMBEDDING,
    TASK_TENSOR,
    ModelProblems,
    name_problem,
    sha256_hex,
)

TOKENIZER_FILE = "tokenizer.json"
DEFAULT_MODELS_DIR = "models"  # init writes DEFAULT_MODELS_DIR/<name> when no --out is given
DEFAULT_MAX_TEXT_BYTES = 16 * 1024
IMAGE_PRESETS: dict[str, dict[str, Any]] = {
    # torchvision's ImageNet models: RGB, 224x224, values 0..1 normalised by ImageNet's per-channel mean and std.
    "imagenet": {
        "mode": "RGB",
        "size": [224, 224],
        "resample": "bilinear",
        "divide_by": 255,
        "mean": [0.485, 0.456, 0.406],
        "std": [0.229, 0.224, 0.225],
    },
}
# Made-up samples larger than this would weigh on every GET /models (the UI's and the jobs' catalogue).
MAX_MADE_UP_SAMPLE_VALUES = 1024
_ROLE_NAMES = {"input_ids": "input_ids", "attention_mask": "attention_mask", "token_type": "token_type_ids"}


class UsageProblems(ModelProblems):
    """Flags and a source that cannot make a model folder: every problem, each said plainly."""


@dataclass
class InitOptions:
    name: str
    out: Path | None  # None where no folder can be named (no --out, and no valid --name to name one after)
    version: str = "1"
    description: str | None = None
    task: str | None = None
    kind: str | None = None
    labels: list[str] | None = None
    softmax: bool = False
    output: str | None = None  # the probabilities output, the embedding output, or (tensor task) the only output
    tokenizer: Path | None = None
    pooling: str | None = None
    normalize: bool | None = None
    max_tokens: int | None = None
    max_text_bytes: int | None = None
    max_batch: int | None = None
    image_preset: str | None = None
    image_size: tuple[int, int] | None = None
    image_mode: str | None = None
    value_range: tuple[float, float] | None = None
    samples: Path | None = None
    force: bool = False
    out_by_default: bool = False  # out is DEFAULT_MODELS_DIR/<name>, no --out being given


@dataclass
class Draft:
    """What init writes, and what it said about how it got there."""

    metadata: dict[str, Any]
    files: dict[str, Path]  # file name in the model folder -> where it comes from
    inferred: list[str] = field(default_factory=list)
    assumed: list[str] = field(default_factory=list)


@dataclass
class _Source:
    model: Path
    folder: Path  # where the files beside the model are looked for
    tokenizer: Path | None
    hf_config: dict[str, Any]
    st_pooling: str | None  # sentence-transformers' pooling mode, from 1_Pooling/config.json
    st_normalize: bool | None  # whether sentence-transformers' modules.json ends in Normalize
    st_max_tokens: int | None  # sentence_bert_config.json's max_seq_length


@dataclass
class _Work:
    """What the steps of ``describe`` share: the graph, the files found, the flags, and what they conclude."""

    graph: GraphInfo
    found: _Source
    options: InitOptions
    draft: Draft
    problems: list[str]
    probe: dict[str, Any] = field(default_factory=dict)


def describe(source: Path, options: InitOptions) -> Draft:
    """The model folder ``source`` makes with ``options``; UsageProblems listing every problem otherwise."""
    problems = preflight_problems(source, options)
    found = _find_source(Path(source), options, problems)
    if found is None:
        raise UsageProblems(problems)
    graph = read_graph(found.model)
    draft = Draft(metadata={}, files={MODEL_FILE: found.model})
    work = _Work(graph, found, options, draft, problems)
    kind = _kind(work)
    task = _task(work, kind)
    problems.extend(_flags_that_do_not_apply(options, kind, task))
    metadata: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "name": options.name,
        "version": options.version,
        "description": options.description or f"{_words(task, kind)}, from {found.model.name}",
        "task": task,
    }
    if kind == KIND_TEXT:
        metadata["graph"], metadata["input"] = _text_input(work)
    else:
        metadata["graph"], metadata["input"] = _tensor_input(work, kind)
    if problems:
        raise UsageProblems(problems)
    work.probe = _probe_outputs(found, graph, metadata)
    if task == TASK_CLASSIFICATION:
        metadata.update(_classifier(work))
    elif task == TASK_EMBEDDING:
        metadata["embedding"] = _embedding(work)
    metadata["graph"]["outputs"] = _outputs(work, task, metadata)
    metadata["samples"] = _samples(work, metadata)
    metadata["provenance"] = {
        "source": found.model.name,
        "producer": graph.producer or None,
        "described_by": "efs-models init",
        "inferred": draft.inferred,
        "assumed": draft.assumed,
    }
    if problems:
        raise UsageProblems(problems)
    draft.metadata = metadata
    return draft


def preflight_problems(source: Path | str, options: InitOptions) -> list[str]:
    """What is wrong with the flags before the graph is read: names, the source's existence, the output folder."""
    problems = []
    for value, what in ((options.name, "--name"), (options.version, "--version")):
        problem = name_problem(value, what) if value else None
        if problem:
            problems.append(problem)
    if source and not Path(source).exists():
        problems.append(f"{source} does not exist: give an .onnx file or a folder holding one")
    if options.out is not None:
        _check_out(options, problems)
    return problems


def write_folder(draft: Draft, out: Path, *, force: bool = False) -> Path:
    """Copy the files and write metadata.json with every file's checksum; returns the folder."""
    out = Path(out)
    if force and (out / METADATA_FILE).is_file():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, path in draft.files.items():
        shutil.copyfile(path, out / name)
        data = (out / name).read_bytes()
        files[name] = {"sha256": sha256_hex(data), "bytes": len(data)}
    head = ("format_version", "name", "version", "description", "task")
    metadata = {key: draft.metadata[key] for key in head}
    metadata["files"] = files
    metadata.update((key, value) for key, value in draft.metadata.items() if key not in head)
    (out / METADATA_FILE).write_text(json.dumps(metadata, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


# --- the source ---------------------------------------------------------------------------------------------


def _find_source(source: Path, options: InitOptions, problems: list[str]) -> _Source | None:
    if source.is_dir():
        candidates = sorted(source.glob("*.onnx"))
        named = source / MODEL_FILE
        if named.is_file():
            model = named
        elif len(candidates) == 1:
            model = candidates[0]
        else:
            listed = ", ".join(path.name for path in candidates) or "none"
            problems.append(f"{source} must hold one .onnx file, or a {MODEL_FILE} (found: {listed})")
            return None
    elif source.is_file():
        model = source
    else:
        return None  # preflight_problems says so
    folder = model.parent
    tokenizer = options.tokenizer
    if tokenizer is not None and not tokenizer.is_file():
        problems.append(f"--tokenizer {tokenizer} does not exist")
        tokenizer = None
    elif tokenizer is None and (folder / TOKENIZER_FILE).is_file():
        tokenizer = folder / TOKENIZER_FILE
    pooling_config = _json_file(next(iter(sorted(folder.glob("*_Pooling/config.json"))), None), problems)
    pooling = None
    if pooling_config.get("pooling_mode_cls_token"):
        pooling = "cls"
    elif pooling_config.get("pooling_mode_mean_tokens"):
        pooling = "mean"
    modules = _json_file(folder / "modules.json", problems)
    normalize = None
    if isinstance(modules, list) and modules:
        normalize = any("Normalize" in str(module.get("type", "")) for module in modules if isinstance(module, dict))
    st_config = _json_file(folder / "sentence_bert_config.json", problems)
    max_seq = st_config.get("max_seq_length") if isinstance(st_config, dict) else None
    return _Source(
        model=model,
        folder=folder,
        tokenizer=tokenizer,
        hf_config=_json_file(folder / "config.json", problems),
        st_pooling=pooling,
        st_normalize=normalize,
        st_max_tokens=max_seq if isinstance(max_seq, int) and max_seq > 0 else None,
    )


def _json_file(path: Path | None, problems: list[str]) -> Any:
    if path is None or not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        problems.append(f"{path} cannot be read as JSON: {error}")
        return {}


# --- kind and task --------------------------------------------------------------------------------------------


def _text_roles(graph: GraphInfo) -> dict[str, str]:
    roles = {}
    for port in graph.inputs:
        role = next((role for key, role in _ROLE_NAMES.items() if key in port.name.lower()), None)
        if role and port.dtype in ("int32", "int64") and len(port.shape) == 2:
            roles[role] = port.name
    return roles


def _image_layout(port: Port) -> tuple[str, int, tuple[int | None, int | None]] | None:
    """(layout, channels, (height, width)) of an input that looks like a batch of pictures."""
    shape = port.shape
    if len(shape) == 4 and shape[1] in (1, 3):
        return "chw", int(shape[1]), (shape[2], shape[3])
    if len(shape) == 4 and shape[3] in (1, 3):
        return "hwc", int(shape[3]), (shape[1], shape[2])
    if len(shape) == 3:
        return "hw", 1, (shape[1], shape[2])
    return None


def _kind(work: _Work) -> str:
    graph, options, draft = work.graph, work.options, work.draft
    if options.kind:
        return options.kind
    roles = _text_roles(graph)
    if "input_ids" in roles and "attention_mask" in roles:
        draft.inferred.append(f"a text model: the graph takes token inputs ({', '.join(sorted(roles.values()))})")
        return KIND_TEXT
    if options.image_preset:
        return KIND_IMAGE
    if len(graph.inputs) == 1 and graph.inputs[0].is_float_tensor:
        layout = _image_layout(graph.inputs[0]) if len(graph.inputs[0].shape) == 4 else None
        if layout is not None:
            draft.assumed.append(
                f"an image model: its one input {graph.inputs[0].words()} looks like a batch of pictures "
                "(say --kind tensor if it is not)"
            )
            return KIND_IMAGE
    return KIND_TENSOR


def _task(work: _Work, kind: str) -> str:
    graph, found, options, draft = work.graph, work.found, work.options, work.draft
    if options.task:
        return options.task
    if graph.classes is not None:
        draft.inferred.append(f"a classifier: the graph names its {len(graph.classes)} classes ({graph.producer})")
        return TASK_CLASSIFICATION
    if options.labels or options.softmax:
        return TASK_CLASSIFICATION
    if _id2label(found) and _widest_scores(graph, len(_id2label(found))) is not None:
        draft.inferred.append("a classifier: config.json beside the model has id2label for an output that wide")
        return TASK_CLASSIFICATION
    if options.pooling:
        return TASK_EMBEDDING
    if kind == KIND_TEXT and any(port.is_float_tensor and len(port.shape) in (2, 3) for port in graph.outputs):
        draft.inferred.append("an embedding model: a text model whose output is vectors (no --labels given)")
        return TASK_EMBEDDING
    return TASK_TENSOR


# The flags that describe one kind of input, or one task: given for another, each would be silently ignored.
_KIND_FLAGS = {
    "tokenizer": ("--tokenizer", (KIND_TEXT,)),
    "max_tokens": ("--max-tokens", (KIND_TEXT,)),
    "max_text_bytes": ("--max-text-bytes", (KIND_TEXT,)),
    "max_batch": ("--max-batch", (KIND_TEXT,)),
    "image_preset": ("--image-preset", (KIND_IMAGE,)),
    "image_size": ("--image-size", (KIND_IMAGE,)),
    "image_mode": ("--image-mode", (KIND_IMAGE,)),
    "value_range": ("--range", (KIND_TENSOR, KIND_IMAGE)),
}
_TASK_FLAGS = {
    "labels": ("--labels", TASK_CLASSIFICATION),
    "softmax": ("--softmax", TASK_CLASSIFICATION),
    "pooling": ("--pooling", TASK_EMBEDDING),
    "normalize": ("--normalize", TASK_EMBEDDING),
}


def _flags_that_do_not_apply(options: InitOptions, kind: str, task: str) -> list[str]:
    """A problem for each flag given that does not apply to the kind of input and the task init found."""
    words = _words(task, kind).lower()
    found = f"{'an' if words[0] in 'aeiou' else 'a'} {words}"
    problems = []
    for field_name, (flag, kinds) in _KIND_FLAGS.items():
        if getattr(options, field_name) is not None and kind not in kinds:
            wanted = " or ".join(kinds)
            problems.append(
                f"{flag} is for {wanted} models, but this one is {found}: drop {flag}, or say --kind {kinds[0]} "
                "if it is one"
            )
    for field_name, (flag, wanted_task) in _TASK_FLAGS.items():
        value = getattr(options, field_name)
        given = value is not None if field_name == "normalize" else value not in (None, False)  # --no-normalize
        if given and task != wanted_task:
            shown = "--no-normalize" if value is False else flag
            noun = {TASK_CLASSIFICATION: "classifiers", TASK_EMBEDDING: "embedding models"}[wanted_task]
            problems.append(
                f"{shown} is for {noun}, but this one is {found}: drop {shown}, or say --task {wanted_task} if it is "
                "one"
            )
    return problems


def _words(task: str, kind: str) -> str:
    nouns = {TASK_CLASSIFICATION: "classifier", TASK_EMBEDDING: "embedding model", TASK_TENSOR: "model"}
    things = {KIND_TEXT: "Text", KIND_IMAGE: "Image", KIND_TENSOR: "Tensor"}
    return f"{things[kind]} {nouns[task]}"


# --- inputs ----------------------------------------------------------------------------------------------


def _text_input(work: _Work) -> tuple[dict[str, Any], dict[str, Any]]:
    graph, found, options, draft, problems = work.graph, work.found, work.options, work.draft, work.problems
    roles = _text_roles(graph)
    unfed = [port.name for port in graph.inputs if port.name not in roles.values()]
    if unfed or "input_ids" not in roles or "attention_mask" not in roles:
        problems.append(
            f"a text model's graph takes input_ids and attention_mask (and optionally token_type_ids) as integer "
            f"[batch, sequence] inputs; this one takes {[port.words() for port in graph.inputs]}"
        )
    graph_inputs = [{"name": port.name, "dtype": port.dtype or "int64", "shape": [None, None]} for port in graph.inputs]
    spec: dict[str, Any] = {"kind": KIND_TEXT, "graph_inputs": roles}
    tokenizer = _tokenizer(work)
    if tokenizer is not None:
        vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)
        draft.inferred.append(f"vocab_size {vocab_size}, from {TOKENIZER_FILE}")
        spec.update(tokenizer=TOKENIZER_FILE, vocab_size=vocab_size)
    truncation = (tokenizer.truncation or {}).get("max_length") if tokenizer is not None else None
    max_positions = found.hf_config.get("max_position_embeddings")
    if options.max_tokens:
        spec["max_tokens"] = options.max_tokens
    elif found.st_max_tokens:
        spec["max_tokens"] = found.st_max_tokens
        draft.inferred.append(f"max_tokens {found.st_max_tokens}, from sentence_bert_config.json")
    elif isinstance(truncation, int) and truncation > 0:
        spec["max_tokens"] = truncation
        draft.inferred.append(f"max_tokens {truncation}, the truncation {TOKENIZER_FILE} sets")
    elif isinstance(max_positions, int) and max_positions > 0:
        spec["max_tokens"] = max_positions
        draft.inferred.append(f"max_tokens {max_positions}, config.json's max_position_embeddings")
    else:
        problems.append("missing --max-tokens: the longest token sequence the model takes, e.g. 256")
    spec["max_text_bytes"] = options.max_text_bytes or DEFAULT_MAX_TEXT_BYTES
    if not options.max_text_bytes:
        draft.assumed.append(f"max_text_bytes {DEFAULT_MAX_TEXT_BYTES}: longer texts are refused (--max-text-bytes)")
    if options.max_batch:
        spec["max_batch"] = options.max_batch
    return {"inputs": graph_inputs}, spec


def _tokenizer(work: _Work) -> Any:
    """The text model's tokenizer (``tokenizers.Tokenizer``), once it reads; None with the problem noted."""
    path = work.found.tokenizer
    if path is None:
        work.problems.append(f"a text model needs its tokenizer: --tokenizer {TOKENIZER_FILE} (Hugging Face's format)")
        return None
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as error:  # tokenizers raises plain Exceptions for malformed files
        work.problems.append(f"{path} is not a tokenizer that `tokenizers` can read: {error}")
        return None
    work.draft.files[TOKENIZER_FILE] = path
    return tokenizer


def _tensor_input(work: _Work, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    graph, options, problems = work.graph, work.options, work.problems
    if len(graph.inputs) != 1:
        problems.append(
            f"the graph takes {len(graph.inputs)} inputs ({[port.words() for port in graph.inputs]}); a tensor or "
            "image model takes one, and a text model takes input_ids and attention_mask"
        )
        return {"inputs": []}, {}
    port = graph.inputs[0]
    if port.dtype not in DTYPES:
        problems.append(f"the graph's input {port.words()} is of a type requests cannot send: use one of {DTYPES}")
        return {"inputs": []}, {}
    shape: list[int | None] = [None, *port.shape[1:]]
    spec: dict[str, Any] = {"kind": kind, "graph_input": port.name}
    if options.value_range is not None:
        spec["range"] = list(options.value_range)
    if kind == KIND_IMAGE:
        image, shape = _image(port, work)
        spec["image"] = image
    if any(dim is None for dim in shape[1:]):
        problems.append(
            f"the graph's input {port.words()} leaves sizes open after the batch: export it with fixed sizes"
            + (" or give --image-size WIDTHxHEIGHT" if kind == KIND_IMAGE else "")
        )
    return {"inputs": [{"name": port.name, "dtype": port.dtype, "shape": shape}]}, spec


def _flat_layout(port: Port, options: InitOptions) -> tuple[str, int, tuple[int | None, int | None]] | None:
    """A graph taking each picture as one row of pixel values ([batch, width x height x channels], as scikit-learn's
    digits): its layout, when --image-size says the picture's size and the values fill it."""
    if len(port.shape) != 2 or options.image_size is None:
        return None
    channels = 3 if options.image_mode == "RGB" else 1
    width, height = options.image_size
    if port.shape[1] != width * height * channels:
        return None
    return ("hwc" if channels == 3 else "hw"), channels, (height, width)


def _image(port: Port, work: _Work) -> tuple[dict[str, Any], list[int | None]]:
    options, draft, problems = work.options, work.draft, work.problems
    flat = _flat_layout(port, options)
    layout = flat or _image_layout(port)
    if layout is None:
        problems.append(
            f"the graph's input {port.words()} is not a batch of pictures: [batch, channels, height, width], "
            "[batch, height, width, channels], [batch, height, width], or rows of pixel values with --image-size "
            "WIDTHxHEIGHT saying how many"
        )
        return {}, [None, *port.shape[1:]]
    order, channels, (height, width) = layout
    preset = IMAGE_PRESETS.get(options.image_preset or "", {})
    mode = options.image_mode or ("RGB" if channels == 3 else "L")
    if options.image_size:
        width, height = options.image_size
    elif height is None or width is None:
        width, height = preset.get("size", [None, None])
        if width is not None:
            draft.assumed.append(f"{width}x{height} pictures, the {options.image_preset} preset's (--image-size)")
    image = {
        "formats": ["PNG", "JPEG"],
        "mode": mode,
        "size": [width, height],
        "resample": preset.get("resample", "bilinear"),
        "invert": False,
        "crop_to_ink": None,
        "divide_by": preset.get("divide_by", 255),
        "scale": 1,
        "mean": preset.get("mean", 0),
        "std": preset.get("std", 1),
        "layout": order if order in IMAGE_LAYOUTS else "chw",
    }
    if (mode == "RGB") != (channels == 3):
        problems.append(
            f"--image-mode {mode} gives {3 if mode == 'RGB' else 1} channels, but the graph takes {channels}"
        )
    draft.inferred.append(f"{mode} pictures laid out {order} ({channels} channel{'s' * (channels > 1)})")
    if options.image_preset:
        draft.inferred.append(f"the {options.image_preset} preprocessing: {preset}")
    else:
        draft.assumed.append("pixels scaled to 0..1 with no mean or std (--image-preset imagenet for ImageNet's)")
    if flat is not None:
        return image, [None, *port.shape[1:]]  # the graph's own rows: the pixels are laid out, then flattened
    dims: list[int | None] = [None, channels, height, width] if order == "chw" else [None, height, width, channels]
    return image, dims if order != "hw" else [None, height, width]


# --- outputs ---------------------------------------------------------------------------------------------


def _probe_outputs(found: _Source, graph: GraphInfo, metadata: dict[str, Any]) -> dict[str, Any]:
    """Each output of one run on two made-up inputs (one, when the graph takes one at a time), by name."""
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(found.model), providers=["CPUExecutionProvider"])
    batch = 1 if any(port.shape and port.shape[0] == 1 for port in graph.inputs) else 2
    feeds: dict[str, Any] = {}
    if metadata["input"].get("kind") == KIND_TEXT:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(found.tokenizer))
        tokenizer.enable_padding()
        encodings = tokenizer.encode_batch(list(PROBE_TEXTS[:batch]))
        arrays = {
            "input_ids": [item.ids for item in encodings],
            "attention_mask": [item.attention_mask for item in encodings],
            "token_type_ids": [item.type_ids for item in encodings],
        }
        dtypes = {item["name"]: item["dtype"] for item in metadata["graph"]["inputs"]}
        for role, name in metadata["input"]["graph_inputs"].items():
            feeds[name] = np.asarray(arrays[role], dtype=dtypes[name])
    else:
        (graph_input,) = metadata["graph"]["inputs"]
        feeds[graph_input["name"]] = np.zeros([batch, *graph_input["shape"][1:]], dtype=graph_input["dtype"])
    try:
        results = session.run(None, feeds)
    except Exception as error:  # onnxruntime raises several unrelated exception types
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UsageProblems(f"the graph cannot run on made-up inputs of the shape it declares: {first}") from None
    return {"batch": batch, **{port.name: value for port, value in zip(graph.outputs, results, strict=True)}}


def _per_input(value: Any, batch: int) -> bool:
    if isinstance(value, list):
        return len(value) == batch
    return getattr(value, "ndim", 0) >= 1 and value.shape[0] == batch


def _widest_scores(graph: GraphInfo, width: int) -> Port | None:
    return next(
        (port for port in graph.outputs if port.is_float_tensor and port.shape and port.shape[-1] == width), None
    )


def _id2label(found: _Source) -> list[str]:
    raw = found.hf_config.get("id2label")
    if not isinstance(raw, dict) or not raw:
        return []
    try:
        return [str(raw[key]) for key in sorted(raw, key=int)]
    except (ValueError, TypeError):
        return []


def _classifier(work: _Work) -> dict[str, Any]:
    graph, options, draft, problems = work.graph, work.options, work.draft, work.problems
    output = _probabilities_output(work)
    probe = work.probe
    if output is None:
        return {}
    value: Any = probe.get(output.name)
    columns = None
    if isinstance(value, list) and value and isinstance(value[0], dict):
        columns = len(value[0])
    elif getattr(value, "ndim", 0) == 2:
        columns = int(value.shape[1])
    classes = list(graph.classes) if graph.classes is not None else None
    if isinstance(value, list) and classes is None and value and isinstance(value[0], dict):
        classes = list(value[0])  # the map's own keys, in the order ONNX Runtime gives them
        draft.inferred.append(f"the classes {classes}, from the keys of {output.name}'s maps")
    labels = _labels(work, classes, columns)
    if labels is None:
        return {}
    if columns is not None and len(labels) != columns:
        problems.append(f"{len(labels)} labels for the {columns} probabilities of {output.name}: give one per class")
    if len(set(labels)) != len(labels):
        problems.append(f"--labels repeats a label: {labels}")
    fields: dict[str, Any] = {"labels": labels, "probabilities_output": output.name}
    if output.is_map_sequence and classes is not None:
        fields["classes"] = classes
    already = _already_probabilities(graph, output, value) if options.softmax else None
    if already:
        problems.append(
            f"--softmax: {already}, so it already holds probabilities, and softmax over them would answer other, "
            "wrong ones (0, 0.8, 0.2 would become 0.22, 0.50, 0.27): drop --softmax, which is for outputs of scores "
            "(logits)"
        )
    elif options.softmax:
        fields["softmax"] = True
    elif value is not None and not isinstance(value, list) and _looks_like_scores(value):
        problems.append(
            f"{output.name} has values outside 0..1, so it holds scores (logits), not probabilities: add --softmax"
        )
    return fields


def _labels(work: _Work, classes: list[Any] | None, columns: int | None) -> list[str] | None:
    """The class names: --labels, else the graph's classes, config.json's id2label, or the column numbers."""
    labels, draft = work.options.labels, work.draft
    if labels is None and classes is not None:
        labels = [str(item) for item in classes]
        draft.inferred.append(f"labels {labels}: the graph's class values, in the order of its probabilities")
    elif labels is None and _id2label(work.found):
        labels = _id2label(work.found)
        draft.inferred.append(f"labels {labels}, from config.json's id2label")
    elif labels is None and columns is not None:
        labels = [str(index) for index in range(columns)]
        draft.assumed.append(f"labels {labels}: the column numbers (give the class names with --labels)")
    if labels is None:
        work.problems.append("missing --labels: the class names, in the order of the model's probabilities, e.g. a,b,c")
    return labels


def _looks_like_scores(value: Any) -> bool:
    import numpy as np

    array = np.asarray(value, dtype=np.float64)
    return bool(array.size) and (float(array.min()) < 0 or float(array.max()) > 1)


def _already_probabilities(graph: GraphInfo, output: Port, value: Any) -> str | None:
    """Why ``output`` already holds probabilities (its rows, on the probe run, are within 0..1 and sum to 1), or
    None: what skl2onnx's classifiers give (ZipMap's maps, or its ``probabilities`` tensor), and any graph that ends
    in a Softmax. Scores (logits) are never all within 0..1 summing to 1, whatever their source."""
    import numpy as np

    if isinstance(value, list):
        rows = [list(item.values()) if isinstance(item, dict) else None for item in value]
        if not rows or any(row is None for row in rows):
            return None
        array = np.asarray(rows, dtype=np.float64)
    elif getattr(value, "ndim", 0) == 2:
        array = np.asarray(value, dtype=np.float64)
    else:
        return None
    if not array.size or _looks_like_scores(array) or not np.allclose(array.sum(axis=1), 1, atol=1e-3):
        return None
    if output.is_map_sequence:
        return f"{output.name} is one map of class to probability per input (skl2onnx's ZipMap), each summing to 1"
    if graph.classes is not None and output.name == "probabilities":
        producer = graph.producer or "the converter"
        return f"{output.name} is the probabilities output of {producer}, each row summing to 1"
    return f"on a probe run, each row of {output.name} is within 0..1 and sums to 1"


def _probabilities_output(work: _Work) -> Port | None:
    graph, options, draft, problems, probe = work.graph, work.options, work.draft, work.problems, work.probe
    if options.output:
        port = graph.output(options.output)
        if port is None:
            problems.append(f"--output {options.output}: the graph has no such output; it has {_names(graph)}")
        return port
    maps = [port for port in graph.outputs if port.is_map_sequence]
    if maps:
        draft.inferred.append(f"the probabilities are {maps[0].name}, one map of class to probability per input")
        return maps[0]
    scores = [port for port in graph.outputs if port.is_float_tensor and _rank(probe.get(port.name)) == 2]
    preferred = [port for port in scores if "prob" in port.name.lower()] or scores
    if len(preferred) == 1 or (preferred and graph.classes is not None):
        draft.inferred.append(f"the class probabilities (or scores) are the output {preferred[0].words()}")
        return preferred[0]
    problems.append(
        f"which output holds the class probabilities? give --output NAME, one of {[port.words() for port in scores]}"
        if scores
        else f"no output is a [batch, classes] float tensor or a sequence of maps: {_names(graph)}"
    )
    return None


def _embedding(work: _Work) -> dict[str, Any]:
    graph, found, options, draft, problems, probe = (
        work.graph,
        work.found,
        work.options,
        work.draft,
        work.problems,
        work.probe,
    )
    if options.output:
        port = graph.output(options.output)
        if port is None:
            problems.append(f"--output {options.output}: the graph has no such output; it has {_names(graph)}")
            return {}
    else:
        vectors = [port for port in graph.outputs if port.is_float_tensor and _rank(probe.get(port.name)) in (2, 3)]
        named = [port for port in vectors if "hidden" in port.name or "embed" in port.name] or vectors
        if not named:
            problems.append(
                f"no output holds vectors ([batch, dimension] or [batch, tokens, dimension]): {_names(graph)}"
            )
            return {}
        port = named[0]
        draft.inferred.append(f"the vectors are the output {port.words()}")
    rank = _rank(probe.get(port.name))
    pooling = options.pooling or found.st_pooling or ("none" if rank == 2 else "mean")
    if options.pooling is None and found.st_pooling:
        draft.inferred.append(f"{pooling} pooling, from sentence-transformers' pooling config")
    elif options.pooling is None:
        draft.assumed.append(f"{pooling} pooling (--pooling {'|'.join(POOLINGS)})")
    if rank == 2 and pooling != "none":
        problems.append(f"{port.name} is already one vector per input: use --pooling none, not {pooling}")
    normalize = options.normalize if options.normalize is not None else found.st_normalize
    if normalize is None:
        normalize = False
        draft.assumed.append("vectors are not normalised to length 1 (--normalize to do so)")
    elif options.normalize is None:
        draft.inferred.append(f"normalize {str(normalize).lower()}, from sentence-transformers' modules.json")
    value: Any = probe.get(port.name)
    dimension = int(value.shape[-1]) if getattr(value, "ndim", 0) >= 2 else None
    if dimension is None:
        problems.append(f"{port.name} gave no vectors on a probe run")
        return {}
    draft.inferred.append(f"dimension {dimension}, from a probe run")
    return {"output": port.name, "pooling": pooling, "normalize": normalize, "dimension": dimension}


def _outputs(work: _Work, task: str, metadata: dict[str, Any]) -> list[str]:
    """The outputs to list: all that hold one value per input (the others are named in what init says)."""
    graph, options, draft, problems, probe = work.graph, work.options, work.draft, work.problems, work.probe
    batch = probe["batch"]
    wanted = [port.name for port in graph.outputs]
    if task == TASK_TENSOR and options.output:
        if graph.output(options.output) is None:
            problems.append(f"--output {options.output}: the graph has no such output; it has {_names(graph)}")
        wanted = [options.output]
    kept = [name for name in wanted if _per_input(probe.get(name), batch)]
    used = metadata.get("probabilities_output") or metadata.get("embedding", {}).get("output")
    if used and used not in kept:
        kept.append(used)
    left_out = [name for name in wanted if name not in kept]
    if left_out:
        draft.inferred.append(f"left out the outputs {left_out}: they do not hold one value per input")
    if not kept:
        problems.append(f"no output of the graph holds one value per input: {_names(graph)}")
    return kept


def _rank(value: Any) -> int | None:
    return None if value is None or isinstance(value, list) else int(value.ndim)


def _names(graph: GraphInfo) -> list[str]:
    return [port.words() for port in graph.outputs]


def _samples(work: _Work, metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """--samples's, else the made-up inputs the publish checks run (with no label: they have no true one), so that
    the UI offers them and `make smoke` runs the model; none where one would be large (a picture's pixels)."""
    options, problems, draft = work.options, work.problems, work.draft
    if options.samples is not None:
        raw = _json_file(options.samples, problems)
        if not isinstance(raw, list) or not raw:
            problems.append(
                f"--samples {options.samples} must hold a JSON list of inputs, or of {{label, input}} objects"
            )
            return []
        return [item if isinstance(item, dict) and "input" in item else {"input": item} for item in raw]
    if metadata["input"]["kind"] == KIND_TEXT:
        inputs: list[Any] = list(PROBE_TEXTS[: metadata["input"].get("max_batch")])  # smoke sends them at once
    else:
        (graph_input,) = metadata["graph"]["inputs"]
        row_shape = tuple(graph_input["shape"][1:])
        values = math.prod(row_shape)
        if values > MAX_MADE_UP_SAMPLE_VALUES:
            draft.assumed.append(
                f"no samples: a made-up input of {values:,} values would weigh on every GET /models; give "
                '--samples FILE with a few real inputs (pictures as {"image": base64}) for the UI and `make smoke`'
            )
            return []
        value_range = metadata["input"].get("range")
        inputs = made_up_tensors(row_shape, graph_input["dtype"], tuple(value_range) if value_range else None)
    draft.assumed.append(
        f"samples: the publish checks' {len(inputs)} made-up inputs, unlabelled (the UI offers them and `make smoke` "
        "runs them): give --samples FILE for real ones"
    )
    return [{"input": value} for value in inputs]


def _check_out(options: InitOptions, problems: list[str]) -> None:
    assert options.out is not None
    out = Path(options.out)
    said = f"--out {out}" + (f" (the default, {DEFAULT_MODELS_DIR}/NAME)" if options.out_by_default else "")
    if out.exists() and not out.is_dir():
        problems.append(f"{said} is a file: give a folder to write the model into")
    elif out.is_dir() and any(out.iterdir()):
        if not options.force:
            problems.append(f"{said} exists and is not empty: give a new folder, or --force to replace it")
        elif not (out / METADATA_FILE).is_file():
            problems.append(f"{said} is not a model folder (no {METADATA_FILE}): --force replaces model folders only")
