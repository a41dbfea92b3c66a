"""The UI tasks' role may invoke exactly the routes the UI's clients call: read from the clients' own calls and
matched against the route table, never a second list written by hand."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest

from inference.routes import ROUTES, Route
from infra.ui.api_routes import UnknownRouteCall, calls_in, invoke_arn, routes_called
from ui.api_client import ApiClient, ApiError
from ui.job_client import JobClient


class RecordingSession:
    """Stands in for requests.Session: records each request and answers 404 job_not_found."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.auth = None

    def request(self, method: str, url: str, **_: Any) -> Any:
        self.requests.append((method, url.removeprefix("http://api.test")))
        return _NotFound()


class _NotFound:
    status_code = 404

    def json(self) -> Any:
        return {"error": {"code": "job_not_found", "message": "no such job"}}


def _every_call(client: ApiClient) -> None:
    jobs = JobClient(client)
    for call in (
        client.health,
        lambda: client.post_message("hi"),
        lambda: client.list_messages(10, "c"),
        client.list_models,
        lambda: client.predict("digits", [[0.0] * 64], "1"),
        jobs.available,
        lambda: jobs.submit("digits", [[0.0] * 64]),
        lambda: jobs.submit("digits", ["x" * 6_000_000]),  # over the inline limit: an upload first
        lambda: jobs.status("j" * 32),
    ):
        with contextlib.suppress(ApiError):
            call()


def test_every_request_the_ui_makes_is_a_route_its_role_may_invoke() -> None:
    """Each public method of the UI's API and job clients, driven through a recording session: every request is
    one of routes_called(), and every one of those is requested by some method."""
    client = ApiClient("http://api.test")
    session = RecordingSession()
    client._session = session  # type: ignore[assignment]
    _every_call(client)
    allowed = routes_called()
    unmatched = [(m, p) for m, p in session.requests if not any(route.match(m, p) is not None for route in ROUTES)]
    assert not unmatched
    requested = {route for route in ROUTES for m, p in session.requests if route.match(m, p) is not None}
    assert requested == set(allowed), sorted(route.route_key for route in requested ^ set(allowed))


def test_routes_the_ui_never_calls_are_not_granted() -> None:
    """The OpenAPI document, the default model's /predict and the old app's catch-all are not the UI's."""
    keys = {route.route_key for route in routes_called()}
    assert keys.isdisjoint({"GET /openapi.json", "POST /predict", "$default"})
    assert "POST /models/{name}/predict" in keys and "GET /health" in keys


def test_a_route_arn_names_its_method_and_path_with_parameters_as_wildcards() -> None:
    """arn/*/METHOD/path on any stage; a path parameter is one `*`."""
    predict = next(route for route in ROUTES if route.operation_id == "predict")
    assert invoke_arn("arn:aws:execute-api:eu-central-1:1:abc", predict) == (
        "arn:aws:execute-api:eu-central-1:1:abc/*/POST/models/*/predict"
    )


def test_a_client_call_that_no_route_serves_is_refused() -> None:
    """A client calling a path outside the route table, or a path that is not a literal, stops the program."""
    assert calls_in('c._call("GET", f"/jobs/{x}")', "c.py") == [("GET", "/jobs/x")]
    with pytest.raises(UnknownRouteCall, match="must be a string or an f-string"):
        calls_in('c._call("GET", path)', "c.py")
    source = 'class C:\n    def f(self):\n        return self._call("DELETE", "/messages")\n'
    with pytest.raises(UnknownRouteCall, match="DELETE /messages, which no route of the API serves"):
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as folder:
            client = Path(folder) / "client.py"
            client.write_text(source)
            routes_called([client])


def test_the_policy_is_valid_json_of_route_arns() -> None:
    """The statement lists one ARN per route called, all under the one API."""
    statement = {"Resource": [invoke_arn("arn:api", route) for route in routes_called()]}
    assert all(arn.startswith("arn:api/*/") for arn in json.loads(json.dumps(statement))["Resource"])
    assert len(statement["Resource"]) == len(routes_called()) < len(ROUTES)
    assert all(isinstance(route, Route) for route in routes_called())
