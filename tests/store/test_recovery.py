"""What a killed writer can leave behind (torn slots, bytes past the committed end, a half-made
segment) is ignored by readers and cleaned up by the next writer; real damage is reported."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inference import slots
from inference.errors import StorageUnavailable
from inference.store.messages import MessageStore
from tests.store.helpers import SLOT_SIZE, audit, newest_slot, segment_paths


def _flip_byte(path: Path, position: int) -> None:
    data = bytearray(path.read_bytes())
    data[position] ^= 0xFF
    path.write_bytes(bytes(data))


def _newest_slot_index(path: Path) -> int:
    newest = newest_slot(path.read_bytes()[: 2 * SLOT_SIZE])
    assert newest is not None
    return newest[0]


def test_torn_segment_header_falls_back_to_the_previous_commit(tmp_path: Path) -> None:
    """A torn newest header slot un-commits only the last append; the next append takes its id."""
    messages_dir = tmp_path / "messages"
    store = MessageStore(messages_dir)
    for number in range(3):
        store.append(f"m{number}")
    idx_path, _ = segment_paths(messages_dir, 0)
    _flip_byte(idx_path, _newest_slot_index(idx_path) * SLOT_SIZE + 30)

    assert store.count() == 2
    assert [message.text for message in store.tail(10)] == ["m0", "m1"]
    assert store.append("replacement").id == 2
    assert [record.text for record in audit(messages_dir)] == ["m0", "m1", "replacement"]


def test_torn_head_after_a_killed_roll_over(tmp_path: Path) -> None:
    """A roll-over killed while writing HEAD leaves the full segment current; the next append redoes it."""
    messages_dir = tmp_path / "messages"
    store = MessageStore(messages_dir, segment_capacity=2)
    store.append("a")
    store.append("b")
    # GIVEN the leftovers of a roll-over killed midway: a half-made segment 1 and a torn HEAD slot
    idx_path, dat_path = segment_paths(messages_dir, 1)
    idx_path.write_bytes(os.urandom(700))
    dat_path.write_bytes(os.urandom(300))
    head = messages_dir / "v1" / "HEAD"
    unused = 1 - _newest_slot_index(head)
    with head.open("r+b") as file:
        file.seek(unused * SLOT_SIZE)
        file.write(os.urandom(SLOT_SIZE // 2))
    # THEN readers still see two messages, and the next append starts segment 1 afresh
    assert store.count() == 2
    assert store.append("c").id == 2
    assert [record.text for record in audit(messages_dir)] == ["a", "b", "c"]
    assert store.status()["segment"] == 1


def test_a_half_made_segment_with_a_valid_header_is_reset(tmp_path: Path) -> None:
    """A next segment that a killed roll-over had already initialised (and even written to) is emptied."""
    messages_dir = tmp_path / "messages"
    store = MessageStore(messages_dir, segment_capacity=1)
    store.append("a")
    idx_path, dat_path = segment_paths(messages_dir, 1)
    idx_path.parent.mkdir(parents=True, exist_ok=True)
    dat_path.write_bytes(b"junk" * 50)
    fd = os.open(idx_path, os.O_RDWR | os.O_CREAT)
    try:
        slots.write_slot(fd, (5).to_bytes(8, "little") + (200).to_bytes(8, "little"))  # count 5, HEAD never saw it
    finally:
        os.close(fd)
    assert store.count() == 1
    assert store.append("b").id == 1
    assert store.count() == 2
    assert [record.text for record in audit(messages_dir)] == ["a", "b"]


def test_bytes_past_the_committed_end_are_ignored_then_overwritten(tmp_path: Path) -> None:
    """Garbage after the committed data and index entries is invisible and the next append overwrites it."""
    messages_dir = tmp_path / "messages"
    store = MessageStore(messages_dir)
    for number in range(3):
        store.append(f"m{number}")
    idx_path, dat_path = segment_paths(messages_dir, 0)
    with dat_path.open("ab") as file:
        file.write(b"MSG1" + os.urandom(5000))
    with idx_path.open("ab") as file:
        file.write(os.urandom(64))

    assert store.count() == 3
    assert [message.text for message in store.page(10)[0]] == ["m2", "m1", "m0"]
    store.append("short")
    store.append("another")
    assert [record.text for record in audit(messages_dir)] == ["m0", "m1", "m2", "short", "another"]


def test_a_damaged_committed_record_is_reported_not_skipped(tmp_path: Path) -> None:
    """A committed record whose checksum fails raises StorageUnavailable storage_corrupt on read."""
    messages_dir = tmp_path / "messages"
    store = MessageStore(messages_dir)
    store.append("intact")
    store.append("will be damaged")
    _, dat_path = segment_paths(messages_dir, 0)
    _flip_byte(dat_path, dat_path.stat().st_size - 5)

    with pytest.raises(StorageUnavailable) as raised:
        store.page(10)
    assert raised.value.code == "storage_corrupt"
    assert [message.text for message in store.page(1, 1)[0]] == ["intact"]
    assert store.count() == 2


def test_missing_head_slots_are_reported(tmp_path: Path) -> None:
    """If both HEAD slots are destroyed, reads fail with storage_corrupt and status says not ok."""
    messages_dir = tmp_path / "messages"
    store = MessageStore(messages_dir)
    (messages_dir / "v1" / "HEAD").write_bytes(b"\0" * 2 * SLOT_SIZE)
    with pytest.raises(StorageUnavailable) as raised:
        store.count()
    assert raised.value.code == "storage_corrupt"
    status = store.status()
    assert status["ok"] is False
    assert status["code"] == "storage_corrupt"


def test_a_damaged_head_is_never_mistaken_for_a_new_store(tmp_path: Path) -> None:
    """Opening a store whose HEAD slots are destroyed refuses (storage_corrupt) instead of starting afresh."""
    messages_dir = tmp_path / "messages"
    MessageStore(messages_dir).append("precious")
    (messages_dir / "v1" / "HEAD").write_bytes(os.urandom(2 * SLOT_SIZE))
    with pytest.raises(StorageUnavailable) as raised:
        MessageStore(messages_dir)
    assert raised.value.code == "storage_corrupt"
    idx_path, _ = segment_paths(messages_dir, 0)
    newest = newest_slot(idx_path.read_bytes()[: 2 * SLOT_SIZE])
    assert newest is not None and newest[1][:8] == (1).to_bytes(8, "little")  # the message is still committed


def test_a_head_torn_while_creating_the_store_is_finished_later(tmp_path: Path) -> None:
    """A store whose creation was killed before HEAD got a valid slot is completed by the next opener."""
    messages_dir = tmp_path / "messages"
    MessageStore(messages_dir)
    (messages_dir / "v1" / "HEAD").write_bytes(os.urandom(100))
    store = MessageStore(messages_dir)
    assert store.append("first").id == 0
    assert [record.text for record in audit(messages_dir)] == ["first"]
