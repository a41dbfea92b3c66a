"""The real handler pointed at a chosen data folder, for the reliability tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from inference.settings import Settings
from testing.api_events import http_event
from testing.lambda_context import FakeLambdaContext
from testing.local_stack import Running, start_server

Invoke = Callable[[dict[str, Any]], dict[str, Any]]
ServeFrom = Callable[..., Invoke]


@pytest.fixture
def serve_from(monkeypatch: pytest.MonkeyPatch) -> Iterator[ServeFrom]:
    """``serve_from(data_dir, **settings)``: the handler module's own lambda_handler, reading that folder."""
    from inference.api import handler

    def configure(data_dir: Path, **overrides: Any) -> Invoke:
        monkeypatch.setattr(handler, "settings", Settings(data_dir=data_dir, **overrides))
        handler.message_store.cache_clear()
        handler.model_registry.cache_clear()

        def invoke(event: dict[str, Any]) -> dict[str, Any]:
            response: dict[str, Any] = handler.lambda_handler(event, FakeLambdaContext())
            return response

        return invoke

    yield configure
    handler.message_store.cache_clear()
    handler.model_registry.cache_clear()


def start_real_server(data_dir: Path, log_path: Path, *, workers: int, **environment: str) -> Running:
    """The local API with the real handler and ``workers`` worker processes, with these environment variables
    (DEFAULT_MODEL=..., MODEL_REFRESH_SECONDS=...)."""
    return start_server(
        data_dir, log_path, "--workers", str(workers), handler="inference.api.handler.lambda_handler", env=environment
    )


def body_json(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def all_messages(invoke: Invoke) -> list[str]:
    """Every message text through GET /messages, oldest first, following the cursor page by page."""
    newest_first: list[str] = []
    query = "limit=500"
    while True:
        response = invoke(http_event("GET", "/messages", query=query))
        assert response["statusCode"] == 200, response["body"]
        page = body_json(response)
        newest_first.extend(item["text"] for item in page["items"])
        if page["next_cursor"] is None:
            return newest_first[::-1]
        query = f"limit=500&cursor={page['next_cursor']}"
