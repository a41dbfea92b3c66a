"""One loaded model version: an ONNX Runtime session on the CPU, the metadata it was checked against, and
the pipeline that turns a request's inputs (tensors, texts or images) into the graph's inputs.

numpy, onnxruntime, tokenizers and Pillow are imported on first load, not at import time, to keep the
Lambda cold start cheap for requests that never touch a model."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from inference.errors import BadModelOutput, BadRequest, ModelCannotRun
from inference.models import outputs
from inference.models.images import image_array, is_image_input
from inference.models.inputs import InputChecker, json_kind
from inference.models.metadata import (
    KIND_TEXT,
    MODEL_FILE,
    TASK_CLASSIFICATION,
    TASK_EMBEDDING,
    ModelMetadata,
    ModelProblems,
    sha256_hex,
)
from inference.models.text import TextEncoder, TokenizerError

# ONNX Runtime's names for the dtypes that metadata may declare.
_ORT_TYPES = {
    "float32": "tensor(float)",
    "float64": "tensor(double)",
    "int32": "tensor(int32)",
    "int64": "tensor(int64)",
}
# Texts per graph run within a request. A batch is padded to its longest text; runs of texts of similar length
# (sorted, then cut to each run's longest) skip most of that padding, whose cost grows with the square of the length.
TEXT_RUN = 8
# Decoded pixels one request may hold in all, as a multiple of the per-image cap: images are decoded one
# at a time, but a batch of maximal ones would still take minutes.
_BATCH_PIXEL_FACTOR = 4


class ModelLoadError(ModelProblems):
    """A version directory that is incomplete, corrupt, or disagrees with its metadata: every problem found."""


def intra_op_threads(configured: int | None = None) -> int:
    """ONNX Runtime's intra-op threads: as configured (MODEL_THREADS), else one per CPU this process may use.
    Lambda's vCPUs grow with memory (about 1 at 1,769 MB, 6 at 10,240 MB), and the affinity mask follows them."""
    if configured:
        return configured
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class PreparedBatch:
    feeds: dict[str, Any]  # graph input name -> array
    attention_mask: Any | None = None  # text models: which tokens are real, for mean pooling


@dataclass(frozen=True)
class LoadedModel:
    name: str
    version: str
    metadata: ModelMetadata
    session: Any  # onnxruntime.InferenceSession
    text: TextEncoder | None = None
    # The graph's batch dimension is fixed at 1 (torch exports so by default): it runs one input at a time.
    one_at_a_time: bool = False

    @cached_property
    def inputs(self) -> InputChecker:
        """Turns a request's numeric inputs into this model's input array (tensor and image models)."""
        assert self.metadata.input is not None  # text models never call this
        return InputChecker(self.metadata.input)

    @property
    def dimension(self) -> int | None:
        return self.metadata.embedding.dimension if self.metadata.embedding else None

    def max_batch(self, server_max: int) -> int:
        """Inputs per request: the server's limit, or a text model's own when it is lower."""
        return self.text.max_batch(server_max) if self.text is not None else server_max

    def prepare(self, inputs: object, max_batch: int) -> PreparedBatch:
        """The graph's inputs for a request's ``inputs``, or BadRequest naming the first bad one."""
        if self.text is not None:
            batch = self.text.encode(inputs, max_batch)
            return PreparedBatch(batch.feeds, batch.attention_mask)
        spec = self.inputs.spec
        if isinstance(inputs, list) and _holds_non_rows(inputs):
            if self.metadata.image is not None:
                return PreparedBatch({spec.name: self._image_batch(inputs, max_batch)})
            _refuse_other_kinds(inputs, "tensors: lists of numbers")
        return PreparedBatch({spec.name: self.inputs.batch(inputs, max_batch)})

    def _image_batch(self, inputs: list[Any], max_batch: int) -> Any:
        """Images and numeric rows, in any mix, as one array."""
        import numpy as np

        image = self.metadata.image
        assert image is not None
        self.inputs.check_batch_size(inputs, max_batch)
        _refuse_other_kinds(inputs, "images or lists of numbers", allow_images=True)
        rows, pixels = [], 0
        for index, item in enumerate(inputs):
            where = f"inputs[{index}]"
            if is_image_input(item):
                budget = image.max_pixels * _BATCH_PIXEL_FACTOR - pixels
                array, used = image_array(item, image, where, budget)
                pixels += used
                rows.append(array)
            else:
                rows.append(np.asarray(self.inputs.row(item, where), dtype=np.float64))
        spec = self.inputs.spec
        return np.stack([row.reshape(spec.row_shape) for row in rows]).astype(spec.dtype, copy=False)

    def run(self, batch: PreparedBatch, encoding: str = outputs.ENCODING_FLOAT) -> tuple[list[dict[str, Any]], float]:
        """Outputs, one per input, and the milliseconds spent inside ONNX Runtime. ModelCannotRun (422) when the
        graph fails on these inputs; BadModelOutput (502) when its outputs are not what the metadata says."""
        try:
            return self._run(batch, encoding)
        except outputs.OutputProblem as problem:
            raise BadModelOutput(
                f"model {self.name!r} version {self.version!r} gave an output its metadata does not describe: {problem}"
            ) from None

    def _run(self, batch: PreparedBatch, encoding: str) -> tuple[list[dict[str, Any]], float]:
        metadata = self.metadata
        if self.text is not None and self.text.pads_right and metadata.embedding is not None:
            vectors, inference_ms = self._text_embeddings(batch)
            return outputs.embeddings(vectors, encoding), inference_ms
        if metadata.task == TASK_CLASSIFICATION:
            wanted = [str(metadata.probabilities_output)]
        elif metadata.embedding is not None:
            wanted = [metadata.embedding.output]
        else:
            wanted = list(metadata.outputs)
        count = batch_size(batch)
        results, inference_ms = self.run_graph(wanted, batch.feeds)
        if metadata.task == TASK_CLASSIFICATION:
            labels = metadata.labels or ()
            rows = outputs.probability_rows(results[0], labels, metadata.classes, count, softmax=metadata.softmax)
            return outputs.classes(rows, labels), inference_ms
        if metadata.embedding is not None:
            vectors = outputs.pooled(results[0], _mask_for(results[0], batch.attention_mask), metadata.embedding)
            return outputs.embeddings(vectors, encoding), inference_ms
        return outputs.tensors(wanted, results, count), inference_ms

    def run_graph(self, wanted: list[str], feeds: dict[str, Any]) -> tuple[list[Any], float]:
        """The graph's ``wanted`` outputs for ``feeds`` (one input at a time when the graph takes no more), and the
        milliseconds inside ONNX Runtime; ModelCannotRun when it fails."""
        started = time.perf_counter()
        try:
            if not self.one_at_a_time:
                results = self.session.run(wanted, feeds)
            else:
                count = len(next(iter(feeds.values())))
                runs = [self.session.run(wanted, {k: v[i : i + 1] for k, v in feeds.items()}) for i in range(count)]
                results = [_joined([run[index] for run in runs]) for index in range(len(wanted))]
        except outputs.OutputProblem:
            raise
        except Exception as error:  # onnxruntime raises several unrelated pybind11 exception types
            raise ModelCannotRun(
                f"model {self.name!r} version {self.version!r} could not run on these inputs: {_first_line(error)}"
            ) from None
        return results, (time.perf_counter() - started) * 1000

    def _text_embeddings(self, batch: PreparedBatch) -> tuple[Any, float]:
        """Embeddings of a text batch run in runs of similar length, each cut to its longest text, in the
        request's order; and the milliseconds inside ONNX Runtime."""
        import numpy as np

        spec = self.metadata.embedding
        assert spec is not None
        mask: Any = batch.attention_mask
        lengths = mask.sum(axis=1)
        order = np.argsort(lengths, kind="stable")
        vectors = np.empty((len(mask), spec.dimension), dtype=np.float32)
        inference_ms = 0.0
        for start in range(0, len(order), TEXT_RUN):
            rows = order[start : start + TEXT_RUN]
            width = int(lengths[rows].max())
            feeds = {name: array[rows, :width] for name, array in batch.feeds.items()}
            (hidden,), run_ms = self.run_graph([spec.output], feeds)
            inference_ms += run_ms
            vectors[rows] = outputs.pooled(hidden, mask[rows, :width], spec)
        return vectors, inference_ms


def _holds_non_rows(inputs: list[Any]) -> bool:
    """Whether a batch holds anything but lists (C-level check: the usual tensor batch pays nearly nothing)."""
    return bool(inputs) and set(map(type, inputs)) != {list}


def _refuse_other_kinds(inputs: list[Any], takes: str, *, allow_images: bool = False) -> None:
    """A clear 400 for text sent to a model of images or tensors, or images sent to a tensor model."""
    for index, item in enumerate(inputs):
        if isinstance(item, list) or (allow_images and is_image_input(item)):
            continue
        if isinstance(item, str):
            raise BadRequest(f"inputs[{index}] is text, but this model takes {takes}", "invalid_input")
        if is_image_input(item):
            raise BadRequest(f"inputs[{index}] is an image, but this model takes {takes}", "invalid_input")
        if allow_images:
            raise BadRequest(
                f"inputs[{index}] must be an image or a list of numbers, got {json_kind(item)}", "invalid_input"
            )
        return  # the tensor checks name anything else precisely


def batch_size(batch: PreparedBatch) -> int:
    return len(next(iter(batch.feeds.values())))


def _joined(parts: list[Any]) -> Any:
    """One output from the runs of single inputs: tensors stacked on their batch dimension, sequences chained."""
    import numpy as np

    if all(isinstance(part, list) for part in parts):
        return [item for part in parts for item in part]
    if not all(getattr(part, "ndim", 0) >= 1 for part in parts):
        raise outputs.OutputProblem(f"an output is {outputs.describe(parts[0])} for one input: not one value per input")
    return np.concatenate(parts, axis=0)


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:500] if text else type(error).__name__


def _mask_for(hidden: Any, attention_mask: Any | None) -> Any:
    import numpy as np

    return attention_mask if attention_mask is not None else np.ones(hidden.shape[:2], dtype=np.int64)


def load_model(version_dir: Path, name: str, version: str, threads: int | None = None) -> LoadedModel:
    """Load a version only if it is complete: metadata parses, every listed file's sha256 matches, the graph's
    inputs and outputs are the ones the metadata describes, and a text model's tokenizer fits the graph.
    ModelLoadError (or MetadataError) lists every problem found."""
    metadata = ModelMetadata.read(version_dir)
    # Sessions and tokenizers are built from these very bytes, so what was checked is what runs.
    blobs: dict[str, bytes] = {}
    problems: list[str] = []
    for file, entry in metadata.files.items():
        data, problem = _checked_file(version_dir, file, entry.sha256)
        if problem:
            problems.append(problem)
        else:
            blobs[file] = data
    if problems:
        raise ModelLoadError(problems)
    session = _session(blobs[MODEL_FILE], intra_op_threads(threads))
    problems = graph_problems(session, metadata)
    text = None
    if metadata.kind == KIND_TEXT and metadata.text is not None:
        dtypes = {item.name: item.dtype for item in metadata.graph_inputs}
        try:
            text = TextEncoder(blobs[metadata.text.tokenizer], metadata.text, dtypes)
        except TokenizerError as error:
            problems.append(str(error))
    if problems:
        raise ModelLoadError(problems)
    one_at_a_time = any(node.shape and node.shape[0] == 1 for node in session.get_inputs())
    model = LoadedModel(
        name=name, version=version, metadata=metadata, session=session, text=text, one_at_a_time=one_at_a_time
    )
    if text is not None:
        _probe_text_model(model, text)
    return model


def _checked_file(version_dir: Path, file: str, sha256: str) -> tuple[bytes, str | None]:
    """The file's bytes, or why they cannot be used."""
    try:
        data = (version_dir / file).read_bytes()
    except FileNotFoundError:
        return b"", f"{version_dir / file} is missing, but the metadata lists it"
    if sha256_hex(data) != sha256:
        return b"", f"{version_dir / file} does not match the sha256 in its metadata"
    return data, None


def _probe_text_model(model: LoadedModel, text: TextEncoder) -> None:
    """Run the graph once on the tokenizer's largest token id: a tokenizer with a larger vocabulary than the
    graph's embeddings, or a graph of another dimension, fails here at load rather than on a request."""
    probe = text.probe()
    try:
        result, _ = model.run(PreparedBatch(probe.feeds, probe.attention_mask))
    except Exception as error:  # onnxruntime raises several unrelated pybind11 exception types
        raise ModelLoadError(
            f"the graph cannot run on the ids of {text.spec.tokenizer} (is it this model's tokenizer?): {error}"
        ) from error
    if model.metadata.task == TASK_EMBEDDING and len(result) != 1:
        raise ModelLoadError("the graph gave no embedding for one probe text")


def _session(model_bytes: bytes, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle worker threads would otherwise spin between requests, burning billed CPU time.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(model_bytes, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises several unrelated pybind11 exception types
        raise ModelLoadError(f"ONNX Runtime cannot load the model: {error}") from error


def graph_problems(session: Any, metadata: ModelMetadata) -> list[str]:
    """Where the graph and its metadata disagree: inputs (names, element types, fixed sizes), outputs, the kind
    of output a classifier's probabilities or an embedding's vectors come in, and their sizes."""
    problems: list[str] = []
    inputs = {node.name: node for node in session.get_inputs()}
    for declared in metadata.graph_inputs:
        node = inputs.get(declared.name)
        if node is None:
            problems.append(f"the model has no input {declared.name!r}; its inputs are {sorted(inputs)}")
            continue
        if node.type != _ORT_TYPES[declared.dtype]:
            problems.append(
                f"input {declared.name!r} is {node.type} in the graph, but the metadata says {declared.dtype}"
            )
        graph_shape = list(node.shape)
        if len(graph_shape) != len(declared.shape) or any(
            isinstance(dim, int) and want is not None and dim != want
            for dim, want in zip(graph_shape[1:], declared.shape[1:], strict=True)
        ):
            problems.append(
                f"input {declared.name!r} has shape {_shape_words(node.shape)} in the graph, but the metadata says "
                f"{list(declared.shape)}"
            )
    undeclared = sorted(set(inputs) - {item.name for item in metadata.graph_inputs})
    if undeclared:
        problems.append(f"the model needs the inputs {undeclared}, which its metadata does not describe")
    outputs_by_name = {node.name: node for node in session.get_outputs()}
    missing = [name for name in metadata.outputs if name not in outputs_by_name]
    if missing:
        problems.append(
            f"the model lacks the outputs {missing} named in its metadata; its outputs are {sorted(outputs_by_name)}"
        )
    probabilities = outputs_by_name.get(metadata.probabilities_output or "")
    if probabilities is not None:
        problems.extend(_probability_problems(probabilities, metadata))
    vectors = outputs_by_name.get(metadata.embedding.output if metadata.embedding else "")
    if vectors is not None and metadata.embedding is not None:
        if not vectors.type.startswith("tensor("):
            problems.append(f"the embedding output {vectors.name!r} is {vectors.type}, not a tensor of vectors")
        elif vectors.shape and isinstance(vectors.shape[-1], int) and vectors.shape[-1] != metadata.embedding.dimension:
            problems.append(
                f"the model's vectors have {vectors.shape[-1]} values, but the metadata says "
                f"{metadata.embedding.dimension}"
            )
    return problems


def _probability_problems(node: Any, metadata: ModelMetadata) -> list[str]:
    labels = metadata.labels or ()
    if node.type.startswith("tensor("):
        columns = node.shape[-1] if node.shape else None
        if isinstance(columns, int) and columns != len(labels):
            return [f"the model gives {columns} probabilities for {len(labels)} labels"]
        return []
    if node.type.startswith("seq(map("):
        # skl2onnx's ZipMap: one {class: probability} map per input, keyed by int64 or string class values.
        keyed_by_ints = node.type.startswith("seq(map(int64")
        if metadata.classes is not None and keyed_by_ints != isinstance(metadata.classes[0], int):
            kind = "int64" if keyed_by_ints else "string"
            return [f"the probabilities output {node.name!r} maps {kind} classes, but 'classes' holds other values"]
        return []
    return [
        f"the probabilities output {node.name!r} is {node.type}: a classifier's probabilities must be a float "
        "tensor [inputs, classes] or one map of class to probability per input"
    ]


def _shape_words(shape: list[Any]) -> str:
    return "[" + ", ".join("null" if not isinstance(dim, int) else str(dim) for dim in shape) + "]"
