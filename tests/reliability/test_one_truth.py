"""One truth across workers: every worker reports the same served version, LATEST and unavailable versions in
GET /models and /health, whatever it happens to have loaded; an answer's version is the version that ran; a LATEST
damaged after publishing is said loudly (a degraded /health with the reason, an error line, a metric)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inference.models.metadata import METADATA_FILE
from inference.models.publishing import publish_version
from inference.models.registry import LATEST_UNAVAILABLE_METRIC, ModelRegistry
from local.server import WORKER_PID_HEADER
from testing.api_events import http_event, json_event
from testing.local_stack import Running, call, stop
from tests.models.factory import FIRST_WINS, FakeClock, tiny_model_dir
from tests.reliability.conftest import ServeFrom, body_json, start_real_server

REFRESH_SECONDS = 0.2


def _publish(tmp_path: Path, models_dir: Path, version: str) -> Path:
    labels = (f"v{version}-a", f"v{version}-b")
    source = tiny_model_dir(tmp_path / "sources" / version, variant=version, version=version, labels=labels)
    return publish_version(source, models_dir, "tiny")


def _damage_metadata(version_dir: Path) -> None:
    """Labels reversed in place, as a careless hand might: the publish record no longer vouches for the file."""
    metadata = json.loads((version_dir / METADATA_FILE).read_text())
    metadata["labels"] = metadata["labels"][::-1]
    (version_dir / METADATA_FILE).write_text(json.dumps(metadata))


def _without_loaded(status: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in status.items() if key != "loaded"}


def test_two_workers_agree_whatever_they_have_loaded(tmp_path: Path) -> None:
    """A worker that served version 2 and one that never predicted list and report the same; once version 2 is
    damaged, both say so and serve version 1, and the one that had version 2 loaded answers from version 1."""
    models_dir = tmp_path / "models"
    _publish(tmp_path, models_dir, "1")
    latest = _publish(tmp_path, models_dir, "2")
    clock = FakeClock()
    metrics: list[tuple[str, float]] = []
    busy = ModelRegistry(
        models_dir, "tiny", clock=clock, on_metric=lambda name, value, *_: metrics.append((name, value))
    )
    idle = ModelRegistry(models_dir, "tiny", clock=clock)
    assert busy.predict(None, [FIRST_WINS])["version"] == "2"
    assert busy.list_models() == idle.list_models()
    assert _without_loaded(busy.status()) == _without_loaded(idle.status())

    _damage_metadata(latest)
    clock.advance(5)
    listings = busy.list_models(), idle.list_models()
    assert listings[0] == listings[1]
    (model,) = listings[0]["models"]
    assert (model["latest"], model["serving"], model["versions"]) == ("2", "1", ["1"])
    assert "metadata.json changed after it was published" in model["unavailable"][0]["reason"]
    for registry in (busy, idle):
        status = registry.status()
        assert status["ok"] is False
        assert status["problems"] == [
            {"model": "tiny", "version": "2", "reason": model["unavailable"][0]["reason"], "serving": "1"}
        ]
    answer = busy.predict(None, [FIRST_WINS])
    assert answer["version"] == "1" and answer["outputs"][0]["label"] == "v1-b"
    assert (LATEST_UNAVAILABLE_METRIC, 1) in metrics


def test_a_damaged_latest_is_logged_once_and_counted_each_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One error line per worker for one problem, and the metric at every choice made while it lasts."""
    models_dir = tmp_path / "models"
    _publish(tmp_path, models_dir, "1")
    _damage_metadata(_publish(tmp_path, models_dir, "2"))
    clock = FakeClock()
    counted: list[str] = []
    registry = ModelRegistry(models_dir, "tiny", clock=clock, on_metric=lambda name, *_: counted.append(name))
    with caplog.at_level(logging.ERROR, logger="inference.models.registry"):
        for _ in range(3):
            assert registry.predict(None, [FIRST_WINS])["version"] == "1"
            clock.advance(5)
    assert len([record for record in caplog.records if "cannot be served" in record.getMessage()]) == 1
    assert counted.count(LATEST_UNAVAILABLE_METRIC) == 3


def test_latest_naming_a_missing_version_is_reported(tmp_path: Path) -> None:
    """A LATEST whose version folder is gone: the listing says so and the newest remaining version serves."""
    models_dir = tmp_path / "models"
    _publish(tmp_path, models_dir, "1")
    latest = _publish(tmp_path, models_dir, "2")
    for path in latest.iterdir():
        path.unlink()
    latest.rmdir()
    (model,) = ModelRegistry(models_dir, "tiny").list_models()["models"]
    assert (model["latest"], model["serving"]) == ("2", "1")
    assert model["unavailable"] == [{"version": "2", "reason": f"there is no version '2' in {models_dir / 'tiny'}"}]


def test_health_is_degraded_with_the_reason(
    tmp_path: Path, serve_from: ServeFrom, capsys: pytest.CaptureFixture[str]
) -> None:
    """/health through the handler: degraded, naming the model, LATEST, the reason and what serves meanwhile; a
    prediction meanwhile records the LatestVersionUnavailable metric for that model and version."""
    models_dir = tmp_path / "data" / "models"
    _publish(tmp_path, models_dir, "1")
    _damage_metadata(_publish(tmp_path, models_dir, "2"))
    invoke = serve_from(tmp_path / "data", default_model="tiny")
    capsys.readouterr()
    assert body_json(invoke(json_event("POST", "/predict", {"inputs": [FIRST_WINS]})))["version"] == "1"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    counted = [line for line in lines if "LatestVersionUnavailable" in line]
    assert [(line["model"], line["version"], line["LatestVersionUnavailable"]) for line in counted] == [
        ("tiny", "2", 1)
    ]
    health = body_json(invoke(http_event("GET", "/health")))
    assert health["status"] == "degraded"
    (problem,) = health["models"]["problems"]
    assert (problem["model"], problem["version"], problem["serving"]) == ("tiny", "2", "1")
    assert "changed after it was published" in problem["reason"]
    assert health["models"]["serving"] == {"tiny": "1"}


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[Running, Path]]:
    data_dir = tmp_path / "data"
    _publish(tmp_path, data_dir / "models", "1")
    _publish(tmp_path, data_dir / "models", "2")
    settings = {"DEFAULT_MODEL": "tiny", "MODEL_REFRESH_SECONDS": str(REFRESH_SECONDS)}
    running = start_real_server(data_dir, tmp_path / "server.log", workers=2, **settings)
    yield running, data_dir
    stop(running)


def _by_worker(server: Running, path: str, rounds: int = 12) -> dict[str, list[Any]]:
    """The JSON answers to GET ``path``, by the worker process that gave each."""
    seen: dict[str, list[Any]] = {}
    for _ in range(rounds):
        reply = call(server.url, "GET", path)
        assert reply.status == 200
        seen.setdefault(str(reply.header(WORKER_PID_HEADER)), []).append(json.loads(reply.body))
    return seen


def test_every_worker_process_answers_alike(tmp_path: Path, two_workers: tuple[Running, Path]) -> None:
    """Two worker processes of the local stack, one of which has served predictions: GET /models is the same from
    both, and after LATEST is damaged both say so in /models and /health."""
    server, data_dir = two_workers
    request = json.dumps({"inputs": [FIRST_WINS]}).encode()
    reply = call(server.url, "POST", "/predict", request, headers=[("Content-Type", "application/json")])
    assert json.loads(reply.body)["version"] == "2"
    listings = _by_worker(server, "/models")
    assert len(listings) == 2, "both workers should have answered"
    assert len({json.dumps(body, sort_keys=True) for bodies in listings.values() for body in bodies}) == 1

    _damage_metadata(data_dir / "models" / "tiny" / "2")
    time.sleep(REFRESH_SECONDS * 2)
    healths = _by_worker(server, "/health")
    for bodies in healths.values():
        for health in bodies:
            assert health["status"] == "degraded"
            assert health["models"]["problems"][0]["version"] == "2"
            assert health["models"]["serving"] == {"tiny": "1"}
    reply = call(server.url, "POST", "/predict", request, headers=[("Content-Type", "application/json")])
    assert json.loads(reply.body)["version"] == "1"
