"""Atomic publishing: temporary folder, fsync, rename, then LATEST; the temporary folders of publishers that died
removed by the next publish, and never one a live publisher is writing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from inference.errors import BadRequest
from inference.models.integrity import RECORD_FILE
from inference.models.metadata import METADATA_FILE, MODEL_FILE
from inference.models.pointer import read_latest
from inference.models.publishing import (
    LOCK_SUFFIX,
    STALE_TEMP_SECONDS,
    TEMP_PREFIX,
    PublishError,
    publish_files,
    publish_version,
    remove_abandoned_stages,
    repoint,
)
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


# A publisher in a child process, as `efs-models publish` or the publisher function runs one: publish_files into
# argv[1] of model tiny, version argv[2], copying argv[3]'s files with copy_file; model.onnx comes from argv[4] (a
# named pipe, so the copy stops half way for as long as the test wants), or else the child waits for the file argv[5]
# to appear once its files are copied.
PUBLISHER = """
import sys, time
from pathlib import Path
from inference.models.publishing import copy_file, publish_files

models, version, source, pipe, go = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4], Path(sys.argv[5])

def fill(stage):
    copy_file(source / "metadata.json", stage / "metadata.json")
    copy_file(Path(pipe) if pipe else source / "model.onnx", stage / "model.onnx")
    (stage.parent / f"ready-{version}-{stage.name}").touch()
    deadline = time.monotonic() + 60
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.01)

publish_files(Path(models), "tiny", version, fill)
"""
REPO = Path(__file__).resolve().parents[2]


def _publisher(models_dir: Path, version: str, source: Path, pipe: Path | None, go: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-c", PUBLISHER, str(models_dir), version, str(source), str(pipe or ""), str(go)]
    return subprocess.Popen(argv, cwd=REPO, stderr=subprocess.PIPE)


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _temporary(name_dir: Path) -> list[str]:
    return sorted(entry.name for entry in name_dir.iterdir() if entry.name.startswith(TEMP_PREFIX))


@pytest.mark.parametrize("then", ["publish the same version", "roll back"])
def test_a_publisher_killed_mid_copy_leaves_nothing_after_the_next_publish(
    tmp_path: Path, models_dir: Path, then: str
) -> None:
    """SIGKILL a publisher half way through copying model.onnx: its partial copy (and its lock) stay, since nothing
    of it can run; the next publish of that model, of the same version, or a rollback, removes them at once."""
    source = tiny_model_dir(tmp_path / "source", version="2")
    if then == "roll back":
        publish_version(tiny_model_dir(tmp_path / "one", version="1"), models_dir, "tiny")
    pipe = tmp_path / "model-pipe"
    os.mkfifo(pipe)
    child = _publisher(models_dir, "2", source, pipe, tmp_path / "never")
    name_dir = models_dir / "tiny"
    with open(pipe, "wb") as writer:  # opens once the child, its stage made, starts copying
        writer.write(b"\0" * (2 << 20))
        writer.flush()
        _wait_for(
            lambda: any(path.stat().st_size >= 2 << 20 for path in name_dir.glob(f"{TEMP_PREFIX}*/model.onnx")),
            "the child's copy to reach 2 MB",
        )
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
    (stage,) = [name for name in _temporary(name_dir) if not name.endswith(LOCK_SUFFIX)]
    assert _temporary(name_dir) == [stage, stage + LOCK_SUFFIX]
    assert (name_dir / stage / "model.onnx").stat().st_size == 2 << 20  # the partial copy, left behind
    if then == "roll back":
        repoint(models_dir, "tiny", "1")
        assert read_latest(name_dir) == "1"
    else:
        publish_version(source, models_dir, "tiny")
        assert read_latest(name_dir) == "2"
    assert _temporary(name_dir) == []


def test_two_publishers_at_once_keep_each_others_temporary_folders(tmp_path: Path, models_dir: Path) -> None:
    """Two publishers of the same version at once, the first one's folder aged past STALE_TEMP_SECONDS (as a slow
    copy of a large model would be): the second's sweep, and another one meanwhile, remove neither live folder;
    both publishers succeed, the version lands once, and nothing temporary stays."""
    source = tiny_model_dir(tmp_path / "source")
    go = tmp_path / "go"
    name_dir = models_dir / "tiny"
    first = _publisher(models_dir, "1", source, None, go)
    _wait_for(lambda: len(list(name_dir.glob("ready-*"))) == 1, "the first publisher to copy its files")
    (first_stage,) = [name_dir / name for name in _temporary(name_dir) if not name.endswith(LOCK_SUFFIX)]
    old = time.time() - STALE_TEMP_SECONDS - 60
    os.utime(first_stage, (old, old))
    second = _publisher(models_dir, "1", source, None, go)
    _wait_for(lambda: len(list(name_dir.glob("ready-*"))) == 2, "the second publisher to copy its files")
    remove_abandoned_stages(name_dir)
    assert len(_temporary(name_dir)) == 4  # two folders, each with its lock
    assert (first_stage / "model.onnx").read_bytes() == (source / MODEL_FILE).read_bytes()
    for ready in name_dir.glob("ready-*"):
        ready.unlink()
    go.touch()
    for child in (first, second):
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err.decode()
    assert sorted(entry.name for entry in name_dir.iterdir()) == ["1", "LATEST"]
    assert read_latest(name_dir) == "1"
