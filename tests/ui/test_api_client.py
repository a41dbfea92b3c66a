"""The API client against a real local HTTP server: typed results, the API's errors, timeouts."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from inference.models.publishing import publish_version
from inference.models.registry import ModelRegistry
from tests.ui.example_model import EXAMPLE_MODEL_DIR, SAMPLES
from ui.api_client import ApiClient, ApiError, Timeouts

Answer = tuple[int, str, bytes]  # status, content type, body


@dataclass
class Request:
    method: str
    path: str
    body: Any


@dataclass
class FakeServer:
    """Answers every request with ``answer(request)`` and records what it received."""

    url: str
    answer: Callable[[Request], Answer] = lambda _: (200, "application/json", b"{}")
    received: list[Request] = field(default_factory=list)

    def answer_json(self, status: int, body: Any) -> None:
        self.answer = lambda _: (status, "application/json", json.dumps(body).encode())


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            request = Request(self.command, self.path, json.loads(raw) if raw else None)
            fake.received.append(request)
            status, content_type, body = fake.answer(request)
            try:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except ConnectionError:  # the client gave up waiting (the timeout test)
                pass

        do_GET = do_POST = _handle

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    fake.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield fake
    httpd.shutdown()
    httpd.server_close()


MODELS: dict[str, Any] = {
    "default_model": "digits",
    "models": [
        {
            "name": "digits",
            "versions": ["20261126-2", "20261126-1"],
            "serving": "20261126-2",
            "input": {"name": "input", "shape": [None, 64], "dtype": "float32", "range": [0, 16]},
            "labels": ["0", "1"],
            "description": "8x8 digits",
        }
    ],
}


def test_messages_are_posted_and_listed_with_the_cursor(server: FakeServer) -> None:
    """post_message sends JSON text; list_messages sends limit and cursor and returns typed messages."""
    message = {"id": 7, "text": "hi", "created_at": "2026-11-26T08:00:00Z"}
    client = ApiClient(server.url)
    server.answer_json(201, message)
    assert client.post_message("hi").id == 7
    server.answer_json(200, {"items": [message], "next_cursor": "abc"})
    page = client.list_messages(limit=10, cursor="abc")
    assert page.items[0].text == "hi"
    assert page.next_cursor == "abc"
    assert [(r.method, r.path, r.body) for r in server.received] == [
        ("POST", "/messages", {"text": "hi"}),
        ("GET", "/messages?limit=10&cursor=abc", None),
    ]


def test_models_are_read_into_typed_results(server: FakeServer) -> None:
    """list_models keeps names, versions (newest first), the serving version and the input description."""
    server.answer_json(200, MODELS)
    catalog = ApiClient(server.url).list_models()
    assert catalog.default_model == "digits"
    (model,) = catalog.models
    assert model.versions == ["20261126-2", "20261126-1"]
    assert model.serving == "20261126-2"
    assert model.input.sample_shape == [64]
    assert model.input.value_range == (0.0, 16.0)
    assert model.labels == ["0", "1"]
    assert model.samples == []


def test_the_registry_listing_of_the_example_model_gives_its_range_and_samples(
    server: FakeServer, tmp_path: Path
) -> None:
    """GET /models as the API's registry lists the example model: its input range and held-out samples come through."""
    publish_version(EXAMPLE_MODEL_DIR, tmp_path, "digits")
    server.answer_json(200, ModelRegistry(tmp_path, "digits").list_models())
    (model,) = ApiClient(server.url).list_models().models
    assert model.input.value_range == (0.0, 16.0)
    assert model.samples == SAMPLES
    assert [sample.label for sample in model.samples] == [str(digit) for digit in range(10)]


def test_a_model_without_a_complete_version_is_left_out(server: FakeServer) -> None:
    """A model being published for the first time (no input described yet) is not offered; the others are."""
    unfinished: dict[str, Any] = {
        "name": "new",
        "versions": [],
        "serving": None,
        "input": None,
        "labels": None,
        "description": "",
    }
    server.answer_json(200, {**MODELS, "models": [unfinished, *MODELS["models"]]})
    assert [model.name for model in ApiClient(server.url).list_models().models] == ["digits"]


def test_samples_keep_their_input_and_label(server: FakeServer) -> None:
    """Each sample keeps its input as given and its label; a sample without a label gets an empty one."""
    (digits,) = MODELS["models"]
    samples = [{"label": "1", "input": [[0] * 8] * 8}, {"input": [0.5] * 64}]
    server.answer_json(200, {**MODELS, "models": [{**digits, "samples": samples}]})
    (model,) = ApiClient(server.url).list_models().models
    assert [(sample.label, sample.input) for sample in model.samples] == [("1", [[0] * 8] * 8), ("", [0.5] * 64)]


def test_predict_posts_to_the_named_model_and_times_the_round_trip(server: FakeServer) -> None:
    """predict quotes the model name into the path, sends inputs and version, and reads outputs and timings."""
    server.answer_json(
        200,
        {
            "model": "my digits",
            "version": "1",
            "outputs": [{"label": "1", "probabilities": {"0": 0.25, "1": 0.75}}],
            "timing_ms": {"inference": 0.5, "total": 2.0},
        },
    )
    prediction = ApiClient(server.url).predict("my digits", [[0.0] * 64], version="1")
    assert server.received[0].path == "/models/my%20digits/predict"
    assert server.received[0].body == {"inputs": [[0.0] * 64], "version": "1"}
    assert prediction.outputs[0].label == "1"
    assert prediction.outputs[0].probabilities == {"0": 0.25, "1": 0.75}
    assert (prediction.inference_ms, prediction.total_ms) == (0.5, 2.0)
    assert prediction.round_trip_ms > 0


def test_health_keeps_status_and_details(server: FakeServer) -> None:
    """health() reads the status and keeps the rest as details."""
    server.answer_json(200, {"status": "degraded", "store": {"ok": True}, "models": {"ok": False}})
    health = ApiClient(server.url).health()
    assert not health.ok
    assert health.details == {"store": {"ok": True}, "models": {"ok": False}}


def test_an_api_error_body_becomes_the_error_message(server: FakeServer) -> None:
    """A 4xx with the API's error body raises ApiError carrying its message, code and status."""
    server.answer_json(404, {"error": {"code": "model_not_found", "message": "no model named 'cats'"}})
    with pytest.raises(ApiError) as raised:
        ApiClient(server.url).predict("cats", [[1]])
    assert raised.value.message == "no model named 'cats' (model_not_found, HTTP 404)"
    assert (raised.value.status, raised.value.code) == (404, "model_not_found")


def test_an_error_without_the_api_body_names_the_status(server: FakeServer) -> None:
    """A gateway error page (not the API's JSON) still gives a readable message."""
    server.answer = lambda _: (502, "text/html", b"<html>Bad Gateway</html>")
    with pytest.raises(ApiError, match=r"The API answered 502 Bad Gateway\."):
        ApiClient(server.url).health()


def test_an_answer_outside_the_contract_is_an_api_error(server: FakeServer) -> None:
    """A 200 whose body misses contract fields raises ApiError, not KeyError."""
    server.answer_json(200, {"items": "nope"})
    with pytest.raises(ApiError, match="does not understand"):
        ApiClient(server.url).list_messages(limit=5)


def test_an_unreachable_api_says_so() -> None:
    """Nothing listening on the port: ApiError saying the API cannot be reached, and where."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(ApiError, match=f"The API at {url} cannot be reached"):
        ApiClient(url).health()


def test_a_slow_api_times_out_with_a_clear_message(server: FakeServer) -> None:
    """An API slower than the read timeout gives ApiError saying it did not answer in time."""

    def slow(_: Request) -> Answer:
        time.sleep(1)
        return 200, "application/json", b'{"status": "ok"}'

    server.answer = slow
    client = ApiClient(server.url, Timeouts(connect=1, read=0.1))
    with pytest.raises(ApiError, match=r"did not answer within 0\.1 s"):
        client.health()


def _show_client() -> None:
    """An app that shows which client get_client() gave this run: its identity and its URL."""
    import streamlit as st

    from ui import api_client

    client = api_client.get_client()
    st.text(f"{id(client)} {client.base_url}")


def test_each_browser_session_has_its_own_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """get_client() points at API_URL (trailing slash dropped), keeps one client per session, none shared across."""
    monkeypatch.setenv("API_URL", "https://abc.execute-api.eu-central-1.amazonaws.com/")
    first, second = AppTest.from_function(_show_client), AppTest.from_function(_show_client)
    shown = [app.run().text[0].value for app in (first, first, second)]
    assert shown[0].endswith(" https://abc.execute-api.eu-central-1.amazonaws.com")
    assert shown[1] == shown[0], "a rerun in the same session reuses its client"
    assert shown[2] != shown[0], "another session gets a client (and connection pool) of its own"
