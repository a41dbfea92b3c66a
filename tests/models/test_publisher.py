"""The publisher Lambda: copies a model version from S3 (a fake client here) onto the models folder."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from inference.errors import BadRequest
from inference.models.integrity import folder_content_sha256
from inference.models.metadata import METADATA_FILE, MODEL_FILE
from inference.models.pointer import read_latest
from inference.models.publisher import handler, publish_from_s3
from inference.models.publishing import PublishError
from inference.models.registry import ModelRegistry
from tests.models.factory import DIGITS_DIR, tiny_model_dir

BUCKET = "model-artifacts"
PREFIX = "models/digits/1"


class FakeS3:
    """The two S3 calls the publisher makes, over an in-memory bucket, paginated like the real API."""

    def __init__(self, objects: dict[str, bytes], page_size: int = 1000) -> None:
        self.objects = objects
        self.page_size = page_size
        self.downloads: list[str] = []

    def list_objects_v2(self, Bucket: str, Prefix: str, ContinuationToken: str | None = None) -> dict[str, Any]:
        assert Bucket == BUCKET
        keys = sorted(key for key in self.objects if key.startswith(Prefix))
        start = int(ContinuationToken or 0)
        page = keys[start : start + self.page_size]
        truncated = start + self.page_size < len(keys)
        result: dict[str, Any] = {"IsTruncated": truncated, "KeyCount": len(page)}
        if page:
            result["Contents"] = [{"Key": key, "Size": len(self.objects[key])} for key in page]
        if truncated:
            result["NextContinuationToken"] = str(start + self.page_size)
        return result

    def download_fileobj(self, Bucket: str, Key: str, Fileobj: BinaryIO) -> None:
        assert Bucket == BUCKET
        self.downloads.append(Key)
        Fileobj.write(self.objects[Key])

    def put_object(self, Bucket: str, Key: str, Body: bytes, ContentType: str) -> None:
        assert Bucket == BUCKET
        self.objects[Key] = Body


def _bucket_with(folder: Path, prefix: str = PREFIX) -> dict[str, bytes]:
    return {f"{prefix}/{path.name}": path.read_bytes() for path in folder.iterdir()}


def _event(**changes: Any) -> dict[str, Any]:
    return {"bucket": BUCKET, "prefix": PREFIX, "name": "digits", "version": "1", **changes}


def test_publishes_a_model_from_s3(tmp_path: Path) -> None:
    """Every object under the prefix lands in models/<name>/<version>, LATEST points at it, and it serves."""
    objects = _bucket_with(DIGITS_DIR)
    objects[f"{PREFIX}/"] = b""  # a console-made "folder" marker is skipped
    objects["models/digits/10/model.onnx"] = b"another version's file, not under the prefix"
    s3 = FakeS3(objects, page_size=1)
    models_dir = tmp_path / "models"
    result = publish_from_s3(_event(), s3, models_dir)
    assert result == {
        "name": "digits",
        "version": "1",
        "path": str(models_dir / "digits" / "1"),
        "files": 2,
        "content_sha256": folder_content_sha256(DIGITS_DIR),
    }
    assert s3.objects["models/digits/LATEST"] == b"1"  # where the jobs' catalog reads which version is served
    assert (models_dir / "digits" / "1" / MODEL_FILE).read_bytes() == (DIGITS_DIR / MODEL_FILE).read_bytes()
    assert read_latest(models_dir / "digits") == "1"
    assert ModelRegistry(models_dir, "digits").predict(None, [[0] * 64])["version"] == "1"


def test_publishing_again_is_idempotent(tmp_path: Path) -> None:
    """A second invocation for the same version and model returns the same result and changes no file."""
    s3 = FakeS3(_bucket_with(DIGITS_DIR))
    models_dir = tmp_path / "models"
    first = publish_from_s3(_event(), s3, models_dir)
    model = models_dir / "digits" / "1" / MODEL_FILE
    mtime = model.stat().st_mtime_ns
    assert publish_from_s3(_event(), s3, models_dir) == first
    assert model.stat().st_mtime_ns == mtime
    assert sorted(path.name for path in (models_dir / "digits").iterdir()) == ["1", "LATEST"]


def test_a_different_model_under_a_published_version_fails(tmp_path: Path) -> None:
    """Other content under an existing version is an error (the invocation fails) and the folder is untouched."""
    models_dir = tmp_path / "models"
    publish_from_s3(_event(), FakeS3(_bucket_with(DIGITS_DIR)), models_dir)
    other = tiny_model_dir(tmp_path / "other", name="digits")
    with pytest.raises(PublishError, match="different model"):
        publish_from_s3(_event(), FakeS3(_bucket_with(other)), models_dir)
    assert (models_dir / "digits" / "1" / MODEL_FILE).read_bytes() == (DIGITS_DIR / MODEL_FILE).read_bytes()


def test_corrupt_objects_are_not_published(tmp_path: Path) -> None:
    """A model object that does not match the metadata's sha256 never becomes a version."""
    objects = _bucket_with(DIGITS_DIR)
    objects[f"{PREFIX}/{MODEL_FILE}"] = objects[f"{PREFIX}/{MODEL_FILE}"][:-10]
    models_dir = tmp_path / "models"
    with pytest.raises(PublishError, match="does not match"):
        publish_from_s3(_event(), FakeS3(objects), models_dir)
    assert not (models_dir / "digits").exists()  # not even an empty model folder, which GET /models would list


@pytest.mark.parametrize(
    ("objects", "message"),
    [
        ({f"{PREFIX}/{METADATA_FILE}": b"{}"}, "lacks model.onnx"),
        ({}, "lacks metadata.json, model.onnx"),
        ({f"{PREFIX}/{MODEL_FILE}": b"x", f"{PREFIX}/{METADATA_FILE}": b"{}", f"{PREFIX}/extra/x": b""}, "flat"),
    ],
)
def test_an_incomplete_or_nested_prefix_fails(tmp_path: Path, objects: dict[str, bytes], message: str) -> None:
    """The prefix must hold model.onnx and metadata.json, as plain files; nothing is downloaded otherwise."""
    s3 = FakeS3(objects)
    with pytest.raises(PublishError, match=re.escape(message)):
        publish_from_s3(_event(), s3, tmp_path / "models")
    assert s3.downloads == []


@pytest.mark.parametrize(
    "event",
    [None, [], _event(bucket=""), _event(name=None), _event(version=1), {"bucket": BUCKET, "prefix": PREFIX}],
)
def test_a_malformed_event_fails(tmp_path: Path, event: object) -> None:
    """Missing or mistyped event fields fail with a message naming the field."""
    with pytest.raises(PublishError, match="event"):
        publish_from_s3(event, FakeS3(_bucket_with(DIGITS_DIR)), tmp_path / "models")


@pytest.mark.parametrize(("field", "value"), [("name", "../etc"), ("version", "../../1")])
def test_traversal_in_the_event_is_refused(tmp_path: Path, field: str, value: str) -> None:
    """A name or version that would leave the models folder is refused before anything is written."""
    with pytest.raises(BadRequest):
        publish_from_s3(_event(**{field: value}), FakeS3(_bucket_with(DIGITS_DIR)), tmp_path / "models")
    assert not (tmp_path / "etc").exists()


def test_prefix_does_not_match_a_longer_sibling(tmp_path: Path) -> None:
    """The prefix "models/digits/1" must not pick up the files of "models/digits/10"."""
    objects = _bucket_with(DIGITS_DIR, "models/digits/10")
    with pytest.raises(PublishError, match="lacks"):
        publish_from_s3(_event(), FakeS3(objects), tmp_path / "models")


def test_lambda_handler_uses_boto3_and_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """handler(event, context) builds an S3 client with boto3 and publishes under $DATA_DIR/models."""
    import boto3

    s3 = FakeS3(_bucket_with(DIGITS_DIR))
    clients: list[str] = []

    def fake_client(service: str) -> FakeS3:
        clients.append(service)
        return s3

    monkeypatch.setattr(boto3, "client", fake_client)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    result = handler(_event(), None)
    assert clients == ["s3"]
    assert result["path"] == str(tmp_path / "models" / "digits" / "1")
