"""What a killed writer can leave behind (a torn tail slot, a tail whose record is not all there, bytes past
the committed end, a half-made or unsealed segment, a lost index entry) is ignored by readers and cleaned up
by the next writer; real damage is reported."""

from __future__ import annotations

import os
import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inference import slots
from inference.errors import StorageUnavailable
from inference.store.messages import BLOCK, SPARSE_AT, TAIL_AT, Message, MessageStore, encode_record
from testing.store_helpers import SLOT_SIZE, audit, log_path, newest_slot


def _flip_byte(path: Path, position: int) -> None:
    data = bytearray(path.read_bytes())
    data[position] ^= 0xFF
    path.write_bytes(bytes(data))


def _newest_tail(path: Path) -> tuple[int, tuple[int, int, int, int]]:
    """(slot index, (count, end, last start, block start)) of a segment's newest tail slot."""
    newest = newest_slot(path.read_bytes()[TAIL_AT:SPARSE_AT])
    assert newest is not None
    count, end, last_start, block_start, _crc = struct.unpack("<IQQQI", newest[1])
    return newest[0], (count, end, last_start, block_start)


def test_torn_tail_slot_falls_back_to_the_previous_commit(tmp_path: Path) -> None:
    """A torn newest tail slot un-commits only the last append; the next append takes its id."""
    messages_dir = tmp_path / "messages"
    store = MessageStore(messages_dir)
    for number in range(3):
        store.append(f"m{number}")
    path = log_path(messages_dir, 0)
    slot, _ = _newest_tail(path)
    _flip_byte(path, TAIL_AT + slot * SLOT_SIZE + 30)

    fresh = MessageStore(messages_dir)  # another process: it did not write that tail itself
    assert fresh.count() == 2
    assert [message.text for message in fresh.tail(10)] == ["m0", "m1"]
    assert fresh.append("replacement").id == 2
    assert [record.text for record in audit(messages_dir)] == ["m0", "m1", "replacement"]


def test_a_tail_whose_record_is_not_all_there_is_not_committed(tmp_path: Path) -> None:
    """A writer's host lost in its fsync can leave the new tail on the server without all of its record:
    readers see the previous commit, and the next append overwrites the torn record with its own."""
    messages_dir = tmp_path / "messages"
    store = MessageStore(messages_dir)
    for number in range(3):
        store.append(f"m{number}")
    path = log_path(messages_dir, 0)
    _, (_, end, last_start, _) = _newest_tail(path)
    with path.open("r+b") as file:  # GIVEN the last record's second half never reached the disk
        file.seek((last_start + end) // 2)
        file.write(b"\0" * (end - (last_start + end) // 2))

    fresh = MessageStore(messages_dir)
    assert fresh.count() == 2
    assert [message.text for message in fresh.page(10)[0]] == ["m1", "m0"]
    assert fresh.append("after").id == 2
    assert [record.text for record in audit(messages_dir)] == ["m0", "m1", "after"]


def test_a_roll_over_killed_before_the_seal_is_redone(tmp_path: Path) -> None:
    """A roll-over killed before sealing the full segment leaves a half-made next one that nothing names:
    readers ignore it and the next append starts it afresh."""
    messages_dir = tmp_path / "messages"
    store = MessageStore(messages_dir, segment_capacity=2)
    store.append("a")
    store.append("b")
    orphan = log_path(messages_dir, 1)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(os.urandom(5000))
    fresh = MessageStore(messages_dir)
    assert fresh.count() == 2
    assert fresh.append("c").id == 2
    assert [record.text for record in audit(messages_dir)] == ["a", "b", "c"]
    assert fresh.status()["segment"] == 1


def test_a_lost_seal_never_hides_the_next_segments_messages(tmp_path: Path) -> None:
    """If a seal vanished after the next segment took messages (its fsync and undo both failed, then the host
    lost power), the next roll-over keeps those messages and seals again."""
    messages_dir = tmp_path / "messages"
    store = MessageStore(messages_dir, segment_capacity=2)
    for text in ("a", "b", "c"):
        store.append(text)
    # GIVEN segment 0's seal is lost (its header slot back to the unsealed one)
    path = log_path(messages_dir, 0)
    data = bytearray(path.read_bytes())
    newest = newest_slot(bytes(data[: 2 * SLOT_SIZE]))
    assert newest is not None
    data[newest[0] * SLOT_SIZE : (newest[0] + 1) * SLOT_SIZE] = b"\0" * SLOT_SIZE
    path.write_bytes(bytes(data))
    head_fd = os.open(messages_dir / "v2" / "HEAD", os.O_RDWR)  # and HEAD's hint never moved on (it comes after)
    try:
        slots.write_slot(head_fd, struct.pack("<IQQQQI", 2, 0, 0, 0, 0, 0))
    finally:
        os.close(head_fd)
    # THEN a new process finds segment 0 full, keeps segment 1 with "c", and goes on after it
    fresh = MessageStore(messages_dir)
    assert fresh.append("d").id == 3
    assert [record.text for record in audit(messages_dir)] == ["a", "b", "c", "d"]


def test_bytes_past_the_committed_end_are_ignored_then_overwritten(tmp_path: Path) -> None:
    """Garbage after the committed data is invisible and the next append overwrites it."""
    messages_dir = tmp_path / "messages"
    store = MessageStore(messages_dir)
    for number in range(3):
        store.append(f"m{number}")
    with log_path(messages_dir, 0).open("ab") as file:
        file.write(b"MSG2" + os.urandom(5000))

    assert store.count() == 3
    assert [message.text for message in store.page(10)[0]] == ["m2", "m1", "m0"]
    store.append("short")
    store.append("another")
    assert [record.text for record in audit(messages_dir)] == ["m0", "m1", "m2", "short", "another"]


def test_a_lost_index_entry_costs_a_longer_read_not_a_wrong_answer(tmp_path: Path) -> None:
    """A sparse-index entry that never reached the disk is detected; pages read from an earlier block instead."""
    messages_dir = tmp_path / "messages"
    store = MessageStore(messages_dir)
    for number in range(3 * BLOCK + 5):
        store.append(f"m{number}")
    path = log_path(messages_dir, 0)
    with path.open("r+b") as file:  # the entries of blocks 1 and 2 (block 0 starts at a fixed offset)
        file.seek(SPARSE_AT + 8)
        file.write(os.urandom(16))
    fresh = MessageStore(messages_dir)
    items, _ = fresh.page(10, 2 * BLOCK + 3)
    assert [message.text for message in items] == [f"m{n}" for n in range(2 * BLOCK + 2, 2 * BLOCK - 8, -1)]


def test_a_damaged_committed_record_is_reported_not_skipped(tmp_path: Path) -> None:
    """A committed record (not the newest) whose checksum fails raises StorageUnavailable storage_corrupt."""
    messages_dir = tmp_path / "messages"
    store = MessageStore(messages_dir)
    store.append("intact")
    store.append("will be damaged")
    store.append("newest")
    _, (_, _, last_start, _) = _newest_tail(log_path(messages_dir, 0))
    _flip_byte(log_path(messages_dir, 0), last_start - 3)

    with pytest.raises(StorageUnavailable) as raised:
        store.page(10)
    assert raised.value.code == "storage_corrupt"
    assert [message.text for message in store.page(1, 1)[0]] == ["intact"]
    assert store.count() == 3


def test_a_damaged_head_is_never_mistaken_for_a_new_store(tmp_path: Path) -> None:
    """Opening a store whose HEAD slots are destroyed refuses (storage_corrupt) instead of starting afresh."""
    messages_dir = tmp_path / "messages"
    MessageStore(messages_dir).append("precious")
    (messages_dir / "v2" / "HEAD").write_bytes(os.urandom(2 * SLOT_SIZE))
    with pytest.raises(StorageUnavailable) as raised:
        MessageStore(messages_dir)
    assert raised.value.code == "storage_corrupt"
    _, (count, _, _, _) = _newest_tail(log_path(messages_dir, 0))
    assert count == 1  # the message is still committed


def test_a_head_torn_while_creating_the_store_is_finished_later(tmp_path: Path) -> None:
    """A store whose creation was killed before HEAD got a valid slot is completed by the next opener."""
    messages_dir = tmp_path / "messages"
    MessageStore(messages_dir)
    (messages_dir / "v2" / "HEAD").write_bytes(os.urandom(100))
    store = MessageStore(messages_dir)
    assert store.append("first").id == 0
    assert [record.text for record in audit(messages_dir)] == ["first"]


def test_a_torn_header_is_reported(tmp_path: Path) -> None:
    """A segment whose header slots are both destroyed makes reads fail storage_corrupt and status say not ok."""
    messages_dir = tmp_path / "messages"
    store = MessageStore(messages_dir)
    store.append("x")
    fd = os.open(log_path(messages_dir, 0), os.O_RDWR)
    try:
        os.pwrite(fd, b"\0" * slots.REGION_SIZE, 0)
    finally:
        os.close(fd)
    with pytest.raises(StorageUnavailable) as raised:
        store.count()
    assert raised.value.code == "storage_corrupt"
    status = store.status()
    assert status["ok"] is False
    assert status["code"] == "storage_corrupt"


def _tear_last_record(path: Path) -> tuple[int, int]:
    """Zero the second half of the newest tail's record (its host died in the fsync); returns (slot, start)."""
    slot, (_, end, last_start, _) = _newest_tail(path)
    with path.open("r+b") as file:
        file.seek((last_start + end) // 2)
        file.write(b"\0" * (end - (last_start + end) // 2))
    return slot, last_start


def test_after_a_fallback_the_committed_tail_is_never_overwritten(tmp_path: Path) -> None:
    """The append after a void tail writes over that void tail's slot, keeping the committed one as the fallback."""
    messages_dir = tmp_path / "messages"
    MessageStore(messages_dir).append("m0")
    MessageStore(messages_dir).append("m1")  # the tail that will be void, in the other slot
    path = log_path(messages_dir, 0)
    void_slot, _ = _tear_last_record(path)
    committed = path.read_bytes()[TAIL_AT + (1 - void_slot) * SLOT_SIZE : TAIL_AT + (2 - void_slot) * SLOT_SIZE]
    assert MessageStore(messages_dir).append("m1 again").id == 1
    after = path.read_bytes()
    assert after[TAIL_AT + (1 - void_slot) * SLOT_SIZE : TAIL_AT + (2 - void_slot) * SLOT_SIZE] == committed
    assert _newest_tail(path)[0] == void_slot
    assert [record.text for record in audit(messages_dir)] == ["m0", "m1 again"]


def test_another_record_in_the_void_tails_place_is_not_mistaken_for_it(tmp_path: Path) -> None:
    """While a writer that fell back has written its record (same id, same place) but not yet its tail, readers
    do not take the void tail as committed: the record is not the one that tail names."""
    messages_dir = tmp_path / "messages"
    store = MessageStore(messages_dir)
    store.append("m0")
    store.append("m1")
    path = log_path(messages_dir, 0)
    _, last_start = _tear_last_record(path)
    other = encode_record(Message(1, "m1", datetime(2030, 1, 1, tzinfo=UTC)))  # same id and text, another time
    with path.open("r+b") as file:
        file.seek(last_start)
        file.write(other)
    fresh = MessageStore(messages_dir)
    assert fresh.count() == 1
    assert [message.text for message in fresh.page(10)[0]] == ["m0"]
