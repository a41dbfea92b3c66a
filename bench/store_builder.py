"""Builds a message store of any size in seconds, for the scaling benchmarks: appending a million messages
one by one through ``MessageStore.append`` would take minutes even on tmpfs (an open, a lock, two writes and
an fsync each), so the segments are written whole, in format 2 exactly as the store itself writes it
(records, tails, seals and the sparse index from ``inference.store.messages``; layout in docs/STORAGE.md).

The result is then checked through the store's own reader (count, first and last page, checksums and ids),
and new appends go through the real ``append``."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from inference import slots
from inference.store.common import segment_dir
from inference.store.messages import (  # the store's own format definitions, so the two cannot drift apart
    BLOCK,
    DEFAULT_SEGMENT_CAPACITY,
    FORMAT,
    HEAD,
    HEADER,
    SPARSE,
    SPARSE_AT,
    TAIL_AT,
    Message,
    MessageStore,
    Tail,
    data_start,
    encode_record,
    meta_size,
)


def build_store(messages_dir: Path, count: int, capacity: int = DEFAULT_SEGMENT_CAPACITY) -> MessageStore:
    """A new store under ``messages_dir`` holding ``count`` messages ("benchmark message <id>")."""
    MessageStore(messages_dir, segment_capacity=capacity)  # HEAD and an empty segment 0
    root = Path(messages_dir) / f"v{FORMAT}"
    created_at = datetime.now(UTC)
    last_segment = max(0, (count - 1) // capacity)
    for segment in range(last_segment + 1):
        first = segment * capacity
        _write_segment(root, segment, first, min(capacity, count - first), capacity, created_at, segment < last_segment)
    fd = os.open(root / "HEAD", os.O_RDWR)
    try:
        slots.write_slot(fd, HEAD.pack(capacity, 0, last_segment, 0, 0, 0))
    finally:
        os.close(fd)
    store = MessageStore(messages_dir)
    _check(store, count)
    return store


def _write_segment(  # noqa: PLR0917 - one segment's whole description
    root: Path, segment: int, first_id: int, count: int, capacity: int, created_at: datetime, sealed: bool
) -> None:
    start = data_start(capacity)
    data, sparse = bytearray(), bytearray()
    block_start = last_block_start = last_start = start
    for slot in range(count):
        if slot % BLOCK == 0:
            block_start = start + len(data)
            if slot:
                sparse += SPARSE.pack(last_block_start)
            last_block_start = block_start
        last_start = start + len(data)
        data += encode_record(Message(first_id + slot, f"benchmark message {first_id + slot}", created_at))
    empty = b"\0" * slots.REGION_SIZE
    created_us = int(created_at.timestamp() * 1_000_000)
    header = slots.next_slot(empty, HEADER.pack(first_id, capacity, int(sealed), created_us))[1]
    last_crc = int.from_bytes(data[last_start - start + 16 : last_start - start + 20], "little") if count else 0
    tail = slots.next_slot(empty, Tail(count, start + len(data), last_start, block_start, last_crc).pack())[1]
    meta = bytearray(meta_size(capacity))
    meta[0 : slots.SLOT_SIZE] = header
    meta[TAIL_AT : TAIL_AT + slots.SLOT_SIZE] = tail
    meta[SPARSE_AT : SPARSE_AT + len(sparse)] = sparse
    directory = segment_dir(root, segment)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{segment:09d}.log").write_bytes(bytes(meta).ljust(start, b"\0") + data)


def _check(store: MessageStore, count: int) -> None:
    """Read back through the store: it verifies every frame, checksum and id it reads."""
    if store.count() != count:
        raise AssertionError(f"built {store.count()} messages, wanted {count}")
    if count:
        newest, _ = store.page(50)
        oldest, _ = store.page(50, min(50, count))
        if newest[0].id != count - 1 or oldest[-1].id != 0:
            raise AssertionError("the built store does not read back in id order")
