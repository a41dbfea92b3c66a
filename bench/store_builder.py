"""Builds a message store of any size in seconds, for the scaling benchmark: appending a million messages
one by one through ``MessageStore.append`` would take minutes even on tmpfs (4 opens, a lock and 3 fsyncs
each), so the segments are written whole, in format 1 exactly as the store itself writes it (record
framing and slot records from ``inference.store.messages`` / ``inference.slots``; layout in docs/STORAGE.md).

The result is then checked through the store's own reader (count, first and last page, checksums and ids),
and new appends go through the real ``append``."""

from __future__ import annotations

import json
import os
import zlib
from datetime import UTC, datetime
from pathlib import Path

from inference import slots
from inference.store.messages import (  # the store's own format definitions, so the two cannot drift apart
    _ENTRIES_AT,
    _ENTRY,
    _HEAD,
    _RECORD,
    _RECORD_MAGIC,
    _SEGMENT_HEADER,
    DEFAULT_SEGMENT_CAPACITY,
    FORMAT,
    SEGMENTS_PER_DIR,
    Message,
    MessageStore,
)


def build_store(messages_dir: Path, count: int, capacity: int = DEFAULT_SEGMENT_CAPACITY) -> MessageStore:
    """A new store under ``messages_dir`` holding ``count`` messages ("benchmark message <id>")."""
    store = MessageStore(messages_dir, segment_capacity=capacity)  # HEAD, LOCK and an empty segment 0
    if store.count():
        raise ValueError(f"{messages_dir} already holds messages")
    root = Path(messages_dir) / f"v{FORMAT}"
    created_at = Message(0, "", datetime.now(UTC)).to_dict()["created_at"]
    last_segment = max(0, (count - 1) // capacity)
    for segment in range(last_segment + 1):
        first = segment * capacity
        _write_segment(root, segment, first, min(capacity, count - first), created_at)
    fd = os.open(root / "HEAD", os.O_RDWR)
    try:
        slots.write_slot(fd, _HEAD.pack(last_segment, capacity))
    finally:
        os.close(fd)
    _check(store, count)
    return store


def _write_segment(root: Path, segment: int, first_id: int, count: int, created_at: str) -> None:
    data, entries = bytearray(), bytearray()
    for message_id in range(first_id, first_id + count):
        fields = {"id": message_id, "text": f"benchmark message {message_id}", "created_at": created_at}
        payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        crc = zlib.crc32(payload)
        entries += _ENTRY.pack(len(data), len(payload), crc)
        data += _RECORD.pack(_RECORD_MAGIC, len(payload), crc) + payload
    directory = root / "seg" / f"{segment // SEGMENTS_PER_DIR:06d}"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{segment:09d}.dat").write_bytes(data)
    idx_path = directory / f"{segment:09d}.idx"
    idx_path.write_bytes(bytes(_ENTRIES_AT) + entries)
    fd = os.open(idx_path, os.O_RDWR)
    try:
        slots.write_slot(fd, _SEGMENT_HEADER.pack(count, len(data)))
    finally:
        os.close(fd)


def _check(store: MessageStore, count: int) -> None:
    """Read back through the store: it verifies every frame, checksum and id it reads."""
    if store.count() != count:
        raise AssertionError(f"built {store.count()} messages, wanted {count}")
    if count:
        newest, _ = store.page(50)
        oldest, _ = store.page(50, min(50, count))
        if newest[0].id != count - 1 or oldest[-1].id != 0:
            raise AssertionError("the built store does not read back in id order")
