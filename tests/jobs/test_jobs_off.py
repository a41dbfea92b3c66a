"""A stack without jobs: every /jobs route answers 404 jobs_disabled as JSON, and stores nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inference.routes import JOBS_FUNCTION, ROUTES
from inference.settings import Settings
from testing.api_events import http_event, json_event
from testing.lambda_context import FakeLambdaContext


@pytest.fixture
def handler_without_jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from inference.api import handler, jobs

    monkeypatch.delenv("JOBS_BUCKET", raising=False)
    monkeypatch.setattr(handler, "settings", Settings(data_dir=tmp_path))
    handler.message_store.cache_clear()
    jobs.job_service.cache_clear()
    yield handler
    jobs.job_service.cache_clear()
    handler.message_store.cache_clear()


@pytest.mark.parametrize(
    "event",
    [
        json_event("POST", "/jobs", {"inputs": [[1] * 64]}),
        http_event("POST", "/jobs", "not even json", headers={"content-type": "text/plain"}),
        http_event("POST", "/jobs/uploads"),
        http_event("GET", f"/jobs/{'0' * 32}"),
    ],
    ids=["submit", "submit-bad-body", "upload", "status"],
)
def test_every_jobs_route_answers_404_on_a_stack_without_jobs(
    handler_without_jobs: Any, event: dict[str, Any], tmp_path: Path
) -> None:
    """404 jobs_disabled, naming the config key that turns jobs on; the old contract never stores a line."""
    response = handler_without_jobs.lambda_handler(event, FakeLambdaContext())
    assert response["statusCode"] == 404
    error = json.loads(response["body"])["error"]
    assert error["code"] == "jobs_disabled"
    assert "jobsEnabled" in error["message"]
    assert not (tmp_path / "messages").exists() or not any((tmp_path / "messages").iterdir())


def test_the_route_table_names_the_jobs_function_for_the_jobs_routes_only() -> None:
    """The /jobs routes, and only they, are served by the jobs function."""
    served = {route.route_key for route in ROUTES if route.function == JOBS_FUNCTION}
    assert served == {"POST /jobs", "POST /jobs/uploads", "GET /jobs/{job_id}"}
