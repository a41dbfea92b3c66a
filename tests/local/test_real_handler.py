"""The local API running the real Lambda handler on a data folder with the example model published:
the old README's curl lines, the JSON API, a prediction, and two worker processes sharing one store."""

from __future__ import annotations

import importlib.util
import json
import math
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from testing.local_stack import OLD_README_GET, OLD_README_POST, REPO, Running, call, run_curl

EXAMPLE_MODEL = REPO / "models" / "digits"
LEGACY_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d: (.*)")

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("inference.api.handler") is None, reason="inference.api.handler is not written yet"
)


def post_json(server: Running, target: str, payload: Any) -> tuple[int, Any, str | None]:
    body = json.dumps(payload).encode()
    reply = call(server.url, "POST", target, body, headers=[("Content-Type", "application/json")])
    return reply.status, json.loads(reply.body), reply.header("x-local-worker-pid")


def legacy_texts(listing: str) -> list[str]:
    """The texts of the old app's "YYYY-MM-DD HH:MM:SS: text" lines; fails on any other line."""
    texts = []
    for line in listing.splitlines():
        matched = LEGACY_LINE.fullmatch(line)
        assert matched, f"not a legacy line: {line!r}"
        texts.append(matched.group(1))
    return texts


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_old_readme_curl_lines_work_verbatim(real_server: Running) -> None:
    """POST stores a timestamped 'Hello World' line and answers the listing; GET lists it, oldest first."""
    assert legacy_texts(run_curl(OLD_README_POST, real_server.port))[-1] == "Hello World"
    assert legacy_texts(run_curl(OLD_README_GET, real_server.port))[-1] == "Hello World"


def test_json_messages_api(real_server: Running) -> None:
    """POST /messages answers 201 with id, text and a UTC timestamp; GET /messages lists it newest first."""
    status, created, _ = post_json(real_server, "/messages", {"text": "from the JSON API"})
    assert status == 201
    assert isinstance(created["id"], int)
    assert created["text"] == "from the JSON API"
    assert created["created_at"].endswith("Z")
    reply = call(real_server.url, "GET", "/messages?limit=1")
    assert reply.status == 200
    page = json.loads(reply.body)
    assert [item["id"] for item in page["items"]] == [created["id"]]


def test_two_workers_see_each_others_writes(real_server: Running) -> None:
    """A message stored through one worker process is listed by a different worker process right after."""
    status, created, writer = post_json(real_server, "/messages", {"text": "written by one worker"})
    assert status == 201
    readers = set()
    for _ in range(4):  # consecutive requests go to the workers in turn
        reply = call(real_server.url, "GET", "/messages?limit=5")
        assert created["id"] in [item["id"] for item in json.loads(reply.body)["items"]]
        readers.add(reply.header("x-local-worker-pid"))
    assert readers - {writer}, "no other worker process served a read"


@pytest.mark.skipif(not (EXAMPLE_MODEL / "model.onnx").exists(), reason="models/digits is not built (make model)")
def test_prediction_via_json_api(real_server: Running) -> None:
    """POST /predict with one input of the default model's shape answers one labelled output."""
    models = json.loads(call(real_server.url, "GET", "/models").body)
    model = next(entry for entry in models["models"] if entry["name"] == models["default_model"])
    row_size = math.prod(model["input"]["shape"][1:])
    status, result, _ = post_json(real_server, "/predict", {"inputs": [[0.0] * row_size]})
    assert status == 200, result
    assert result["model"] == model["name"]
    assert len(result["outputs"]) == 1
    assert result["outputs"][0]["label"] in model["labels"]
    assert set(result["timing_ms"]) == {"preprocessing", "inference", "total"}


def test_health_reports_through_the_gateway(real_server: Running) -> None:
    """GET /health reaches the handler through the emulator and answers 200 with a status."""
    reply = call(real_server.url, "GET", "/health")
    assert reply.status == 200
    assert json.loads(reply.body)["status"] in ("ok", "degraded")


def test_data_lands_in_the_data_folder(real_server: Running) -> None:
    """The workers' DATA_DIR is the server's --data-dir: the message store appears there."""
    assert post_json(real_server, "/messages", {"text": "where am I stored?"})[0] == 201
    assert (Path(real_server.log_path.parent) / "data" / "messages").is_dir()
