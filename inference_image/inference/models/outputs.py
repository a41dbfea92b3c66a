"""How a model's raw outputs become the answer: classes with probabilities, embeddings (pooled, normalised,
as JSON floats or base64 float32), or plain outputs by name. numpy arrays (and ONNX Runtime's lists, for
sequence outputs) in, JSON-ready values out.

Any output ONNX Runtime can return is presented: tensors of any rank and element type (strings and int64
labels included), sequences, and sequences of maps (skl2onnx's ZipMap gives a classifier's probabilities as one
``{class: probability}`` map per input). What cannot be split into one value per input raises ``OutputProblem``,
which publishing finds with its probe run, so that it never reaches a request."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from inference.errors import BadRequest
from inference.models.metadata import EmbeddingSpec

ENCODING_FLOAT = "float"
ENCODING_BASE64 = "base64"  # little-endian float32, the compact form for large batches
ENCODINGS = (ENCODING_FLOAT, ENCODING_BASE64)


class OutputProblem(ValueError):
    """A graph output that does not fit what the metadata says it is."""


def check_encoding(value: object) -> str:
    if value not in ENCODINGS:
        raise BadRequest(f'"encoding_format" must be one of {list(ENCODINGS)}', "invalid_encoding_format")
    return str(value)


def describe(value: Any) -> str:
    """An output's form in words, for messages: ``a float32 tensor of shape [2, 3]``, ``a sequence of 2 maps``."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"a {getattr(value, 'dtype', '')} tensor of shape {list(shape)}".replace("a  tensor", "a tensor")
    if isinstance(value, list):
        kinds = sorted({"maps" if isinstance(item, dict) else type(item).__name__ for item in value})
        return f"a sequence of {len(value)} {'/'.join(kinds) or 'items'}"
    return f"a {type(value).__name__}"


def probability_rows(
    raw: Any, labels: Sequence[str], classes: Sequence[int | str] | None, count: int, *, softmax: bool = False
) -> Any:
    """The probabilities as a float32 ``[count, len(labels)]`` array, columns in the order of ``labels``, from a
    ``[count, C]`` tensor or from one ``{class: probability}`` map per input (keyed by ``classes``, or else by the
    labels themselves); with ``softmax``, the values are scores that softmax turns into probabilities."""
    import numpy as np

    if isinstance(raw, list):
        keys: Sequence[Any] = classes if classes is not None else labels
        rows = []
        for index, item in enumerate(raw):
            if not isinstance(item, dict):
                raise OutputProblem(f"the probabilities are {describe(raw)}, not one map or row per input")
            row = item if classes is not None else {str(key): value for key, value in item.items()}
            missing = [key for key in keys if key not in row]
            if missing:
                raise OutputProblem(
                    f"the probabilities of input {index} are a map keyed {sorted(map(str, row))[:10]}, without "
                    f"{[str(key) for key in missing[:10]]}: list the map's keys in 'classes', in the order of 'labels'"
                )
            rows.append([float(row[key]) for key in keys])
        values = np.asarray(rows, dtype=np.float32).reshape(len(rows), len(keys))
    else:
        values = np.asarray(raw, dtype=np.float32)
        if values.ndim != 2 or values.shape[1] != len(labels):
            raise OutputProblem(
                f"the probabilities are {describe(raw)}, but {len(labels)} labels call for [inputs, {len(labels)}]"
            )
    if values.shape[0] != count:
        raise OutputProblem(f"the probabilities hold {values.shape[0]} rows for {count} inputs")
    if softmax:
        shifted = np.exp(values - values.max(axis=1, keepdims=True))
        values = shifted / shifted.sum(axis=1, keepdims=True)
    return values


def classes(probabilities: Any, labels: Sequence[str]) -> list[dict[str, Any]]:
    """One ``{"label", "probabilities"}`` per row of a ``[N, len(labels)]`` array (see ``probability_rows``)."""
    best = probabilities.argmax(axis=1).tolist()
    return [
        {"label": labels[index], "probabilities": dict(zip(labels, row, strict=True))}
        for index, row in zip(best, probabilities.tolist(), strict=True)
    ]


def per_input(name: str, value: Any, count: int) -> list[Any]:
    """One JSON value per input from an output: the rows of a tensor whose first dimension is the batch, or the
    items of a sequence (maps keyed by strings, as JSON requires)."""
    if hasattr(value, "shape"):
        if value.ndim == 0 or value.shape[0] != count:
            raise OutputProblem(
                f"output {name!r} is {describe(value)} for {count} inputs: not one value per input (its first "
                "dimension is not the batch); leave it out of the metadata's graph.outputs"
            )
        return _rows(value)
    if isinstance(value, list) and len(value) == count:
        return [_jsonable(item) for item in value]
    raise OutputProblem(f"output {name!r} is {describe(value)} for {count} inputs: not one value per input")


def tensors(names: list[str], results: list[Any], count: int) -> list[dict[str, Any]]:
    """``{output_name: value}`` per input. One tolist() per tensor converts every value in C; the rows are then
    regrouped per input."""
    columns = [per_input(name, result, count) for name, result in zip(names, results, strict=True)]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _jsonable(value: Any) -> Any:
    """A value of a sequence output in JSON's types: maps get string keys, arrays become lists."""
    if isinstance(value, dict):
        return {_key(key): _jsonable(item) for key, item in value.items()}
    if hasattr(value, "shape"):  # numpy arrays and scalars
        return _rows(value)
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return _decoded(value)


def _key(key: Any) -> str:
    return key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)


def _rows(array: Any) -> Any:
    """``array.tolist()``; for object and byte-string arrays (ONNX string tensors), with bytes decoded as text."""
    values = array.tolist()
    return _decoded(values) if array.dtype.kind in "OS" else values


def _decoded(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return [_decoded(item) for item in value]
    return value


def pooled(hidden: Any, attention_mask: Any, spec: EmbeddingSpec) -> Any:
    """One float32 vector per input: the pooling and normalisation of sentence-transformers' Pooling and
    Normalize modules."""
    import numpy as np

    hidden = np.asarray(hidden, dtype=np.float32)
    if spec.pooling == "mean":
        if hidden.ndim != 3:
            raise OutputProblem(f"mean pooling needs token vectors [inputs, tokens, dimension], got {describe(hidden)}")
        mask = attention_mask[:, :, None].astype(np.float32)
        vectors = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
    elif spec.pooling == "cls":
        if hidden.ndim != 3:
            raise OutputProblem(f"CLS pooling needs token vectors [inputs, tokens, dimension], got {describe(hidden)}")
        vectors = hidden[:, 0]
    else:
        vectors = hidden
    if vectors.ndim != 2 or vectors.shape[1] != spec.dimension:
        raise OutputProblem(f"the model gave vectors of shape {list(vectors.shape[1:])}, not [{spec.dimension}]")
    if spec.normalize:
        vectors = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    return np.ascontiguousarray(vectors, dtype=np.float32)


def embeddings(vectors: Any, encoding: str) -> list[dict[str, Any]]:
    if encoding == ENCODING_BASE64:
        little_endian = vectors.astype("<f4", copy=False)
        return [{"embedding": base64.b64encode(row.tobytes()).decode("ascii")} for row in little_endian]
    return [{"embedding": row} for row in vectors.tolist()]
