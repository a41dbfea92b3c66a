"""LATEST: updated in place, and a torn write leaves the previous version in force."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.models.pointer import LATEST_FILE, read_latest, write_latest
from inference.slots import SLOT_SIZE


def test_missing_latest_reads_as_none(tmp_path: Path) -> None:
    """No LATEST file means no pointer."""
    assert read_latest(tmp_path) is None


def test_latest_is_updated_in_place(tmp_path: Path) -> None:
    """Each write is read back, and the file keeps its inode (never replaced by a rename)."""
    write_latest(tmp_path, "1")
    inode = (tmp_path / LATEST_FILE).stat().st_ino
    for version in ["2", "10", "v3.1"]:
        write_latest(tmp_path, version)
        assert read_latest(tmp_path) == version
    assert (tmp_path / LATEST_FILE).stat().st_ino == inode


def test_torn_write_keeps_the_previous_version(tmp_path: Path) -> None:
    """A torn newest slot falls back to the previous version; a torn older slot changes nothing."""
    write_latest(tmp_path, "1")
    write_latest(tmp_path, "2")
    path = tmp_path / LATEST_FILE
    intact = path.read_bytes()
    seen: list[str | None] = []
    for slot in (0, 1):
        torn = bytearray(intact)
        torn[slot * SLOT_SIZE + 20] ^= 0xFF
        path.write_bytes(bytes(torn))
        seen.append(read_latest(tmp_path))
    assert set(seen) == {"1", "2"}


def test_garbage_latest_reads_as_none(tmp_path: Path) -> None:
    """A LATEST that holds no valid record is ignored rather than trusted."""
    (tmp_path / LATEST_FILE).write_bytes(b"../../etc\n")
    assert read_latest(tmp_path) is None


def test_rewriting_the_same_version_changes_nothing(tmp_path: Path) -> None:
    """Pointing LATEST at the version it already names leaves the file's bytes alone."""
    write_latest(tmp_path, "1")
    before = (tmp_path / LATEST_FILE).read_bytes()
    write_latest(tmp_path, "1")
    assert (tmp_path / LATEST_FILE).read_bytes() == before


def test_invalid_version_is_not_written(tmp_path: Path) -> None:
    """A version that breaks the naming rule never reaches the file."""
    with pytest.raises(ValueError, match="invalid version"):
        write_latest(tmp_path, "../x")
    assert not (tmp_path / LATEST_FILE).exists()
