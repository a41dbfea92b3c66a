"""Model names, versions and the metadata.json format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inference.errors import BadRequest
from inference.models.metadata import MetadataError, ModelMetadata, check_name, check_version
from tests.models.factory import DIGITS_DIR, tiny_metadata, tiny_onnx

BAD_NAMES = [
    "../etc",
    "..",
    ".",
    "a/b",
    "a\\b",
    "%2e%2e",
    "%2F",
    ".hidden",
    "-x",
    "",
    "a" * 65,
    "a..b",
    "a b",
    "é",
    None,
    3,
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_model_names_are_refused(name: object) -> None:
    """Path traversal and anything outside the naming rule is a 400 invalid_model_name."""
    with pytest.raises(BadRequest) as caught:
        check_name(name)
    assert caught.value.code == "invalid_model_name"


@pytest.mark.parametrize("version", BAD_NAMES)
def test_bad_versions_are_refused(version: object) -> None:
    """The same rule applies to versions, with the code invalid_version."""
    with pytest.raises(BadRequest) as caught:
        check_version(version)
    assert caught.value.code == "invalid_version"


@pytest.mark.parametrize("name", ["digits", "a", "Model_2.1-beta", "2026-01-01", "v1.10", "x" * 64])
def test_good_names_pass(name: str) -> None:
    """Ordinary names and versions come back unchanged."""
    assert check_name(name) == name
    assert check_version(name) == name


def test_committed_digits_metadata_parses() -> None:
    """The example model's metadata follows the format and describes a 64-pixel, 10-class classifier."""
    metadata = ModelMetadata.read(DIGITS_DIR)
    assert metadata.name == "digits"
    assert metadata.format_version == 2
    assert metadata.input is not None
    assert metadata.input.row_shape == (64,)
    assert metadata.input.also_accepts == ((8, 8),)
    assert metadata.labels == tuple(str(digit) for digit in range(10))
    assert metadata.provenance["metrics"]["accuracy"] > 0.95
    assert len(metadata.samples) == 10


def test_input_description_lists_the_batch_dimension_as_null() -> None:
    """The input description handed to API clients keeps the metadata's shape, batch as null."""
    described = ModelMetadata.read(DIGITS_DIR).describe_input()
    assert described["shape"] == [None, 64]
    assert described["dtype"] == "float32"
    assert described["range"] == [0, 16]
    assert described["kind"] == "image"
    assert described["image"]["size"] == [8, 8]


def _broken(**changes: Any) -> dict[str, Any]:
    metadata = tiny_metadata(tiny_onnx())
    for key, value in changes.items():
        if value is KeyError:
            del metadata[key]
        else:
            metadata[key] = value
    return metadata


@pytest.mark.parametrize(
    "metadata",
    [
        _broken(format_version=3),
        _broken(format_version=True),
        _broken(format_version=KeyError),
        _broken(task="ranking"),
        _broken(model_sha256="abc"),
        _broken(model_bytes=0),
        _broken(model_bytes=True),
        _broken(name="../x"),
        _broken(outputs=[]),
        _broken(labels=KeyError),
        _broken(probabilities_output="scores"),
        _broken(input={"name": "x", "dtype": "float32", "shape": [2]}),
        _broken(input={"name": "x", "dtype": "float32", "shape": [None, 0]}),
        _broken(input={"name": "x", "dtype": "complex64", "shape": [None, 2]}),
        _broken(input={"name": "x", "dtype": "float32", "shape": [None, 2], "range": [1, 0]}),
        _broken(input={"name": "x", "dtype": "float32", "shape": [None, 2], "also_accepts": [[3]]}),
        _broken(samples=[{"label": "a"}]),
        [],
    ],
)
def test_malformed_metadata_is_refused(metadata: object) -> None:
    """Each departure from the documented format raises MetadataError."""
    with pytest.raises(MetadataError):
        ModelMetadata.from_dict(metadata)


def test_metadata_that_is_not_json_is_refused(tmp_path: Path) -> None:
    """A truncated metadata file is a MetadataError, not a crash."""
    text = json.dumps(tiny_metadata(tiny_onnx()))
    (tmp_path / "metadata.json").write_text(text[: len(text) // 2])
    with pytest.raises(MetadataError):
        ModelMetadata.read(tmp_path)
