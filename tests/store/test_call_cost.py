"""An append and a page cost the same file-system calls however many messages are stored, and stay within
the budget of format 2 (docs/STORAGE.md, "Costs"): counted in calls and bytes (never in time), with small
segments so that many segments are cheap to reach."""

from __future__ import annotations

import fcntl
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from inference.store.messages import MessageStore

CAPACITY = 150  # three sparse-index blocks to a segment
POST_BUDGET = 8
PAGE_BUDGET = 6
COUNTED = ("open", "close", "pread", "pwrite", "fsync", "fdatasync")


class CallCounter:
    """Wraps the os calls that reach the file system (and flock) to count what a call costs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: Counter[str] = Counter()
        self.bytes_read = 0
        for name in COUNTED:
            monkeypatch.setattr(os, name, self._counting(name, getattr(os, name)))
        monkeypatch.setattr(fcntl, "flock", self._counting("flock", fcntl.flock))

    def _counting(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            result = real(*args, **kwargs)
            if name == "pread":
                self.bytes_read += len(result)
            return result

        return call

    def cost_of(self, call: Callable[[], object]) -> tuple[dict[str, int], int]:
        self.calls.clear()
        self.bytes_read = 0
        call()
        return dict(self.calls), self.bytes_read


def _no_flushes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    monkeypatch.setattr(os, "fdatasync", lambda fd: None)


def _grow_to(store: MessageStore, total: int) -> None:
    # Texts of one width, so that pages match byte for byte at both sizes.
    for number in range(store.count(), total):
        store.append(f"message {number % 10_000:05d}")


def _costs(store: MessageStore, monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[dict[str, int], int]]:
    counter = CallCounter(monkeypatch)
    costs = {
        "newest page": counter.cost_of(lambda: store.page(50)),
        "old page": counter.cost_of(lambda: store.page(50, 500)),
        "page across a block": counter.cost_of(lambda: store.page(10, 520)),
        "count": counter.cost_of(store.count),
        "append": counter.cost_of(lambda: store.append("message 00000")),
    }
    monkeypatch.undo()
    return costs


def test_costs_do_not_grow_with_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages, count and append make the same calls and read the same bytes at 1,106 as at 5,006 messages."""
    _no_flushes(monkeypatch)  # durability is not under test: keep the fill fast
    store = MessageStore(tmp_path / "messages", segment_capacity=CAPACITY)
    _grow_to(store, 1_106)
    monkeypatch.undo()
    small = _costs(store, monkeypatch)
    _no_flushes(monkeypatch)
    _grow_to(store, 5_005)  # + the append below: 5,006, the same place in its segment as 1,106
    monkeypatch.undo()
    store.append("message 00000")  # the append measured at 1,106 came after a fill by this same process
    large = _costs(store, monkeypatch)
    assert large == small


def test_append_and_page_stay_within_the_call_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An append is at most 8 calls with 1 flush (fdatasync), also when another process wrote last; a page at most 6."""
    store = MessageStore(tmp_path / "messages", segment_capacity=CAPACITY)
    other = MessageStore(tmp_path / "messages")
    for number in range(300):
        (store if number % 2 else other).append(f"m{number}")
    store.append("both processes have seen the current segment")
    other.append("the other process writes last")
    counter = CallCounter(monkeypatch)
    append, _ = counter.cost_of(lambda: store.append("then this one"))
    page, _ = counter.cost_of(lambda: store.page(50))
    old_page, _ = counter.cost_of(lambda: store.page(50, 120))
    assert append.get("fsync", 0) + append.get("fdatasync", 0) == 1
    assert sum(append.values()) <= POST_BUDGET, append
    assert sum(page.values()) <= PAGE_BUDGET, page
    assert sum(old_page.values()) <= PAGE_BUDGET, old_page
