"""Internal faults answer 500 with the request id and no trace; storage faults answer 503."""

from __future__ import annotations

import errno
from typing import Any

import pytest

from inference.errors import StorageUnavailable
from testing.api_events import http_event, json_event
from tests.handler.conftest import Invoke, body_json


def test_unexpected_exception_is_500_with_request_id_and_no_trace(
    invoke: Invoke, handler_module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in a route answers 500 naming the request id, never a stack trace."""

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(type(handler_module.message_store()), "page", broken)
    event = http_event("GET", "/messages")
    response = invoke(event)
    assert response["statusCode"] == 500
    error = body_json(response)["error"]
    assert error["code"] == "internal_error"
    assert event["requestContext"]["requestId"] in error["message"]
    assert "secret" not in response["body"] and "Traceback" not in response["body"]


def test_storage_fault_is_503_with_its_code(
    invoke: Invoke, handler_module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full data folder answers 503 storage_full, a JSON error the client may retry."""

    def full(*_: Any, **__: Any) -> Any:
        raise StorageUnavailable("no space left on the data volume", "storage_full")

    monkeypatch.setattr(type(handler_module.message_store()), "append", full)
    response = invoke(json_event("POST", "/messages", {"text": "x"}))
    assert response["statusCode"] == 503
    assert body_json(response)["error"]["code"] == "storage_full"


def test_unopenable_data_folder_is_503_not_a_crash(
    invoke: Invoke, handler_module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the store cannot even be opened (EFS not mounted), requests get 503 and a later one can recover."""
    store_class = handler_module.MessageStore

    def unmounted(*_: Any, **__: Any) -> Any:
        raise OSError(errno.ENOENT, "No such file or directory")

    handler_module.message_store.cache_clear()
    monkeypatch.setattr(handler_module, "MessageStore", unmounted)
    response = invoke(http_event("GET", "/messages"))
    assert response["statusCode"] == 503
    monkeypatch.setattr(handler_module, "MessageStore", store_class)
    assert invoke(http_event("GET", "/messages"))["statusCode"] == 200
