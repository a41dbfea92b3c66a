"""Requests keep running while new model versions are published: every answer comes from one complete version
(the labels a version was published with are the only ones it can answer), and none is a 5xx.

Each version of the tiny classifier is published with its own labels, ``v<N>-first`` / ``v<N>-second``, so
an answer whose labels disagree with the version it reports would show a mixed or half-read version."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from inference.models.publishing import publish_version
from testing.api_events import json_event
from testing.local_stack import Running, call, stop
from tests.models.factory import FIRST_WINS, SECOND_WINS, tiny_model_dir
from tests.reliability.conftest import ServeFrom, start_real_server

VERSIONS = 6
CLIENTS = 3
REFRESH_SECONDS = 0.001  # re-read LATEST on (almost) every request, to give a swap every chance to show
REQUEST = {"inputs": [FIRST_WINS, SECOND_WINS]}

Predict = Callable[[], tuple[int, Any]]


def _labels(version: int) -> tuple[str, str]:
    return (f"v{version}-first", f"v{version}-second")


def _publish(sources: Path, models_dir: Path, version: int) -> None:
    source = tiny_model_dir(sources / str(version), variant=str(version), version=str(version), labels=_labels(version))
    publish_version(source, models_dir, "tiny")


def _problem(status: int, answer: Any) -> str | None:
    """What is wrong with one answer, if anything."""
    if status != 200:
        return f"status {status}: {answer}"
    version = int(answer["version"])
    first, second = _labels(version)
    if [output["label"] for output in answer["outputs"]] != [second, first]:
        return f"version {version} answered {answer['outputs']}"
    if any(set(output["probabilities"]) != {first, second} for output in answer["outputs"]):
        return f"version {version} mixed labels: {answer['outputs']}"
    return None


def _swap_under_load(predict: Predict, clients: int, sources: Path, models_dir: Path) -> list[list[int]]:
    """Publish versions 2..VERSIONS while ``clients`` threads call ``predict``; returns the versions each saw,
    in order. Fails on any bad answer."""
    stop_event = threading.Event()
    problems: list[str] = []
    seen: list[list[int]] = [[] for _ in range(clients)]

    def client(index: int) -> None:
        while not stop_event.is_set():
            status, answer = predict()
            problem = _problem(status, answer)
            if problem:
                problems.append(problem)
                return
            seen[index].append(int(answer["version"]))

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 60
        while not all(seen) and not problems:  # every client past its cold start before the first swap
            assert time.monotonic() < deadline, "the clients got no answers in time"
            time.sleep(0.01)
        for version in range(2, VERSIONS + 1):
            _publish(sources, models_dir, version)
            time.sleep(0.1)  # let requests land between publications too
    finally:
        stop_event.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert problems == []
    assert all(versions for versions in seen), "a client got no answer at all"
    assert len({version for versions in seen for version in versions}) > 1, "no swap happened under load"
    return seen


def test_handler_answers_from_whole_versions_while_publishing(tmp_path: Path, serve_from: ServeFrom) -> None:
    """In one execution environment (one request at a time, as Lambda runs it) with a publisher beside it,
    every answer matches the version it names, versions only move forward, and the last one is reached."""
    data_dir = tmp_path / "data"
    _publish(tmp_path / "sources", data_dir / "models", 1)
    invoke = serve_from(data_dir, default_model="tiny", model_refresh_seconds=REFRESH_SECONDS)

    def predict() -> tuple[int, Any]:
        response = invoke(json_event("POST", "/predict", REQUEST))
        return response["statusCode"], json.loads(response["body"])

    # The handler serves one event at a time (Powertools keeps the current event on the class), so one client.
    (versions,) = _swap_under_load(predict, 1, tmp_path / "sources", data_dir / "models")
    assert versions == sorted(versions)
    time.sleep(REFRESH_SECONDS)
    assert predict()[1]["version"] == str(VERSIONS)


@pytest.fixture
def tiny_server(tmp_path: Path) -> Iterator[tuple[Running, Path]]:
    """The local stack with two worker processes serving the tiny model, version 1 published."""
    data_dir = tmp_path / "data"
    _publish(tmp_path / "sources", data_dir / "models", 1)
    settings = {"DEFAULT_MODEL": "tiny", "MODEL_REFRESH_SECONDS": str(REFRESH_SECONDS)}
    running = start_real_server(data_dir, tmp_path / "server.log", workers=2, **settings)
    yield running, data_dir
    stop(running)


def test_local_stack_answers_from_whole_versions_while_publishing(
    tmp_path: Path, tiny_server: tuple[Running, Path]
) -> None:
    """Several HTTP clients against two worker processes get only whole versions and no 5xx while versions
    2..6 are published, and all of them reach the last version."""
    server, data_dir = tiny_server

    def predict() -> tuple[int, Any]:
        reply = call(
            server.url, "POST", "/predict", json.dumps(REQUEST).encode(), headers=[("Content-Type", "application/json")]
        )
        return reply.status, json.loads(reply.body)

    _swap_under_load(predict, CLIENTS, tmp_path / "sources", data_dir / "models")
    time.sleep(REFRESH_SECONDS)
    for _ in range(4):  # both workers, whichever takes each request
        status, answer = predict()
        assert _problem(status, answer) is None
        assert answer["version"] == str(VERSIONS)
