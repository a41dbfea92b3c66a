"""Never a 500 on a model's outputs: every kind of output a graph can produce is presented (sequences of maps,
strings, int64 labels, tensors of any rank), or refused at publish with a hint; what still goes wrong at request
time is a 502 invalid_model_output or a 422 model_cannot_run naming the model, never internal_error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from onnx import TensorProto, helper
from skl2onnx import to_onnx
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from inference.errors import BadModelOutput, ModelCannotRun
from inference.models.metadata import METADATA_FILE, MODEL_FILE, sha256_hex
from inference.models.publishing import PublishError, publish_version
from inference.models.registry import ModelRegistry
from tests.models.factory import write_model_dir

IRIS_NAMES = np.array(["setosa", "versicolor", "virginica"])


def _tensor_metadata(model: bytes, name: str, input_name: str, shape: list[Any], outputs: list[str]) -> dict[str, Any]:
    return {
        "format_version": 2,
        "name": name,
        "version": "1",
        "task": "tensor",
        "files": {MODEL_FILE: {"sha256": sha256_hex(model), "bytes": len(model)}},
        "graph": {"inputs": [{"name": input_name, "dtype": "float32", "shape": shape}], "outputs": outputs},
        "input": {"kind": "tensor", "graph_input": input_name},
    }


def _publish(tmp_path: Path, model: bytes, metadata: dict[str, Any]) -> ModelRegistry:
    source = write_model_dir(tmp_path / "source" / metadata["name"], model, metadata)
    publish_version(source, tmp_path / "models", metadata["name"])
    return ModelRegistry(tmp_path / "models", metadata["name"])


@pytest.mark.parametrize("string_classes", [False, True], ids=["int64-labels", "string-labels"])
def test_a_zipmap_classifier_served_as_plain_outputs(tmp_path: Path, string_classes: bool) -> None:
    """skl2onnx's default export declared as task "tensor": the label (int64 or string) and the map of
    probabilities come back per input, maps keyed by strings as JSON wants."""
    features, target = load_iris(return_X_y=True)
    classes = IRIS_NAMES[target] if string_classes else target
    estimator = LogisticRegression(max_iter=1000).fit(features, classes)
    model = to_onnx(estimator, features[:1].astype(np.float32)).SerializeToString()
    registry = _publish(
        tmp_path, model, _tensor_metadata(model, "iris", "X", [None, 4], ["output_label", "output_probability"])
    )
    answer = registry.predict(None, features[[0, 60, 120]].tolist())
    json.dumps(answer)
    labels = [output["output_label"] for output in answer["outputs"]]
    assert labels == [item if string_classes else int(item) for item in estimator.predict(features[[0, 60, 120]])]
    first = answer["outputs"][0]["output_probability"]
    assert list(first) == [str(item) for item in estimator.classes_]
    assert first[str(estimator.classes_[0])] == pytest.approx(estimator.predict_proba(features[:1])[0, 0], abs=1e-4)


def _graph(nodes: list[Any], outputs: list[Any], name: str = "g") -> bytes:
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])], outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return bytes(model.SerializeToString())


def test_outputs_of_rank_three_and_of_int64_come_back_whole(tmp_path: Path) -> None:
    """A [n, 1, 3] float output and an int64 [n] output: each input gets its slice, nested as the tensor is."""
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    model = _graph(
        [
            helper.make_node("Constant", [], ["axes"], value=axes),
            helper.make_node("Unsqueeze", ["x", "axes"], ["cube"]),
            helper.make_node("ArgMax", ["x"], ["index"], axis=1, keepdims=0),
        ],
        [
            helper.make_tensor_value_info("cube", TensorProto.FLOAT, ["n", 1, 3]),
            helper.make_tensor_value_info("index", TensorProto.INT64, ["n"]),
        ],
    )
    registry = _publish(tmp_path, model, _tensor_metadata(model, "shapes", "x", [None, 3], ["cube", "index"]))
    answer = registry.predict(None, [[1, 5, 2], [9, 0, 3]])
    assert answer["outputs"] == [{"cube": [[1.0, 5.0, 2.0]], "index": 1}, {"cube": [[9.0, 0.0, 3.0]], "index": 0}]


def _whole_batch_sum() -> bytes:
    """A graph with an output that is not one value per input: the sum of the whole batch (a scalar)."""
    return _graph(
        [helper.make_node("ReduceSum", ["x"], ["total"], keepdims=0)],
        [helper.make_tensor_value_info("total", TensorProto.FLOAT, [])],
    )


def test_an_output_that_is_not_per_input_is_refused_at_publish(tmp_path: Path) -> None:
    """A scalar output cannot be split among the inputs: publishing says so, with the hint to leave it out."""
    model = _whole_batch_sum()
    with pytest.raises(PublishError) as refused:
        _publish(tmp_path, model, _tensor_metadata(model, "sum", "x", [None, 3], ["total"]))
    assert "not one value per input" in str(refused.value)
    assert "leave it out of the metadata's graph.outputs" in str(refused.value)
    assert not (tmp_path / "models" / "sum" / "1").exists()


def test_such_an_output_placed_by_hand_is_a_502_not_a_500(tmp_path: Path) -> None:
    """The same version copied into the models folder by hand (no publish checks): requests get a 502 naming the
    output, never an internal error."""
    model = _whole_batch_sum()
    write_model_dir(tmp_path / "models" / "sum" / "1", model, _tensor_metadata(model, "sum", "x", [None, 3], ["total"]))
    with pytest.raises(BadModelOutput) as caught:
        ModelRegistry(tmp_path / "models", "sum").predict(None, [[1, 2, 3], [4, 5, 6]])
    assert caught.value.status == 502
    assert "output 'total' is a float32 tensor of shape []" in caught.value.message


def test_a_graph_that_fails_on_some_inputs_is_a_422(tmp_path: Path) -> None:
    """Inputs that pass the metadata's checks but make the graph fail (an index past a table): 422 model_cannot_run."""
    table = helper.make_tensor("table", TensorProto.FLOAT, [4, 2], list(range(8)))
    graph = helper.make_graph(
        [
            helper.make_node("Constant", [], ["table"], value=table),
            helper.make_node("Gather", ["table", "ids"], ["rows"]),
        ],
        "lookup",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["n", 1])],
        [helper.make_tensor_value_info("rows", TensorProto.FLOAT, ["n", 1, 2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    data = model.SerializeToString()
    metadata = _tensor_metadata(data, "lookup", "ids", [None, 1], ["rows"])
    metadata["graph"]["inputs"][0]["dtype"] = "int64"
    registry = _publish(tmp_path, data, metadata)
    assert registry.predict(None, [[3]])["outputs"] == [{"rows": [[6.0, 7.0]]}]
    with pytest.raises(ModelCannotRun) as caught:
        registry.predict(None, [[40]])
    assert caught.value.status == 422 and "could not run on these inputs" in caught.value.message


def test_a_sample_the_model_refuses_is_named_at_publish(tmp_path: Path) -> None:
    """Samples run at publish: one of the wrong shape is refused by name."""
    features, target = load_iris(return_X_y=True)
    estimator = LogisticRegression(max_iter=1000).fit(features, target)
    model = to_onnx(estimator, features[:1].astype(np.float32), options={id(estimator): {"zipmap": False}})
    data = model.SerializeToString()
    metadata = _tensor_metadata(data, "iris", "X", [None, 4], ["label", "probabilities"])
    metadata["samples"] = [{"input": [5.1, 3.5, 1.4, 0.2]}, {"input": [1, 2, 3]}]
    with pytest.raises(PublishError) as refused:
        _publish(tmp_path, data, metadata)
    assert "samples[1]: inputs[0] must be a list of 4 numbers" in str(refused.value)


def test_a_republished_version_with_other_metadata_is_refused(tmp_path: Path) -> None:
    """The version's checksum covers metadata.json: the same model under the same version with other labels is
    refused, and what was published stays."""
    features, target = load_iris(return_X_y=True)
    estimator = LogisticRegression(max_iter=1000).fit(features, target)
    data = to_onnx(estimator, features[:1].astype(np.float32)).SerializeToString()
    metadata = {
        **_tensor_metadata(data, "iris", "X", [None, 4], ["output_label", "output_probability"]),
        "task": "classification",
        "labels": ["a", "b", "c"],
        "classes": [0, 1, 2],
        "probabilities_output": "output_probability",
    }
    _publish(tmp_path, data, metadata)
    published = (tmp_path / "models" / "iris" / "1" / METADATA_FILE).read_bytes()
    relabelled = write_model_dir(tmp_path / "relabelled", data, {**metadata, "labels": ["c", "b", "a"]})
    with pytest.raises(PublishError, match=r"metadata\.json differ"):
        publish_version(relabelled, tmp_path / "models", "iris")
    assert (tmp_path / "models" / "iris" / "1" / METADATA_FILE).read_bytes() == published
