"""Format 1 (``messages/v1/``), read in place under format 2: frozen once, then never written again.

Format 2 takes over a volume that holds a format-1 store without copying it: ``freeze`` stops format-1
writers for good (old Lambda instances may still run during a deploy) and reports how many messages
format 1 holds; format 2 numbers its own messages from there, and ``Format1Segments`` reads the frozen
ones. Layout and reasoning: docs/STORAGE.md, "Format 1" and "Taking over a format-1 store"."""

from __future__ import annotations

import fcntl
import json
import os
import struct
import zlib
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from inference import slots
from inference.store.common import (
    Message,
    corrupt,
    open_in,
    pread_exact,
    segment_dir,
)

HEAD = struct.Struct("<QI")  # current segment, segment capacity
SEGMENT_HEADER = struct.Struct("<QQ")  # committed message count, committed data end
ENTRY = struct.Struct("<QII")  # record offset in .dat, payload length, payload crc32
RECORD = struct.Struct("<4sII")  # magic, payload length, payload crc32
RECORD_MAGIC = b"MSG1"
ENTRIES_AT = slots.REGION_SIZE
# Set in v1/HEAD's segment number by ``freeze``. A format-1 writer then looks for a segment that does not
# exist and answers 503; format 2 clears the bit to find the real last segment.
FROZEN = 1 << 62


@dataclass(frozen=True)
class Frozen:
    """What a frozen format-1 store holds: ids 0 .. count - 1, ``capacity`` to a segment."""

    count: int
    capacity: int


def freeze(messages_dir: Path) -> Frozen:
    """Stop format-1 writers for good and return what format 1 holds (count 0 if there is no format-1 store).

    Idempotent, so an upgrade killed at any point is simply run again: the freeze is one slot write to
    v1/HEAD made under format 1's own lock, after which format 1 never changes."""
    root = Path(messages_dir) / "v1"
    head_path = root / "HEAD"
    payload = slots.read_slots(head_path)
    if payload is None:
        if slots.read_slots(_paths(root, 0)[0]) not in (None, SEGMENT_HEADER.pack(0, 0)):
            raise corrupt(head_path, "has no valid slot but format-1 messages exist")
        return Frozen(0, 0)
    segment, capacity = HEAD.unpack(payload)
    if not segment & FROZEN:
        with ExitStack() as files:
            lock_fd = open_in(files, root / "LOCK", os.O_RDWR | os.O_CREAT)
            fcntl.flock(lock_fd, fcntl.LOCK_EX)  # waits for a format-1 append in flight to finish
            head_fd = open_in(files, head_path, os.O_RDWR)
            segment, capacity = HEAD.unpack(_required(slots.read_slots_fd(head_fd), head_path))
            if not segment & FROZEN:
                slots.write_slot(head_fd, HEAD.pack(segment | FROZEN, capacity))
    segment &= ~FROZEN
    idx_path = _paths(root, segment)[0]
    count, _ = SEGMENT_HEADER.unpack(_required(slots.read_slots(idx_path), idx_path))
    return Frozen(segment * capacity + count, capacity)


class Format1Segments:
    """Reads the messages of a frozen format-1 store, one segment's range at a time."""

    def __init__(self, messages_dir: Path, frozen: Frozen) -> None:
        self.root = Path(messages_dir) / "v1"
        self.frozen = frozen

    def segment_of(self, message_id: int) -> int:
        return message_id // self.frozen.capacity

    def segment_ids(self, segment: int) -> range:
        first = segment * self.frozen.capacity
        return range(first, min(first + self.frozen.capacity, self.frozen.count))

    def paths(self, segment: int) -> tuple[Path, Path]:
        return _paths(self.root, segment)

    def read(self, first_id: int, stop_id: int) -> list[Message]:
        """Messages ``first_id .. stop_id - 1`` (one segment), oldest first: an open, a pread and a close of
        the segment's index and of its data. Raises FileNotFoundError if retention dropped the segment."""
        segment = self.segment_of(first_id)
        slot = first_id - segment * self.frozen.capacity
        idx_path, dat_path = self.paths(segment)
        with ExitStack() as files:
            idx_fd, dat_fd = open_in(files, idx_path, os.O_RDONLY), open_in(files, dat_path, os.O_RDONLY)
            raw = pread_exact(idx_fd, (stop_id - first_id) * ENTRY.size, ENTRIES_AT + slot * ENTRY.size, idx_path)
            entries = list(ENTRY.iter_unpack(raw))
            start = entries[0][0]
            end = entries[-1][0] + RECORD.size + entries[-1][1]
            if end < start:
                raise corrupt(idx_path, "index entries out of order")
            data = pread_exact(dat_fd, end - start, start, dat_path)
        return [_decode(data, start, entry, first_id + i, dat_path) for i, entry in enumerate(entries)]


def _paths(root: Path, segment: int) -> tuple[Path, Path]:
    directory = segment_dir(root, segment)
    return directory / f"{segment:09d}.idx", directory / f"{segment:09d}.dat"


def _required(payload: bytes | None, path: Path) -> bytes:
    if payload is None:
        raise corrupt(path, "no valid header slot")
    return payload


def _decode(data: bytes, data_start: int, entry: tuple[int, int, int], expected_id: int, path: Path) -> Message:
    offset, length, crc = entry
    at = offset - data_start
    if at < 0 or at + RECORD.size + length > len(data):
        raise corrupt(path, f"record {expected_id} lies outside the committed data")
    magic, stored_length, stored_crc = RECORD.unpack_from(data, at)
    payload = data[at + RECORD.size : at + RECORD.size + length]
    if magic != RECORD_MAGIC or (stored_length, stored_crc) != (length, crc) or zlib.crc32(payload) != crc:
        raise corrupt(path, f"record {expected_id} fails its checksum")
    fields = json.loads(payload)
    if fields.get("id") != expected_id:
        raise corrupt(path, f"record {expected_id} holds id {fields.get('id')}")
    return Message(expected_id, fields["text"], datetime.fromisoformat(fields["created_at"]))
