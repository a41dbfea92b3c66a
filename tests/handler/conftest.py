"""A handler wired to a fresh data folder with the example model published in it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from inference.models.publishing import publish_version
from inference.settings import Settings
from testing.lambda_context import FakeLambdaContext

EXAMPLE_MODEL = Path(__file__).resolve().parents[2] / "models" / "digits"

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    publish_version(EXAMPLE_MODEL, tmp_path / "models", "digits")
    return tmp_path


@pytest.fixture
def handler_module(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from inference.api import handler

    monkeypatch.setattr(handler, "settings", Settings(data_dir=data_dir, max_text_bytes=64, legacy_listing_lines=5))
    handler.message_store.cache_clear()
    handler.model_registry.cache_clear()
    yield handler
    handler.message_store.cache_clear()
    handler.model_registry.cache_clear()


@pytest.fixture
def invoke(handler_module: Any) -> Invoke:
    def call(event: dict[str, Any]) -> dict[str, Any]:
        return handler_module.lambda_handler(event, FakeLambdaContext())

    return call


def body_json(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])
