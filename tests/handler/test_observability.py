"""Structured logs carry the request id and the cold-start flag; EMF metrics record cold starts,
model load time and inference time, and plain requests print no metric line."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from testing.api_events import http_event, json_event
from tests.handler.conftest import Invoke


def _json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def _metric_names(records: list[dict[str, Any]]) -> set[str]:
    return {
        metric["Name"]
        for record in records
        if "_aws" in record
        for directive in record["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    }


def test_error_log_is_json_with_request_id_and_cold_start(
    invoke: Invoke, handler_module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An internal error is logged as one JSON record carrying the API request id and the cold-start flag."""
    stream = io.StringIO()
    # The logger's handler bound sys.stdout at import, before pytest could capture it.
    previous = handler_module.logger.handler.setStream(stream)

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(type(handler_module.message_store()), "tail", broken)
    event = http_event("GET", "/")
    invoke(event)
    handler_module.logger.handler.setStream(previous)
    logs = [record for record in _json_lines(stream.getvalue()) if record.get("message") == "unhandled error"]
    assert len(logs) == 1
    assert logs[0]["correlation_id"] == event["requestContext"]["requestId"]
    assert "cold_start" in logs[0]
    assert "RuntimeError: boom" in logs[0]["exception"]


def test_prediction_emits_model_load_and_inference_metrics(invoke: Invoke, capsys: pytest.CaptureFixture[str]) -> None:
    """The first prediction records ModelLoadTime and InferenceTime in milliseconds as EMF metrics."""
    invoke(json_event("POST", "/predict", {"inputs": [[0.0] * 64]}))
    names = _metric_names(_json_lines(capsys.readouterr().out))
    assert {"ModelLoadTime", "InferenceTime"} <= names


def test_cold_start_metric_once_and_no_metric_line_for_plain_requests(
    invoke: Invoke, handler_module: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first invocation of an environment records ColdStart; later plain requests print no EMF line at all."""
    monkeypatch.setattr(handler_module, "_cold_start", True)
    invoke(http_event("GET", "/health"))
    first = _json_lines(capsys.readouterr().out)
    invoke(http_event("GET", "/health"))
    later = _json_lines(capsys.readouterr().out)
    assert "ColdStart" in _metric_names(first)
    assert _metric_names(later) == set()
