"""The checks a version passes before it is published, and that `efs-models check` and `pulumi up` run on a model
folder: the metadata parses, every file is there with its checksum, ONNX Runtime loads the graph, the graph agrees
with the metadata, and a probe batch runs through the very code that serves requests (the model's samples and a
made-up input of each kind it takes), one input and two, with every output presentable as one value per input.

Every problem is collected and raised at once as ``ModelProblems``, each a sentence a person can act on."""

from __future__ import annotations

import base64
import io
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.errors import ServiceError
from inference.models.integrity import damage
from inference.models.metadata import (
    KIND_IMAGE,
    METADATA_FILE,
    ModelMetadata,
    ModelProblems,
    name_problem,
)
from inference.models.runtime import LoadedModel, load_model

MAX_PROBE_SAMPLES = 16
PROBE_TEXTS = ("A short probe sentence.", "Another probe sentence, a little longer than the first one.")


@dataclass(frozen=True)
class CheckReport:
    """What the checks saw: the metadata, how long loading and the probe took, and the probe's answer."""

    metadata: ModelMetadata
    load_ms: float
    probe_ms: float
    probe_inputs: list[Any]
    probe_outputs: list[Any]


def check_version_dir(folder: Path, *, threads: int | None = None) -> CheckReport:
    """The report of a version folder that passes every check; ModelProblems listing every problem otherwise."""
    folder = Path(folder)
    if not (folder / METADATA_FILE).is_file():
        raise ModelProblems(f"{folder} has no {METADATA_FILE}: `efs-models init` writes one")
    metadata = ModelMetadata.read(folder)  # MetadataError lists every problem of the file
    problems = damage(folder, metadata)
    if problems:
        raise ModelProblems(problems)
    started = time.perf_counter()
    model = load_model(folder, metadata.name, metadata.version, threads)  # ModelLoadError lists the rest
    load_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    probe_inputs, probe_outputs, problems = _probe(model)
    if problems:
        raise ModelProblems(problems)
    return CheckReport(metadata, load_ms, (time.perf_counter() - started) * 1000, probe_inputs, probe_outputs)


def publish_name(folder: Path, metadata: ModelMetadata, explicit: str | None = None, name_flag: str = "") -> str:
    """The name a model folder is published under: the one given, else its metadata's, which must then be the
    folder's own name too (a folder ``flowers`` whose metadata says ``iris`` is a mistake until a name is given).
    ``name_flag`` is how the caller lets a name be given (``--name``), if it does."""
    if explicit is not None:
        problem = name_problem(explicit, "the model name")
        if problem:
            raise ModelProblems(problem)
        return explicit
    folder_name = Path(folder).resolve().name
    if folder_name != metadata.name:
        # The metadata's own name first: a folder such as models/wine-v3 most often holds a version of `wine`.
        fix = f"rename the folder to {metadata.name!r}, or set the metadata's name to {folder_name!r}"
        if name_flag:
            fix = (
                f"give {name_flag} {metadata.name} to publish it under its own name ({name_flag} {folder_name} would "
                f"publish it as another model), or rename the folder to {metadata.name!r}"
            )
        raise ModelProblems(
            f"the folder {folder_name!r} holds a model whose metadata names it {metadata.name!r}: {fix}"
        )
    return metadata.name


def _probe(model: LoadedModel) -> tuple[list[Any], list[Any], list[str]]:
    """Run the model's samples (each alone, to name a bad one), then one made-up input and a batch of two;
    the inputs and outputs of that batch, and every problem found."""
    problems: list[str] = []
    samples = [sample["input"] for sample in model.metadata.samples[:MAX_PROBE_SAMPLES]]
    for index, sample in enumerate(samples):
        problem = _run_problem(model, [sample], f"samples[{index}]")
        if problem:
            problems.append(problem)
    made_up = _made_up_inputs(model.metadata)
    batch = (samples[:1] + made_up)[:2] if samples and not problems else made_up
    outputs: list[Any] = []
    for size in (1, 2):
        problem = _run_problem(model, batch[:size], f"a probe batch of {size}")
        if problem:
            problems.append(problem)
            break
    if not problems:
        outputs = _answers(model, batch)
    return batch, outputs, problems


def _run_problem(model: LoadedModel, inputs: list[Any], what: str) -> str | None:
    try:
        answers = _answers(model, inputs)
    except ServiceError as error:
        hint = ""
        if error.code == "invalid_model_output":
            hint = " (list in graph.outputs only outputs that hold one value per input)"
        elif error.code == "model_cannot_run" and len(inputs) > 1:
            hint = " (does the graph take one input at a time? export it with a dynamic batch dimension)"
        return f"{what}: {error.message}{hint}"
    if len(answers) != len(inputs):
        return f"{what}: the model answered {len(answers)} outputs for {len(inputs)} inputs"
    return None


def _answers(model: LoadedModel, inputs: list[Any]) -> list[Any]:
    batch = model.prepare(inputs, max(len(inputs), 1))
    answers, _ = model.run(batch)
    return answers


def _made_up_inputs(metadata: ModelMetadata) -> list[Any]:
    """Two inputs of the kind the model takes: texts, a picture and a tensor for an image model, tensors."""
    if metadata.text is not None:
        return list(PROBE_TEXTS)
    assert metadata.input is not None
    spec = metadata.input
    tensors = made_up_tensors(spec.row_shape, spec.dtype, spec.value_range)
    if metadata.kind == KIND_IMAGE and metadata.image is not None:
        return [{"image": _probe_picture(metadata.image.mode, metadata.image.size)}, tensors[0]]
    return tensors


def made_up_tensors(
    row_shape: tuple[int, ...], dtype: str, value_range: tuple[float, float] | None = None
) -> list[Any]:
    """Two inputs of one row's shape, as nested lists: one filled with 0s, one with 1s, each brought within
    ``value_range``."""
    low, high = value_range or (-math.inf, math.inf)
    values = (min(max(0.0, low), high), min(max(1.0, low), high))
    return [_filled(row_shape, int(value) if dtype.startswith("int") else value) for value in values]


def _filled(shape: tuple[int, ...], value: float) -> Any:
    if len(shape) == 1:
        return [value] * shape[0]
    return [_filled(shape[1:], value) for _ in range(shape[0])]


def _probe_picture(mode: str, size: tuple[int, int]) -> str:
    """A PNG as a person might upload: a dark square on light paper, twice the model's size."""
    from PIL import Image, ImageDraw

    width, height = size[0] * 2, size[1] * 2
    picture = Image.new(mode, (width, height), "white")
    ImageDraw.Draw(picture).rectangle((width // 4, height // 4, width * 3 // 4, height * 3 // 4), fill="black")
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode("ascii")
