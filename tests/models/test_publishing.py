"""Atomic publishing: temporary folder, fsync, rename, then LATEST."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from inference.errors import BadRequest
from inference.models.integrity import RECORD_FILE
from inference.models.metadata import METADATA_FILE, MODEL_FILE
from inference.models.pointer import read_latest
from inference.models.publishing import STALE_TEMP_SECONDS, TEMP_PREFIX, PublishError, publish_files, publish_version
from tests.models.conftest import PublishTiny
from tests.models.factory import DIGITS_DIR, tiny_model_dir


def test_publishes_the_example_model(models_dir: Path) -> None:
    """The committed digits model lands as models/digits/<metadata version> with LATEST pointing at it."""
    path = publish_version(DIGITS_DIR, models_dir, "digits")
    assert path == models_dir / "digits" / "2"
    assert (path / MODEL_FILE).read_bytes() == (DIGITS_DIR / MODEL_FILE).read_bytes()
    assert (path / METADATA_FILE).read_bytes() == (DIGITS_DIR / METADATA_FILE).read_bytes()
    assert read_latest(models_dir / "digits") == "2"
    assert sorted(p.name for p in (models_dir / "digits").iterdir()) == ["2", "LATEST"]


def test_version_argument_overrides_the_metadata(models_dir: Path) -> None:
    """An explicit version names the folder; the metadata's version is only the default."""
    path = publish_version(DIGITS_DIR, models_dir, "digits", version="2026-11-26")
    assert path.name == "2026-11-26"
    assert read_latest(models_dir / "digits") == "2026-11-26"


def test_republishing_the_same_model_is_a_no_op(publish_tiny: PublishTiny, models_dir: Path) -> None:
    """Publishing an existing version with the same model changes no file and leaves no temporary folder."""
    path = publish_tiny("1")
    mtime = (path / MODEL_FILE).stat().st_mtime_ns
    assert publish_tiny("1") == path
    assert (path / MODEL_FILE).stat().st_mtime_ns == mtime
    assert sorted(p.name for p in (models_dir / "tiny").iterdir()) == ["1", "LATEST"]


def test_republishing_an_older_version_points_latest_back_at_it(publish_tiny: PublishTiny, models_dir: Path) -> None:
    """Publishing is how to roll back: LATEST follows the version just published."""
    publish_tiny("1")
    publish_tiny("2", variant="b")
    publish_tiny("1")
    assert read_latest(models_dir / "tiny") == "1"


def test_a_different_model_under_an_existing_version_is_refused(publish_tiny: PublishTiny, models_dir: Path) -> None:
    """Versions are immutable: other content under the same version is an error and changes nothing."""
    path = publish_tiny("1", variant="a")
    before = (path / MODEL_FILE).read_bytes()
    with pytest.raises(PublishError, match="different model"):
        publish_tiny("1", variant="b")
    assert (path / MODEL_FILE).read_bytes() == before
    assert sorted(p.name for p in (models_dir / "tiny").iterdir()) == ["1", "LATEST"]


def test_a_corrupt_source_is_refused(tmp_path: Path, models_dir: Path) -> None:
    """A source whose model does not match its metadata's sha256 is never published."""
    source = tiny_model_dir(tmp_path / "source")
    (source / MODEL_FILE).write_bytes((source / MODEL_FILE).read_bytes()[:-1] + b"\0")
    with pytest.raises(PublishError, match="does not match"):
        publish_version(source, models_dir, "tiny")
    assert not (models_dir / "tiny" / "1").exists()


def test_a_source_without_metadata_is_refused(tmp_path: Path, models_dir: Path) -> None:
    """A folder lacking metadata.json is not a model version."""
    source = tiny_model_dir(tmp_path / "source")
    (source / METADATA_FILE).unlink()
    with pytest.raises(PublishError, match=r"lacks metadata\.json"):
        publish_version(source, models_dir, "tiny")


@pytest.mark.parametrize(("name", "version"), [("../etc", "1"), ("tiny", "../1"), ("a/b", "1"), ("tiny", ".tmp-1")])
def test_bad_names_and_versions_are_refused(tmp_path: Path, models_dir: Path, name: str, version: str) -> None:
    """Publishing applies the same naming rules as serving, so nothing lands outside the models folder."""
    source = tiny_model_dir(tmp_path / "source")
    with pytest.raises(BadRequest):
        publish_version(source, models_dir, name, version)
    assert not any(tmp_path.glob("**/LATEST"))


def test_a_failed_fill_leaves_nothing_behind(models_dir: Path) -> None:
    """If writing the files fails half way, the temporary folder is removed and no version appears."""

    def half_then_fail(stage: Path) -> None:
        (stage / MODEL_FILE).write_bytes(b"partial")
        raise OSError("connection reset")

    with pytest.raises(OSError, match="connection reset"):
        publish_files(models_dir, "tiny", "1", half_then_fail)
    assert not (models_dir / "tiny").exists()  # not even an empty model folder, which GET /models would list


def test_stale_temporary_folders_are_swept(publish_tiny: PublishTiny, models_dir: Path) -> None:
    """A temporary folder left by a publisher that died long ago is removed by the next publish; a fresh one is kept."""
    stale = models_dir / "tiny" / f"{TEMP_PREFIX}9-dead"
    fresh = models_dir / "tiny" / f"{TEMP_PREFIX}8-busy"
    stale.mkdir(parents=True)
    fresh.mkdir()
    old = time.time() - STALE_TEMP_SECONDS - 60
    os.utime(stale, (old, old))
    publish_tiny("1")
    assert not stale.exists()
    assert fresh.exists()


def test_extra_files_travel_with_the_model(tmp_path: Path, models_dir: Path) -> None:
    """Every plain file of the source folder is published; hidden files are not (the publish record is the
    publisher's own)."""
    source = tiny_model_dir(tmp_path / "source")
    (source / "README.txt").write_text("notes")
    (source / ".DS_Store").write_text("junk")
    path = publish_version(source, models_dir, "tiny")
    assert sorted(p.name for p in path.iterdir()) == [RECORD_FILE, "README.txt", METADATA_FILE, MODEL_FILE]
