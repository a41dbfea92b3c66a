"""The text path on the real MiniLM example: tokenise, run, pool, normalise; fidelity; bad texts; load errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from inference.errors import BadRequest, ModelUnavailable
from inference.models.metadata import METADATA_FILE, sha256_hex
from inference.models.registry import ModelRegistry
from tests.models.factory import MINILM_REFERENCE, linked_copy, minilm_dir

TOKENIZER = "tokenizer.json"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> ModelRegistry:
    models = tmp_path_factory.mktemp("models")
    linked_copy(minilm_dir(), models / "minilm" / "1")
    return ModelRegistry(models, "minilm")


def _vectors(answer: dict[str, Any]) -> np.ndarray:
    return np.asarray([output["embedding"] for output in answer["outputs"]], dtype=np.float64)


def test_embeddings_match_sentence_transformers(registry: ModelRegistry) -> None:
    """Over the committed reference sentences, every served embedding has cosine >= 0.9999 with the reference."""
    reference = json.loads(MINILM_REFERENCE.read_text(encoding="utf-8"))
    assert len(reference["sentences"]) >= 20
    got = np.concatenate(
        [
            _vectors(registry.predict("minilm", reference["sentences"][start : start + 8]))
            for start in range(0, len(reference["sentences"]), 8)
        ]
    )
    expected = np.asarray(reference["embeddings"], dtype=np.float64)
    cosines = (got * expected).sum(axis=1) / np.linalg.norm(expected, axis=1)
    assert cosines.min() >= 0.9999


def test_answer_states_the_dimension_and_gives_unit_vectors(registry: ModelRegistry) -> None:
    """One 384-float, unit-length embedding per text, the dimension in the answer, and timings."""
    answer = registry.predict("minilm", ["A man is eating food.", "A monkey is playing drums."])
    assert answer["dimension"] == 384
    assert answer["encoding_format"] == "float"
    vectors = _vectors(answer)
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert set(answer["timing_ms"]) == {"preprocessing", "inference", "total"}


def test_base64_encoding_is_little_endian_float32_of_the_same_vectors(registry: ModelRegistry) -> None:
    """encoding_format=base64 gives each embedding as base64 of 384 little-endian float32 values."""
    texts = ["hello", "world"]
    floats = _vectors(registry.predict("minilm", texts))
    answer = registry.predict("minilm", texts, encoding_format="base64")
    assert answer["encoding_format"] == "base64"
    decoded = np.asarray(
        [np.frombuffer(base64.b64decode(output["embedding"]), dtype="<f4") for output in answer["outputs"]]
    )
    assert decoded.shape == (2, 384)
    assert np.allclose(decoded, floats, atol=1e-7)


def test_a_batch_is_padded_only_and_padding_does_not_change_a_text(registry: ModelRegistry) -> None:
    """A short text alone and next to a long one gets the same embedding (padding is masked out)."""
    alone = _vectors(registry.predict("minilm", ["a short one"]))[0]
    beside = _vectors(registry.predict("minilm", ["a short one", "a much longer sentence " * 20]))[0]
    assert float(alone @ beside) > 0.99999


def test_texts_past_the_model_length_are_truncated_not_refused(registry: ModelRegistry) -> None:
    """Two texts that agree on their first 256 tokens get the same embedding: truncation at max_tokens."""
    head = " ".join(f"w{index}" for index in range(300))
    first, second = _vectors(registry.predict("minilm", [head + " cats", head + " dogs and more dogs"]))
    assert float(first @ second) > 0.99999


@pytest.mark.parametrize(
    ("inputs", "wanted"),
    [
        ("a text", '"inputs" must be a list of texts'),
        ([], '"inputs" is empty'),
        ([3], "inputs[0] must be a string, got a number"),
        (["ok", None], "inputs[1] must be a string, got null"),
        (["ok", ["nested"]], "inputs[1] must be a string, got a list"),
        ([""], "inputs[0] is empty"),
        (["   \n"], "inputs[0] is empty"),
        (["x" * 16385], "inputs[0] is 16385 bytes of UTF-8; at most 16384"),
        (["é" * 8193], "inputs[0] is 16386 bytes"),
        (["\ud800"], "inputs[0] is not valid Unicode"),
        ([{"image": "iVBORw0KGgo="}], "this model takes text, not images"),
        (["t"] * 129, '"inputs" holds 129 texts; at most 128'),
    ],
)
def test_bad_texts_are_400s_naming_the_problem(registry: ModelRegistry, inputs: object, wanted: str) -> None:
    """Each bad text is a 400 invalid_input that says which input is wrong and why."""
    with pytest.raises(BadRequest) as caught:
        registry.predict("minilm", inputs)
    assert caught.value.code == "invalid_input"
    assert wanted in caught.value.message


def test_base64_is_refused_for_a_classifier(tmp_path: Path) -> None:
    """encoding_format other than float is a 400 for a model without embeddings."""
    from inference.models.publishing import publish_version
    from tests.models.factory import DIGITS_DIR

    publish_version(DIGITS_DIR, tmp_path, "digits")
    with pytest.raises(BadRequest) as caught:
        ModelRegistry(tmp_path, "digits").predict(None, [[0] * 64], encoding_format="base64")
    assert caught.value.code == "invalid_encoding_format"


def test_listing_states_kind_task_and_dimension(registry: ModelRegistry) -> None:
    """GET /models describes the text input, the task and the embedding dimension."""
    (model,) = registry.list_models()["models"]
    assert model["task"] == "embedding"
    assert model["dimension"] == 384
    assert model["input"]["kind"] == "text"
    assert model["input"]["max_tokens"] == 256
    assert model["samples"] and all(isinstance(sample["input"], str) for sample in model["samples"])


# --- load errors: a version whose tokenizer does not fit is never served -------------------------------------


def _variant(tmp_path: Path, change_tokenizer: Any, **metadata_changes: Any) -> ModelRegistry:
    """A copy of MiniLM whose tokenizer.json is rewritten by ``change_tokenizer`` (None: removed); its
    metadata lists the new file's checksum, so only the pairing itself is wrong."""
    version_dir = linked_copy(minilm_dir(), tmp_path / "models" / "minilm" / "1")
    metadata = json.loads((version_dir / METADATA_FILE).read_text())
    tokenizer = (version_dir / TOKENIZER).read_bytes()
    (version_dir / TOKENIZER).unlink()
    if change_tokenizer is not None:
        tokenizer = change_tokenizer(tokenizer)
        (version_dir / TOKENIZER).write_bytes(tokenizer)
        metadata["files"][TOKENIZER] = {"sha256": sha256_hex(tokenizer), "bytes": len(tokenizer)}
    for key, value in metadata_changes.items():
        metadata["input"][key] = value
    (version_dir / METADATA_FILE).unlink()
    (version_dir / METADATA_FILE).write_text(json.dumps(metadata))
    return ModelRegistry(tmp_path / "models", "minilm")


def _with_more_tokens(tokenizer: bytes) -> bytes:
    """The real tokenizer plus added tokens whose ids lie past the graph's 30,522 embeddings."""
    document = json.loads(tokenizer)
    for extra in range(3):
        document["added_tokens"].append(
            {
                "id": 30522 + extra,
                "content": f"[EXTRA{extra}]",
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
        )
    return json.dumps(document).encode()


def _load_error(registry: ModelRegistry) -> str:
    with pytest.raises(ModelUnavailable) as caught:
        registry.predict("minilm", ["hello"])
    return caught.value.message


def test_a_tokenizer_with_a_larger_vocabulary_than_the_graph_is_a_load_error(tmp_path: Path) -> None:
    """A bad tokenizer/model pairing fails when the version loads (503, named), never as a 500 on a request."""
    message = _load_error(_variant(tmp_path, _with_more_tokens, vocab_size=30525))
    assert "is corrupt and is not served" in message
    assert "cannot run on the ids of tokenizer.json" in message


def test_a_tokenizer_that_disagrees_with_the_metadata_is_a_load_error(tmp_path: Path) -> None:
    """The tokenizer's vocabulary size must be the one the metadata declares."""
    assert "has 30525 tokens, but the metadata says" in _load_error(_variant(tmp_path, _with_more_tokens))


def test_a_missing_tokenizer_is_a_load_error(tmp_path: Path) -> None:
    """A version without the tokenizer its metadata lists is incomplete: not listed, not served."""
    registry = _variant(tmp_path, None)
    assert registry.list_models()["models"][0]["versions"] == []
    assert "no complete, loadable version" in _load_error(registry)


def test_a_file_that_is_not_a_tokenizer_is_a_load_error(tmp_path: Path) -> None:
    """Valid JSON that is no tokenizer is named as such."""
    message = _load_error(_variant(tmp_path, lambda _: b'{"model": "nothing"}'))
    assert "tokenizer.json is not a tokenizer" in message


def test_a_swapped_tokenizer_fails_its_checksum(tmp_path: Path) -> None:
    """Changing tokenizer.json without its metadata is caught by the sha256 every file has."""
    version_dir = linked_copy(minilm_dir(), tmp_path / "models" / "minilm" / "1")
    tokenizer = (version_dir / TOKENIZER).read_bytes()
    (version_dir / TOKENIZER).unlink()
    (version_dir / TOKENIZER).write_bytes(tokenizer.replace(b"[UNK]", b"[UNX]"))
    assert "does not match the sha256" in _load_error(ModelRegistry(tmp_path / "models", "minilm"))
