"""How a model's raw outputs become the answer: classes with probabilities, embeddings (pooled, normalised,
as JSON floats or base64 float32), or plain tensors. numpy arrays in, JSON-ready values out."""

from __future__ import annotations

import base64
from typing import Any

from inference.errors import BadRequest
from inference.models.metadata import EmbeddingSpec

ENCODING_FLOAT = "float"
ENCODING_BASE64 = "base64"  # little-endian float32, the compact form for large batches
ENCODINGS = (ENCODING_FLOAT, ENCODING_BASE64)


def check_encoding(value: object) -> str:
    if value not in ENCODINGS:
        raise BadRequest(f'"encoding_format" must be one of {list(ENCODINGS)}', "invalid_encoding_format")
    return str(value)


def classes(probabilities: Any, labels: tuple[str, ...]) -> list[dict[str, Any]]:
    # Checked once here rather than by a strict zip per row; loading checks it too when the graph says.
    if probabilities.shape[-1] != len(labels):
        raise ValueError(f"the model gave {probabilities.shape[-1]} probabilities for {len(labels)} labels")
    best = probabilities.argmax(axis=1).tolist()
    return [
        {"label": labels[index], "probabilities": dict(zip(labels, row, strict=False))}
        for index, row in zip(best, probabilities.tolist(), strict=True)
    ]


def tensors(names: list[str], results: list[Any]) -> list[dict[str, Any]]:
    # One tolist() per output converts every value in C; the rows are then regrouped per input.
    columns = [result.tolist() for result in results]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def pooled(hidden: Any, attention_mask: Any, spec: EmbeddingSpec) -> Any:
    """One float32 vector per input: the pooling and normalisation of sentence-transformers' Pooling and
    Normalize modules."""
    import numpy as np

    if spec.pooling == "mean":
        mask = attention_mask[:, :, None].astype(np.float32)
        vectors = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
    elif spec.pooling == "cls":
        vectors = hidden[:, 0]
    else:
        vectors = hidden
    if vectors.ndim != 2 or vectors.shape[1] != spec.dimension:
        raise ValueError(f"the model gave vectors of shape {list(vectors.shape[1:])}, not [{spec.dimension}]")
    if spec.normalize:
        vectors = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    return np.ascontiguousarray(vectors, dtype=np.float32)


def embeddings(vectors: Any, encoding: str) -> list[dict[str, Any]]:
    if encoding == ENCODING_BASE64:
        little_endian = vectors.astype("<f4", copy=False)
        return [{"embedding": base64.b64encode(row.tobytes()).decode("ascii")} for row in little_endian]
    return [{"embedding": row} for row in vectors.tolist()]
