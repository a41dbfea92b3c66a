"""Structured logs carry the request id and the cold-start flag; EMF metrics record cold starts,
model load time and inference time, and plain requests print no metric line."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from inference.api.emf import MetricsBuffer
from inference.metrics import COLD_START, CUSTOM_METRICS, INFERENCE_TIME, LATEST_UNAVAILABLE
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


def _metrics_by_name(records: list[dict[str, Any]]) -> dict[str, tuple[str, list[str], dict[str, Any]]]:
    """Each EMF metric by name: its namespace, its dimension names, and the record's values for them."""
    found = {}
    for record in records:
        for directive in record.get("_aws", {}).get("CloudWatchMetrics", []):
            (dimensions,) = directive["Dimensions"]
            for metric in directive["Metrics"]:
                found[metric["Name"]] = (
                    directive["Namespace"],
                    dimensions,
                    {name: record[name] for name in dimensions},
                )
    return found


def test_metrics_carry_the_dimensions_the_dashboard_reads(
    invoke: Invoke, handler_module: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cold start is recorded per service; a model's load and inference time per service, model and version,
    with exactly the names, units and dimensions of inference.metrics (which the stack's dashboard reads)."""
    monkeypatch.setattr(handler_module, "_cold_start", True)
    invoke(json_event("POST", "/predict", {"inputs": [[0.0] * 64]}))
    records = _json_lines(capsys.readouterr().out)
    found = _metrics_by_name(records)
    recorded = [metric for metric in CUSTOM_METRICS if metric is not LATEST_UNAVAILABLE]  # only when LATEST is broken
    assert set(found) == {metric.name for metric in recorded}
    service = handler_module.metrics.service
    namespace = handler_module.metrics.namespace
    for metric in recorded:
        assert found[metric.name][:2] == (namespace, list(metric.dimensions))
    assert found["ColdStart"][2] == {"service": service}
    answer_version = found["InferenceTime"][2]["version"]
    assert found["InferenceTime"][2] == {"service": service, "model": "digits", "version": answer_version}
    assert found["ModelLoadTime"][2] == found["InferenceTime"][2]
    units = {
        metric["Name"]: metric["Unit"]
        for record in records
        for directive in record["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    }
    assert units == {metric.name: metric.unit for metric in recorded}


def test_a_metric_with_the_wrong_dimensions_is_refused() -> None:
    """Recording a metric without the dimensions it declares is a programming error, caught at once."""
    buffer = MetricsBuffer("Namespace", "service-name", io.StringIO())
    with pytest.raises(ValueError, match="InferenceTime takes the dimensions"):
        buffer.add(INFERENCE_TIME, 1.0)
    with pytest.raises(ValueError, match="ColdStart takes the dimensions"):
        buffer.add(COLD_START, 1, {"model": "digits"})


def test_one_line_per_set_of_dimension_values() -> None:
    """Metrics of two models in one flush go out as two lines, each with its own model's values; then nothing."""
    stream = io.StringIO()
    buffer = MetricsBuffer("Namespace", "service-name", stream)
    buffer.add(INFERENCE_TIME, 1.0, {"model": "a", "version": "1"})
    buffer.add(INFERENCE_TIME, 2.0, {"model": "b", "version": "7"})
    buffer.flush()
    buffer.flush()
    records = _json_lines(stream.getvalue())
    assert [(record["model"], record["version"], record["InferenceTime"]) for record in records] == [
        ("a", "1", 1.0),
        ("b", "7", 2.0),
    ]
