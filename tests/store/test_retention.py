"""Retention drops whole segments whose newest message is older than the cutoff, in both formats, never the
current one: ids and the count stay as they were, a cursor into dropped messages is a 410 cursor_expired, and
listings show what remains."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inference.errors import Gone
from inference.store.messages import MessageStore
from testing import format1_store
from testing.store_helpers import audit, log_path, read_head2, segment_paths

START = datetime(2026, 1, 1, tzinfo=UTC)


def _fill(store: MessageStore, n: int, first_minute: int = 0) -> None:
    for minute in range(first_minute, first_minute + n):
        store.append(f"m{minute}", now=START + timedelta(minutes=minute))


def test_whole_old_segments_are_dropped_and_the_rest_is_kept(tmp_path: Path) -> None:
    """Segments entirely before the cutoff go (files and all); a segment with any newer message stays."""
    messages_dir = tmp_path / "messages"
    store = MessageStore(messages_dir, segment_capacity=4)
    _fill(store, 14)  # segments 0-2 full (minutes 0-11), segment 3 current
    first = store.drop_older_than(START + timedelta(minutes=9))  # segment 2 holds minutes 8-11: kept
    assert first == 8
    assert not log_path(messages_dir, 0).exists() and not log_path(messages_dir, 1).exists()
    assert log_path(messages_dir, 2).exists()
    assert store.count() == 14
    assert [m.text for m in store.tail(100)] == [f"m{n}" for n in range(8, 14)]
    assert [record.id for record in audit(messages_dir)] == list(range(8, 14))
    assert store.append("next").id == 14
    assert store.status()["first_id"] == 8


def test_a_cursor_into_dropped_messages_is_410_cursor_expired(tmp_path: Path) -> None:
    """Paging on from a cursor that now points at dropped messages raises Gone (410) cursor_expired, also in a
    process that still believes the old segments exist."""
    messages_dir = tmp_path / "messages"
    store = MessageStore(messages_dir, segment_capacity=4)
    _fill(store, 10)
    reader = MessageStore(messages_dir)
    assert [m.id for m in reader.page(4, 6)[0]] == [5, 4]  # this process has seen segment 1
    MessageStore(messages_dir).drop_older_than(START + timedelta(days=1))  # everything but the current segment
    for process in (store, reader):
        with pytest.raises(Gone) as raised:
            process.page(4, 6)
        assert (raised.value.status, raised.value.code) == (410, "cursor_expired")
    items, cursor = reader.page(50)
    assert ([m.id for m in items], cursor) == ([9, 8], None)  # the newest page ends where the kept messages do


def test_nothing_newer_than_the_cutoff_is_dropped_and_the_current_segment_never(tmp_path: Path) -> None:
    """A cutoff before every message drops nothing; a cutoff after every message still keeps the current segment."""
    store = MessageStore(tmp_path / "messages", segment_capacity=4)
    _fill(store, 6)
    assert store.drop_older_than(START) == 0
    assert store.drop_older_than(START + timedelta(days=365)) == 4
    assert [m.text for m in store.tail(10)] == ["m4", "m5"]


def test_format1_segments_read_in_place_are_dropped_too(tmp_path: Path) -> None:
    """Retention reaches into a frozen format-1 store: its old segments go first, in id order."""
    messages_dir = tmp_path / "messages"
    old = format1_store.MessageStore(messages_dir, segment_capacity=3)
    for minute in range(7):
        old.append(f"old {minute}", now=START + timedelta(minutes=minute))
    store = MessageStore(messages_dir, segment_capacity=3)
    _fill(store, 4, first_minute=7)
    assert store.drop_older_than(START + timedelta(minutes=6)) == 6  # format-1 segments 0 and 1
    assert not any(path.exists() for segment in (0, 1) for path in segment_paths(messages_dir, segment))
    assert [m.text for m in store.tail(10)] == ["old 6", "m7", "m8", "m9", "m10"]
    assert store.drop_older_than(START + timedelta(minutes=9)) == 7  # the last, partial format-1 segment
    assert [record.text for record in audit(messages_dir)] == ["m7", "m8", "m9", "m10"]


def test_a_drop_interrupted_before_its_sweep_is_finished_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If retention dies after recording the new first id but before removing the files, readers already see
    the drop, and the next run removes the files."""
    messages_dir = tmp_path / "messages"
    store = MessageStore(messages_dir, segment_capacity=2)
    _fill(store, 7)

    def killed(*_: object) -> None:
        raise KeyboardInterrupt  # stands for the process dying here

    monkeypatch.setattr(MessageStore, "_remove_segments", killed)
    with pytest.raises(KeyboardInterrupt):
        store.drop_older_than(START + timedelta(minutes=4))
    monkeypatch.undo()
    assert read_head2(messages_dir).first_id == 4
    assert log_path(messages_dir, 0).exists()
    assert [m.text for m in MessageStore(messages_dir).tail(10)] == ["m4", "m5", "m6"]
    assert MessageStore(messages_dir).drop_older_than(START) == 4
    assert not log_path(messages_dir, 0).exists() and not log_path(messages_dir, 1).exists()
    assert read_head2(messages_dir).swept_id == 4


def test_naive_cutoff_is_refused(tmp_path: Path) -> None:
    """A naive datetime is a programming error: ValueError."""
    with pytest.raises(ValueError, match="timezone-aware"):
        MessageStore(tmp_path / "messages").drop_older_than(datetime(2026, 1, 1))
