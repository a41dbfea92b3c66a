"""Reading the model directory that `pulumi up` publishes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.model_bundle import PROJECT_ROOT, read_model_bundle
from infra.validation import ConfigError


def make_model(directory: Path, metadata: dict[str, object]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.onnx").write_bytes(b"onnx bytes")
    (directory / "metadata.json").write_text(json.dumps(metadata))
    return directory


def test_bundle_lists_visible_files_with_name_version_and_prefix(tmp_path: Path) -> None:
    """Name and version come from metadata.json; hidden files are skipped; the S3 prefix is models/<name>/<version>/."""
    directory = make_model(tmp_path / "m", {"name": "digits", "version": "3"})
    (directory / ".DS_Store").write_bytes(b"")
    (directory / "samples.json").write_text("[]")
    bundle = read_model_bundle(str(directory))
    assert (bundle.name, bundle.version, bundle.s3_prefix) == ("digits", "3", "models/digits/3/")
    assert [item.name for item in bundle.files] == ["metadata.json", "model.onnx", "samples.json"]
    assert all(Path(item.path).is_file() for item in bundle.files)


def test_relative_model_dir_is_resolved_against_the_project_but_passed_on_relative(tmp_path: Path) -> None:
    """A relative modelDir is read under the project root and handed to Pulumi as a project-relative path."""
    make_model(tmp_path / "models" / "tiny", {"name": "tiny", "version": "1"})
    bundle = read_model_bundle("models/tiny", root=tmp_path)
    assert [item.path for item in bundle.files] == ["models/tiny/metadata.json", "models/tiny/model.onnx"]
    assert Path(__file__).resolve().parents[2] == PROJECT_ROOT


def test_content_hash_changes_exactly_when_content_changes(tmp_path: Path) -> None:
    """Same bytes, same hash (so the publisher is not invoked again); one changed byte, a new hash."""
    directory = make_model(tmp_path / "m", {"name": "digits", "version": "1"})
    first = read_model_bundle(str(directory)).content_sha256
    assert read_model_bundle(str(directory)).content_sha256 == first
    (directory / "model.onnx").write_bytes(b"onnx bytez")
    assert read_model_bundle(str(directory)).content_sha256 != first


def test_missing_version_is_derived_from_the_content(tmp_path: Path) -> None:
    """Without a declared version, new bytes get a new version instead of overwriting a served one."""
    directory = make_model(tmp_path / "fallback", {})
    bundle = read_model_bundle(str(directory))
    assert bundle.name == "fallback"
    assert bundle.version == f"sha-{bundle.content_sha256[:12]}"


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        (lambda d: None, "holding model.onnx and metadata.json"),
        (lambda d: make_model(d, {"name": "a/b", "version": "1"}), "name is a plain name"),
        (lambda d: make_model(d, {"name": "ok", "version": ".."}), "version is a plain name"),
        (lambda d: (make_model(d, {}), (d / "metadata.json").write_text("[1]")), "metadata.json is a JSON object"),
        (lambda d: (make_model(d, {}), (d / "metadata.json").write_text("{")), "metadata.json is a JSON object"),
    ],
)
def test_bad_model_directory_fails_naming_model_dir(tmp_path: Path, setup: object, fragment: str) -> None:
    """A missing file, a bad name or version, or unreadable metadata is one ConfigError naming modelDir."""
    directory = tmp_path / "bad"
    assert callable(setup)
    setup(directory)
    with pytest.raises(ConfigError, match="modelDir") as raised:
        read_model_bundle(str(directory))
    assert fragment in str(raised.value)
