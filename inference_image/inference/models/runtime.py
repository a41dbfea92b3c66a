"""One loaded model version: an ONNX Runtime session on the CPU plus the metadata it was checked against.

numpy and onnxruntime are imported on first load, not at import time, to keep the Lambda cold start
cheap for requests that never touch a model."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from inference.models.inputs import InputChecker
from inference.models.metadata import MODEL_FILE, ModelMetadata, sha256_hex

# ONNX Runtime's names for the dtypes that metadata may declare.
_ORT_TYPES = {
    "float32": "tensor(float)",
    "float64": "tensor(double)",
    "int32": "tensor(int32)",
    "int64": "tensor(int64)",
}
# A Lambda function gets at most a couple of vCPUs at the memory sizes this serves; more threads only contend.
_THREADS = max(1, min(2, os.cpu_count() or 1))


class ModelLoadError(Exception):
    """A version directory that is incomplete, corrupt, or disagrees with its metadata."""


@dataclass(frozen=True)
class LoadedModel:
    name: str
    version: str
    metadata: ModelMetadata
    session: Any  # onnxruntime.InferenceSession

    @cached_property
    def inputs(self) -> InputChecker:
        """Turns a request's inputs into this model's input array."""
        return InputChecker(self.metadata.input)

    def run(self, batch: Any) -> tuple[list[dict[str, Any]], float]:
        """Outputs, one per input of ``batch`` (an array from ``inputs.batch``), and the milliseconds spent
        inside ONNX Runtime."""
        # Metadata guarantees probabilities_output is set exactly for classifiers.
        probabilities_output = self.metadata.probabilities_output
        wanted = [probabilities_output] if probabilities_output else list(self.metadata.outputs)
        started = time.perf_counter()
        results = self.session.run(wanted, {self.metadata.input.name: batch})
        inference_ms = (time.perf_counter() - started) * 1000
        if probabilities_output:
            return self._classes(results[0]), inference_ms
        # One tolist() per output converts every value in C; the rows are then regrouped per input.
        columns = [result.tolist() for result in results]
        return [dict(zip(wanted, values, strict=True)) for values in zip(*columns, strict=True)], inference_ms

    def _classes(self, probabilities: Any) -> list[dict[str, Any]]:
        labels = self.metadata.labels or ()
        # Checked once here rather than by a strict zip per row; loading checks it too when the graph says.
        if probabilities.shape[-1] != len(labels):
            raise ValueError(f"the model gave {probabilities.shape[-1]} probabilities for {len(labels)} labels")
        best = probabilities.argmax(axis=1).tolist()
        return [
            {"label": labels[index], "probabilities": dict(zip(labels, row, strict=False))}
            for index, row in zip(best, probabilities.tolist(), strict=True)
        ]


def load_model(version_dir: Path, name: str, version: str) -> LoadedModel:
    """Load a version only if it is complete: metadata parses, the model's sha256 matches, and the
    graph's input and outputs are the ones the metadata describes."""
    metadata = ModelMetadata.read(version_dir)
    # The session is built from these very bytes, so what was checked is what runs.
    model_bytes = (version_dir / MODEL_FILE).read_bytes()
    if sha256_hex(model_bytes) != metadata.model_sha256:
        raise ModelLoadError(f"{version_dir / MODEL_FILE} does not match the sha256 in its metadata")
    session = _session(model_bytes)
    _check_graph(session, metadata)
    return LoadedModel(name=name, version=version, metadata=metadata, session=session)


def _session(model_bytes: bytes) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = _THREADS
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


def _check_graph(session: Any, metadata: ModelMetadata) -> None:
    spec = metadata.input
    inputs = {node.name: node for node in session.get_inputs()}
    node = inputs.get(spec.name)
    if node is None:
        raise ModelLoadError(f"the model has no input {spec.name!r}; it has {sorted(inputs)}")
    if node.type != _ORT_TYPES[spec.dtype]:
        raise ModelLoadError(f"input {spec.name!r} is {node.type}, but the metadata says {spec.dtype}")
    graph_row_shape = list(node.shape[1:])
    if len(graph_row_shape) != len(spec.row_shape) or any(
        isinstance(dim, int) and dim != want for dim, want in zip(graph_row_shape, spec.row_shape, strict=True)
    ):
        raise ModelLoadError(
            f"input {spec.name!r} has shape {node.shape}, but the metadata says {list(spec.row_shape)}"
        )
    outputs = {node.name: node for node in session.get_outputs()}
    missing = set(metadata.outputs) - set(outputs)
    if missing:
        raise ModelLoadError(f"the model lacks the outputs {sorted(missing)} named in its metadata")
    if metadata.probabilities_output and metadata.labels:
        columns = outputs[metadata.probabilities_output].shape[-1]
        if isinstance(columns, int) and columns != len(metadata.labels):
            raise ModelLoadError(f"the model gives {columns} probabilities for {len(metadata.labels)} labels")
