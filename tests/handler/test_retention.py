"""Retention through the handlers: the scheduled retention handler drops old segments only when a period is
set, and the HTTP API then answers 410 cursor_expired for a cursor into dropped messages while both listings
show what remains."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from inference.api.http_io import encode_cursor
from inference.retention import drop_old_messages, lambda_handler
from inference.settings import Settings
from inference.store.messages import MessageStore
from testing.api_events import http_event
from testing.lambda_context import FakeLambdaContext
from tests.handler.conftest import Invoke, body_json

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def _old_then_new(messages_dir: Path) -> MessageStore:
    """Two full segments from 2020, then a current one with a recent message."""
    store = MessageStore(messages_dir, segment_capacity=3)
    for number in range(6):
        store.append(f"old {number}", now=LONG_AGO + timedelta(minutes=number))
    store.append("recent")
    return store


def test_without_a_period_nothing_is_dropped(tmp_path: Path) -> None:
    """MESSAGE_RETENTION_DAYS unset: the run says it keeps everything and drops nothing."""
    _old_then_new(tmp_path / "messages")
    result = drop_old_messages(Settings(data_dir=tmp_path))
    assert result["dropped"] is False
    assert MessageStore(tmp_path / "messages").tail(10)[0].text == "old 0"


def test_the_scheduled_handler_drops_segments_older_than_the_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With MESSAGE_RETENTION_DAYS=30 the scheduled invocation drops both 2020 segments and reports it."""
    _old_then_new(tmp_path / "messages")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MESSAGE_RETENTION_DAYS", "30")
    result = lambda_handler({"source": "aws.events", "detail-type": "Scheduled Event"}, FakeLambdaContext())
    assert (result["first_kept_id"], result["dropped_messages"], result["dropped"]) == (6, 6, True)
    assert [m.text for m in MessageStore(tmp_path / "messages").tail(10)] == ["recent"]


def test_a_cursor_into_dropped_messages_is_410_and_listings_show_what_remains(
    invoke: Invoke, handler_module: Any, data_dir: Path
) -> None:
    """GET /messages with a cursor below the oldest kept id answers 410 cursor_expired (JSON); the newest page
    and the old text listing show only what remains."""
    _old_then_new(data_dir / "messages")
    handler_module.message_store.cache_clear()
    drop_old_messages(Settings(data_dir=data_dir, message_retention_days=30))
    expired = invoke(http_event("GET", "/messages", query=f"cursor={encode_cursor(4)}"))
    assert expired["statusCode"] == 410
    assert body_json(expired)["error"]["code"] == "cursor_expired"
    page = body_json(invoke(http_event("GET", "/messages")))
    assert ([item["text"] for item in page["items"]], page["next_cursor"]) == (["recent"], None)
    assert invoke(http_event("GET", "/"))["body"].rstrip("\n").endswith(": recent")
    assert len(invoke(http_event("GET", "/"))["body"].splitlines()) == 1
