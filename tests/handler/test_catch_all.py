"""The old app's catch-all keeps the old app's URLs; a path under the JSON API's prefixes that no route matches is
a 404 naming the nearest route, and stores nothing. The prefix is judged as a person typing the path meant it: the
first non-empty segment, percent-decoded and case-folded."""

from __future__ import annotations

import pytest

from inference.routes import JSON_PREFIXES, ROUTES, nearest_route
from testing.api_events import http_event, json_event
from tests.handler.conftest import Invoke, body_json


@pytest.mark.parametrize(
    ("method", "path", "nearest"),
    [
        ("POST", "/predict/", "POST /predict"),
        ("GET", "/models/digits", "POST /models/{name}/predict"),
        ("POST", "/models/digits/predict/", "POST /models/{name}/predict"),
        ("POST", "/messages/", "POST /messages"),
        ("GET", "/messages/1", "GET /messages"),
        ("GET", "/health/", "GET /health"),
        ("GET", "/jobs/", "GET /jobs/{job_id}"),
        ("POST", "/jobs/uploads/x", "POST /jobs/uploads"),
        ("GET", "/openapi.json/", "GET /openapi.json"),
        ("POST", "/messages%2F", "POST /messages"),
        ("POST", "/health%2F", "GET /health"),
        ("GET", "/health%2F", "GET /health"),
        ("POST", "//messages", "POST /messages"),
        ("POST", "/Predict", "POST /predict"),
        ("POST", "/%70redict", "POST /predict"),
        ("GET", "/MODELS/digits", "POST /models/{name}/predict"),
        ("POST", "/%2Fjobs%2Fuploads", "POST /jobs/uploads"),
    ],
)
def test_a_mistyped_json_path_is_a_404_naming_the_nearest_route(
    invoke: Invoke, method: str, path: str, nearest: str
) -> None:
    """404 not_found, `no route METHOD PATH; the nearest is ROUTE`, and no message stored."""
    response = invoke(json_event(method, path, {"inputs": [[0.0] * 64], "text": "typo"}))
    assert response["statusCode"] == 404, response["body"]
    error = body_json(response)["error"]
    assert error == {"code": "not_found", "message": f"no route {method} {path}; the nearest is {nearest}"}
    assert body_json(invoke(http_event("GET", "/messages")))["items"] == []


@pytest.mark.parametrize(
    "path", ["/", "//", "/anything", "/anything/else", "/prod", "/Prod/", "/message", "/predictions", "/%2F"]
)
def test_the_old_apps_urls_keep_the_old_behaviour(invoke: Invoke, path: str) -> None:
    """Outside the JSON prefixes, POST stores a line and answers the listing, as the old app did."""
    response = invoke(http_event("POST", path, "Hello World"))
    assert response["statusCode"] == 200
    assert response["body"].rstrip("\n").endswith(": Hello World")


def test_a_mistyped_json_path_lists_no_messages(invoke: Invoke) -> None:
    """GET /health%2F is a 404, not the old app's listing of every message."""
    invoke(http_event("POST", "/", "a stored line"))
    response = invoke(http_event("GET", "/health%2F"))
    assert response["statusCode"] == 404
    assert "a stored line" not in response["body"]


def test_the_prefixes_are_the_routes_first_segments() -> None:
    """The JSON prefixes come from the route table, and every route's nearest route is itself."""
    assert {"health", "openapi.json", "messages", "models", "predict", "jobs"} == JSON_PREFIXES
    assert all(nearest_route(route.method, route.path.replace("{", "").replace("}", "")) == route for route in ROUTES)


def test_a_huge_mistyped_path_is_not_echoed_whole(invoke: Invoke) -> None:
    """A 100 KB path under /messages gets a small 404."""
    response = invoke(http_event("GET", "/messages/" + "x" * 100_000))
    assert response["statusCode"] == 404 and len(response["body"]) < 500
