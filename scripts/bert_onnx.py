"""A BERT encoder (the architecture of all-MiniLM-L6-v2) as an ONNX graph, built with the `onnx` package's
own helpers from a safetensors file: no torch, no transformers.

The graph computes exactly what Hugging Face's ``BertModel`` computes in eval mode and returns its
``last_hidden_state``; pooling and normalising are the server's job (the metadata declares them).
Safetensors is read with the standard library and numpy: a JSON header, then raw little-endian tensors."""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17  # LayerNormalization is a standard op from 17 on; old enough for any recent ONNX Runtime
_SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


@dataclass(frozen=True)
class BertConfig:
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    layer_norm_eps: float

    @classmethod
    def from_config_json(cls, config: dict[str, Any]) -> BertConfig:
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise ValueError("only BERT models with the exact (erf) GELU are supported")
        if config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("only absolute position embeddings are supported")
        return cls(
            hidden_size=int(config["hidden_size"]),
            num_layers=int(config["num_hidden_layers"]),
            num_heads=int(config["num_attention_heads"]),
            intermediate_size=int(config["intermediate_size"]),
            layer_norm_eps=float(config["layer_norm_eps"]),
        )


def read_safetensors(data: bytes) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file, as numpy arrays that own their memory."""
    (header_size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_size])
    body = memoryview(data)[8 + header_size :]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        dtype = np.dtype(_SAFETENSORS_DTYPES[entry["dtype"]]).newbyteorder("<")
        tensors[name] = np.frombuffer(body[start:end], dtype=dtype).reshape(entry["shape"]).copy()
    return tensors


class _Graph:
    """Collects nodes and initializers, naming each intermediate value after the node that makes it."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def weight(self, key: str, *, transpose: bool = False) -> str:
        array = self.weights[key]
        if transpose:  # torch's Linear keeps [out, in]; MatMul wants [in, out]
            array = np.ascontiguousarray(array.T)
        self.initializers.append(numpy_helper.from_array(array.astype(np.float32), key))
        return key

    def constant(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, inputs: list[str], name: str, **attributes: Any) -> str:
        self.nodes.append(helper.make_node(op_type, inputs, [name], name=name, **attributes))
        return name

    def linear(self, x: str, prefix: str) -> str:
        product = self.op("MatMul", [x, self.weight(f"{prefix}.weight", transpose=True)], f"{prefix}/MatMul")
        return self.op("Add", [product, self.weight(f"{prefix}.bias")], f"{prefix}/Add")

    def layer_norm(self, x: str, prefix: str, epsilon: float) -> str:
        scale, bias = self.weight(f"{prefix}.weight"), self.weight(f"{prefix}.bias")
        return self.op("LayerNormalization", [x, scale, bias], f"{prefix}/LayerNorm", axis=-1, epsilon=epsilon)


def build_bert_graph(weights: dict[str, np.ndarray], config: BertConfig, graph_name: str) -> onnx.ModelProto:
    """The encoder with inputs ``input_ids``, ``attention_mask``, ``token_type_ids`` (int64 ``[batch, sequence]``)
    and the output ``last_hidden_state`` (float32 ``[batch, sequence, hidden]``)."""
    g = _Graph(weights)
    head_size = config.hidden_size // config.num_heads
    g.constant("zero", np.array(0, dtype=np.int64))
    g.constant("one", np.array(1, dtype=np.int64))
    g.constant("one_f", np.array(1.0, dtype=np.float32))
    g.constant("half_f", np.array(0.5, dtype=np.float32))
    g.constant("sqrt2_f", np.array(math.sqrt(2.0), dtype=np.float32))
    # What BertModel adds to the scores of padding positions: the lowest float32, so softmax gives them 0.
    g.constant("masked_f", np.array(np.finfo(np.float32).min, dtype=np.float32))
    g.constant("sqrt_head_f", np.array(math.sqrt(head_size), dtype=np.float32))
    g.constant("heads_shape", np.array([0, 0, config.num_heads, head_size], dtype=np.int64))
    g.constant("hidden_shape", np.array([0, 0, config.hidden_size], dtype=np.int64))
    g.constant("axis_1", np.array([1], dtype=np.int64))
    g.constant("axis_2", np.array([2], dtype=np.int64))

    # Embeddings: word + position (0..sequence-1) + token type, then LayerNorm.
    words = g.op("Gather", [g.weight("embeddings.word_embeddings.weight"), "input_ids"], "embeddings/words")
    shape = g.op("Shape", ["input_ids"], "embeddings/Shape")
    length = g.op("Gather", [shape, "one"], "embeddings/length", axis=0)
    positions = g.op("Range", ["zero", length, "one"], "embeddings/position_ids")
    placed = g.op("Gather", [g.weight("embeddings.position_embeddings.weight"), positions], "embeddings/positions")
    types = g.op("Gather", [g.weight("embeddings.token_type_embeddings.weight"), "token_type_ids"], "embeddings/types")
    summed = g.op("Add", [g.op("Add", [words, placed], "embeddings/Add_1"), types], "embeddings/Add_2")
    hidden = g.layer_norm(summed, "embeddings.LayerNorm", config.layer_norm_eps)

    # The additive mask [batch, 1, 1, sequence]: 0 where attended, the lowest float where padding. Built in
    # the order Hugging Face's export uses, which ONNX Runtime's attention fusion recognises.
    mask = g.op("Unsqueeze", ["attention_mask", "axis_1"], "mask/Unsqueeze_1")
    mask = g.op("Unsqueeze", [mask, "axis_2"], "mask/Unsqueeze_2")
    mask = g.op("Cast", [mask], "mask/Cast", to=TensorProto.FLOAT)
    mask = g.op("Sub", ["one_f", mask], "mask/Sub")
    mask = g.op("Mul", [mask, "masked_f"], "mask/Mul")

    for index in range(config.num_layers):
        hidden = _encoder_layer(g, hidden, mask, f"encoder.layer.{index}", config)

    g.op("Identity", [hidden], "last_hidden_state")
    graph = helper.make_graph(
        g.nodes,
        graph_name,
        inputs=[
            helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
            for name in ("input_ids", "attention_mask", "token_type_ids")
        ],
        outputs=[
            helper.make_tensor_value_info(
                "last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", config.hidden_size]
            )
        ],
        initializer=g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="scripts/bert_onnx.py"
    )
    model.ir_version = 8  # readable by every ONNX Runtime that supports opset 17
    onnx.checker.check_model(model, full_check=True)
    return model


def _encoder_layer(g: _Graph, x: str, mask: str, prefix: str, config: BertConfig) -> str:
    attention = f"{prefix}.attention"

    def heads(name: str, perm: list[int]) -> str:
        projected = g.linear(x, f"{attention}.self.{name}")
        split = g.op("Reshape", [projected, "heads_shape"], f"{attention}.self.{name}/Reshape")
        return g.op("Transpose", [split], f"{attention}.self.{name}/Transpose", perm=perm)

    query = heads("query", [0, 2, 1, 3])  # [batch, heads, sequence, head_size]
    key = heads("key", [0, 2, 3, 1])  # [batch, heads, head_size, sequence]
    value = heads("value", [0, 2, 1, 3])
    scores = g.op("MatMul", [query, key], f"{attention}/scores")
    scaled = g.op("Div", [scores, "sqrt_head_f"], f"{attention}/scaled")
    masked = g.op("Add", [scaled, mask], f"{attention}/masked")
    probabilities = g.op("Softmax", [masked], f"{attention}/Softmax", axis=-1)
    context = g.op("MatMul", [probabilities, value], f"{attention}/context")
    merged = g.op("Transpose", [context], f"{attention}/context/Transpose", perm=[0, 2, 1, 3])
    merged = g.op("Reshape", [merged, "hidden_shape"], f"{attention}/context/Reshape")
    attended = g.linear(merged, f"{attention}.output.dense")
    residual = g.op("Add", [attended, x], f"{attention}.output/residual")
    attention_out = g.layer_norm(residual, f"{attention}.output.LayerNorm", config.layer_norm_eps)

    # Feed-forward with the exact GELU: x * 0.5 * (1 + erf(x / sqrt 2)), the pattern ORT's optimizer fuses.
    inner = g.linear(attention_out, f"{prefix}.intermediate.dense")
    erf = g.op("Erf", [g.op("Div", [inner, "sqrt2_f"], f"{prefix}.intermediate/Div")], f"{prefix}.intermediate/Erf")
    gate = g.op("Add", [erf, "one_f"], f"{prefix}.intermediate/Add")
    gelu = g.op(
        "Mul", [g.op("Mul", [inner, gate], f"{prefix}.intermediate/Mul_1"), "half_f"], f"{prefix}.intermediate/Gelu"
    )
    out = g.linear(gelu, f"{prefix}.output.dense")
    residual = g.op("Add", [out, attention_out], f"{prefix}.output/residual")
    return g.layer_norm(residual, f"{prefix}.output.LayerNorm", config.layer_norm_eps)
