"""The two-slot checksummed record: newest valid slot wins, torn writes are ignored."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from inference import slots
from testing.store_helpers import os_failure


@pytest.fixture
def record_fd(tmp_path: Path) -> Iterator[int]:
    fd = os.open(tmp_path / "record", os.O_RDWR | os.O_CREAT)
    yield fd
    os.close(fd)


def test_empty_or_missing_file_has_no_record(tmp_path: Path, record_fd: int) -> None:
    """A new empty file and a missing file both read as None."""
    assert slots.read_slots_fd(record_fd) is None
    assert slots.read_slots(tmp_path / "record") is None
    assert slots.read_slots(tmp_path / "missing") is None


def test_each_write_replaces_the_record_and_alternates_slots(tmp_path: Path, record_fd: int) -> None:
    """Writes alternate between the two slots and the latest payload is read back."""
    for number in range(5):
        slots.write_slot(record_fd, f"v{number}".encode())
        assert slots.read_slots(tmp_path / "record") == f"v{number}".encode()
    region = os.pread(record_fd, slots.REGION_SIZE, 0)
    assert b"v4" in region[: slots.SLOT_SIZE]  # writes 0, 2, 4 went to slot 0
    assert b"v3" in region[slots.SLOT_SIZE :]


def test_a_torn_newest_slot_leaves_the_previous_record(record_fd: int) -> None:
    """Damaging any byte of the newest slot makes readers fall back to the older one."""
    slots.write_slot(record_fd, b"old")
    slots.write_slot(record_fd, b"new")  # slot 1
    for position in (slots.SLOT_SIZE, slots.SLOT_SIZE + 20, slots.REGION_SIZE - 1):
        original = os.pread(record_fd, 1, position)
        os.pwrite(record_fd, bytes([original[0] ^ 0xFF]), position)
        assert slots.read_slots_fd(record_fd) == b"old"
        os.pwrite(record_fd, original, position)
    assert slots.read_slots_fd(record_fd) == b"new"


def test_a_write_after_a_torn_slot_overwrites_it(record_fd: int) -> None:
    """The next write goes into the torn slot, never over the record still in force."""
    slots.write_slot(record_fd, b"first")
    os.pwrite(record_fd, b"\xff" * 10, slots.SLOT_SIZE + 3)  # garbage in the unused slot
    slots.write_slot(record_fd, b"second")
    assert slots.read_slots_fd(record_fd) == b"second"


def test_regions_at_an_offset_are_independent(record_fd: int) -> None:
    """A region at a non-zero offset does not disturb one at offset 0."""
    slots.write_slot(record_fd, b"zero")
    slots.write_slot(record_fd, b"far", offset=4096)
    assert slots.read_slots_fd(record_fd) == b"zero"
    assert slots.read_slots_fd(record_fd, 4096) == b"far"


def test_oversized_payload_is_refused(record_fd: int) -> None:
    """A payload that does not fit a slot raises ValueError and writes nothing."""
    with pytest.raises(ValueError, match="at most"):
        slots.write_slot(record_fd, b"x" * (slots.MAX_PAYLOAD + 1))
    assert os.fstat(record_fd).st_size == 0
    slots.write_slot(record_fd, b"x" * slots.MAX_PAYLOAD)
    assert slots.read_slots_fd(record_fd) == b"x" * slots.MAX_PAYLOAD


@pytest.mark.parametrize("failing_call", ["pwrite", "fsync"])
def test_a_failed_write_keeps_the_previous_record(record_fd: int, failing_call: str) -> None:
    """If the slot write or its fsync fails, the error is raised and the previous record stays."""
    slots.write_slot(record_fd, b"kept")
    with os_failure(failing_call, errno.ENOSPC) as failed, pytest.raises(OSError):
        slots.write_slot(record_fd, b"lost")
    assert failed == [1]
    assert slots.read_slots_fd(record_fd) == b"kept"
    slots.write_slot(record_fd, b"later")
    assert slots.read_slots_fd(record_fd) == b"later"


def test_short_writes_are_completed(record_fd: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """pwrite_all finishes a write that the OS accepts a few bytes at a time."""
    real_pwrite = os.pwrite
    monkeypatch.setattr(os, "pwrite", lambda fd, data, offset: real_pwrite(fd, bytes(data[:3]), offset))
    slots.pwrite_all(record_fd, b"0123456789", 5)
    assert os.pread(record_fd, 10, 5) == b"0123456789"
