"""One page costs the same however many messages are stored: counted in files opened and bytes
read (never in time), with tiny segments so that many segments are cheap to reach."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from inference.store.messages import MessageStore

CAPACITY = 16


class IoCounter:
    """Wraps os.open and os.pread to count what a call costs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opens = self.reads = self.bytes_read = 0
        real_open, real_pread = os.open, os.pread

        def counting_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            self.opens += 1
            return real_open(path, flags, *args, **kwargs)

        def counting_pread(fd: int, size: int, offset: int) -> bytes:
            data = real_pread(fd, size, offset)
            self.reads += 1
            self.bytes_read += len(data)
            return data

        monkeypatch.setattr(os, "open", counting_open)
        monkeypatch.setattr(os, "pread", counting_pread)

    def cost_of(self, call: Callable[[], object]) -> tuple[int, int, int]:
        self.opens = self.reads = self.bytes_read = 0
        call()
        return self.opens, self.reads, self.bytes_read


def _grow_to(store: MessageStore, total: int) -> None:
    # Texts of one width, and ids of one width (4 digits) at both sizes, so that pages match byte for byte.
    for number in range(store.count(), total):
        store.append(f"message {number % 10_000:05d}")


def test_page_cost_does_not_grow_with_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page opens the same files and reads the same bytes at 1,106 messages as at 5,010 (70 vs 314 segments)."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # durability is not under test: keep the fill fast
    store = MessageStore(tmp_path / "messages", segment_capacity=CAPACITY)
    _grow_to(store, 1_106)  # 69 full segments + 2 messages: the newest page spans two segments
    counter = IoCounter(monkeypatch)
    small = {
        "newest page": counter.cost_of(lambda: store.page(10)),
        "old page": counter.cost_of(lambda: store.page(10, 500)),
        "tail": counter.cost_of(lambda: store.tail(40)),
        "count": counter.cost_of(store.count),
    }
    monkeypatch.undo()
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    _grow_to(store, 5_010)
    counter = IoCounter(monkeypatch)
    large = {
        "newest page": counter.cost_of(lambda: store.page(10)),
        "old page": counter.cost_of(lambda: store.page(10, 500)),
        "tail": counter.cost_of(lambda: store.tail(40)),
        "count": counter.cost_of(store.count),
    }
    assert large == small
    # and in absolute terms: HEAD + the current index, then an index and a data file per segment touched
    opens, reads, _ = small["newest page"]
    assert (opens, reads) == (2 + 2 * 2, 2 + 2 * 2)
