"""The message store's interface: append, page, tail, count, status, and the message's shapes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from inference.errors import BadRequest
from inference.store.messages import FORMAT, Message, MessageStore
from testing.store_helpers import audit, log_path


def _fill(store: MessageStore, n: int) -> list[Message]:
    return [store.append(f"message {number}") for number in range(n)]


def _page_through(store: MessageStore, limit: int) -> list[int]:
    ids: list[int] = []
    before: int | None = None
    while True:
        items, before = store.page(limit, before)
        ids.extend(message.id for message in items)
        if before is None:
            return ids


def test_empty_store(tmp_path: Path) -> None:
    """A new store counts 0, pages to nothing, tails to nothing and reports ok."""
    store = MessageStore(tmp_path / "messages")
    assert store.count() == 0
    assert store.page(50) == ([], None)
    assert store.tail(10) == []
    assert store.status() == {
        "ok": True,
        "format": FORMAT,
        "count": 0,
        "first_id": 0,
        "segment": 0,
        "segment_capacity": 10_000,
        "format1_messages": 0,
    }


def test_creating_the_store_twice_is_harmless(tmp_path: Path) -> None:
    """A second MessageStore on the same folder sees the first one's messages and adds after them."""
    first = MessageStore(tmp_path / "messages")
    first.append("one")
    second = MessageStore(tmp_path / "messages")
    assert second.append("two").id == 1
    assert [message.text for message in first.tail(5)] == ["one", "two"]


def test_append_assigns_dense_ids_and_utc_times(tmp_path: Path) -> None:
    """Ids count up from 0; created_at is timezone-aware UTC and close to now."""
    store = MessageStore(tmp_path / "messages")
    before = datetime.now(UTC)
    messages = _fill(store, 3)
    assert [message.id for message in messages] == [0, 1, 2]
    for message in messages:
        assert message.created_at.utcoffset() == timedelta(0)
        assert message.created_at - before < timedelta(minutes=1)
    assert store.count() == 3


def test_message_shapes(tmp_path: Path) -> None:
    """to_dict gives id, text and an ISO-8601 UTC time ending in Z; legacy_line is the old app's line."""
    store = MessageStore(tmp_path / "messages")
    moment = datetime(2026, 11, 26, 8, 55, 33, 123456, tzinfo=timezone(timedelta(hours=1)))
    message = store.append("Hello World", now=moment)
    assert message.to_dict() == {"id": 0, "text": "Hello World", "created_at": "2026-11-26T07:55:33.123456Z"}
    assert message.legacy_line() == "2026-11-26 07:55:33: Hello World"
    assert store.tail(1) == [message]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", store.append("x").to_dict()["created_at"])


def test_naive_now_is_refused(tmp_path: Path) -> None:
    """A naive datetime is a programming error: ValueError, nothing stored."""
    store = MessageStore(tmp_path / "messages")
    with pytest.raises(ValueError, match="timezone-aware"):
        store.append("x", now=datetime(2026, 1, 1))
    assert store.count() == 0


@pytest.mark.parametrize(
    "text",
    ["", "line one\nline two\r\n", "émoji 🎉 中文 العربية", '{"json": "inside"} \\ " \t', "\x00 nul", "x" * 70_000],
)
def test_any_text_round_trips(tmp_path: Path, text: str) -> None:
    """Empty, multi-line, non-ASCII, JSON-looking, NUL and large texts come back unchanged, also from a new instance."""
    MessageStore(tmp_path / "messages").append(text)
    [message], _ = MessageStore(tmp_path / "messages").page(1)
    assert message.text == text
    assert audit(tmp_path / "messages")[0].text == text


def test_lone_surrogate_is_refused(tmp_path: Path) -> None:
    """Text that cannot be UTF-8 encoded gets BadRequest invalid_text and nothing is stored."""
    store = MessageStore(tmp_path / "messages")
    with pytest.raises(BadRequest) as raised:
        store.append("bad \ud800 text")
    assert raised.value.code == "invalid_text"
    assert store.count() == 0


def test_page_is_newest_first_with_a_cursor(tmp_path: Path) -> None:
    """page returns newest first and the cursor of the next (older) page, None at the end."""
    store = MessageStore(tmp_path / "messages")
    _fill(store, 7)
    items, before = store.page(3)
    assert [message.id for message in items] == [6, 5, 4]
    assert before == 4
    items, before = store.page(3, before)
    assert ([message.id for message in items], before) == ([3, 2, 1], 1)
    items, before = store.page(3, before)
    assert ([message.id for message in items], before) == ([0], None)


def test_page_that_ends_exactly_at_the_oldest_message(tmp_path: Path) -> None:
    """When a page reaches id 0 the cursor is None, with no empty page after it."""
    store = MessageStore(tmp_path / "messages")
    _fill(store, 4)
    assert store.page(2, 2)[1] is None
    assert [message.id for message in store.page(4)[0]] == [3, 2, 1, 0]
    assert store.page(4)[1] is None


@pytest.mark.parametrize(("capacity", "count", "limit"), [(1, 5, 2), (3, 10, 4), (4, 12, 4), (5, 23, 7), (100, 9, 50)])
def test_paging_visits_every_message_once(tmp_path: Path, capacity: int, count: int, limit: int) -> None:
    """Following the cursor yields every id exactly once, newest first, across segment boundaries."""
    store = MessageStore(tmp_path / "messages", segment_capacity=capacity)
    _fill(store, count)
    assert _page_through(store, limit) == list(reversed(range(count)))


def test_cursor_stays_valid_while_messages_arrive(tmp_path: Path) -> None:
    """New messages between pages neither shift nor repeat the older pages."""
    store = MessageStore(tmp_path / "messages", segment_capacity=4)
    _fill(store, 10)
    seen: list[int] = []
    items, before = store.page(3)
    seen.extend(message.id for message in items)
    arrivals = 0
    while before is not None:
        _fill(store, 2)  # arrives between two page requests
        arrivals += 2
        items, before = store.page(3, before)
        seen.extend(message.id for message in items)
    assert seen == list(reversed(range(10)))
    assert store.count() == 10 + arrivals


@pytest.mark.parametrize("before", [-1, 6, 10**12])
def test_cursor_outside_the_store_is_a_bad_request(tmp_path: Path, before: int) -> None:
    """A cursor below 0 or above the count gets BadRequest invalid_cursor."""
    store = MessageStore(tmp_path / "messages")
    _fill(store, 5)
    with pytest.raises(BadRequest) as raised:
        store.page(10, before)
    assert raised.value.code == "invalid_cursor"
    assert raised.value.status == 400


def test_cursor_at_the_edges(tmp_path: Path) -> None:
    """before=0 is an empty last page; before=count is the same as no cursor."""
    store = MessageStore(tmp_path / "messages")
    _fill(store, 5)
    assert store.page(10, 0) == ([], None)
    assert store.page(10, 5) == store.page(10)


def test_limit_below_one_is_refused(tmp_path: Path) -> None:
    """page(0) is a programming error: ValueError."""
    with pytest.raises(ValueError, match="limit"):
        MessageStore(tmp_path / "messages").page(0)


def test_tail_is_the_most_recent_oldest_first(tmp_path: Path) -> None:
    """tail(n) gives the last n messages oldest first, all of them if fewer, none for n <= 0."""
    store = MessageStore(tmp_path / "messages", segment_capacity=3)
    _fill(store, 8)
    assert [message.id for message in store.tail(4)] == [4, 5, 6, 7]
    assert [message.id for message in store.tail(100)] == list(range(8))
    assert store.tail(0) == []


def test_segments_roll_over_into_fanned_out_files(tmp_path: Path) -> None:
    """Each segment holds `capacity` messages in its own file; status names the current segment."""
    store = MessageStore(tmp_path / "messages", segment_capacity=3)
    _fill(store, 10)
    for segment in range(4):
        assert log_path(tmp_path / "messages", segment).is_file()
    assert store.status()["segment"] == 3
    assert store.count() == 10
    assert [record.id for record in audit(tmp_path / "messages")] == list(range(10))


def test_capacity_on_disk_wins(tmp_path: Path) -> None:
    """An existing store keeps its recorded segment capacity whatever a later caller asks for."""
    MessageStore(tmp_path / "messages", segment_capacity=3)
    reopened = MessageStore(tmp_path / "messages", segment_capacity=50)
    _fill(reopened, 4)
    assert reopened.status()["segment_capacity"] == 3
    assert reopened.status()["segment"] == 1


@pytest.mark.parametrize("capacity", [0, -1, 1_000_001])
def test_capacity_must_fit_the_format(tmp_path: Path, capacity: int) -> None:
    """A segment capacity outside 1..1,000,000 is refused with ValueError."""
    with pytest.raises(ValueError, match="segment_capacity"):
        MessageStore(tmp_path / "messages", segment_capacity=capacity)


def test_storage_doc_describes_this_format_version() -> None:
    """docs/STORAGE.md documents the format version the code writes."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "STORAGE.md").read_text()
    assert f"Format version: {FORMAT}" in doc
