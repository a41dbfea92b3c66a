"""What an ONNX file says about itself: its inputs and outputs (names, element types, shapes), and, for a
classifier exported by skl2onnx, its class labels in the order of its probabilities (the ``classlabels_*``
attributes of its ZipMap node, or of its LinearClassifier/TreeEnsembleClassifier/SVMClassifier node)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.models.metadata import ModelProblems

# ONNX Runtime's type names for the element types metadata can declare for a graph input.
INPUT_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
}
_CLASSIFIER_OPS = ("ZipMap", "LinearClassifier", "TreeEnsembleClassifier", "SVMClassifier")


@dataclass(frozen=True)
class Port:
    """One graph input or output."""

    name: str
    type: str  # ONNX Runtime's: tensor(float), seq(map(int64,tensor(float))), ...
    shape: tuple[int | None, ...]  # None for a dimension the graph leaves open (or names symbolically)

    @property
    def is_tensor(self) -> bool:
        return self.type.startswith("tensor(")

    @property
    def is_float_tensor(self) -> bool:
        return self.type in ("tensor(float)", "tensor(double)", "tensor(float16)")

    @property
    def is_map_sequence(self) -> bool:
        return self.type.startswith("seq(map(")

    @property
    def dtype(self) -> str | None:
        return INPUT_DTYPES.get(self.type)

    def words(self) -> str:
        dims = ", ".join("?" if dim is None else str(dim) for dim in self.shape)
        return f"{self.name}: {self.type} [{dims}]" if self.is_tensor else f"{self.name}: {self.type}"


@dataclass(frozen=True)
class GraphInfo:
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    producer: str  # e.g. skl2onnx, pytorch
    classes: tuple[int | str, ...] | None  # a classifier's class values, in the order of its probabilities

    def output(self, name: str) -> Port | None:
        return next((port for port in self.outputs if port.name == name), None)


def read_graph(path: Path) -> GraphInfo:
    """The graph's description; ModelProblems when ONNX Runtime cannot load the file."""
    import onnx
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        model = onnx.load(str(path), load_external_data=False)
    except Exception as error:  # onnxruntime and onnx raise several unrelated exception types
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelProblems(f"{path} is not an ONNX model that ONNX Runtime can load: {first}") from None
    return GraphInfo(
        inputs=tuple(_port(node) for node in session.get_inputs()),
        outputs=tuple(_port(node) for node in session.get_outputs()),
        producer=model.producer_name or "",
        classes=_class_labels(model),
    )


def _port(node: Any) -> Port:
    shape = tuple(dim if isinstance(dim, int) and dim > 0 else None for dim in (node.shape or []))
    return Port(node.name, node.type, shape)


def _class_labels(model: Any) -> tuple[int | str, ...] | None:
    """The class labels a classifier node declares; ZipMap's first, as they key its maps."""
    found: dict[str, tuple[int | str, ...]] = {}
    for node in model.graph.node:
        if node.op_type not in _CLASSIFIER_OPS or node.op_type in found:
            continue
        for attribute in node.attribute:
            if attribute.name in ("classlabels_ints", "classlabels_int64s") and attribute.ints:
                found[node.op_type] = tuple(int(value) for value in attribute.ints)
            elif attribute.name == "classlabels_strings" and attribute.strings:
                found[node.op_type] = tuple(value.decode("utf-8") for value in attribute.strings)
    return next((found[op] for op in _CLASSIFIER_OPS if op in found), None)
