"""The dispatcher on its own: events become requests, the route table picks the operation (with its path
parameters), other paths go to the fallback, errors to one handler, and responses have API Gateway's shape."""

from __future__ import annotations

import json

import pytest

from inference.api.dispatch import Dispatcher, Operation, Request, Response, json_response
from inference.routes import ROUTES
from testing.api_events import http_event


def _echo(name: str) -> Operation:
    def operation(request: Request, **params: str) -> Response:
        return json_response(200, {"operation": name, "params": params, "method": request.method})

    return operation


def _dispatcher() -> Dispatcher:
    def failed(request: Request, error: Exception) -> Response:
        return json_response(599, {"error": type(error).__name__, "path": request.path})

    operations = {route.operation_id: _echo(route.operation_id) for route in ROUTES}
    return Dispatcher(operations, fallback=lambda request: Response(200, "legacy", "text/plain"), on_error=failed)


def test_request_from_an_api_gateway_event() -> None:
    """Method (upper-cased), raw path, headers, query, request id and a base64 body come from the event."""
    event = http_event("post", "/models/a%2Fb/predict", b"\x00\x01", query="x=1")
    request = Request.from_event(event)
    assert (request.method, request.path, request.query) == ("POST", "/models/a%2Fb/predict", {"x": "1"})
    assert request.request_id == event["requestContext"]["requestId"]
    assert request.body() == b"\x00\x01"


def test_routes_get_their_operation_with_path_parameters_still_encoded() -> None:
    """A route's operation gets the path parameters as API Gateway passed them; other paths get the fallback."""
    dispatcher = _dispatcher()
    result = dispatcher.dispatch(Request.from_event(http_event("POST", "/models/a%2Fb/predict"))).to_result()
    assert result["statusCode"] == 200
    assert json.loads(result["body"])["params"] == {"name": "a%2Fb"}
    legacy = dispatcher.dispatch(Request.from_event(http_event("GET", "/some/other/path"))).to_result()
    assert (legacy["body"], legacy["headers"]["Content-Type"]) == ("legacy", "text/plain")


def test_errors_go_to_the_error_handler() -> None:
    """An exception in an operation becomes the error handler's response."""

    def broken(request: Request) -> Response:
        raise RuntimeError("boom")

    operations = {route.operation_id: _echo(route.operation_id) for route in ROUTES} | {"health": broken}
    dispatcher = Dispatcher(operations, lambda r: Response(200, ""), lambda r, e: json_response(500, str(e)))
    result = dispatcher.dispatch(Request.from_event(http_event("GET", "/health"))).to_result()
    assert (result["statusCode"], result["body"]) == (500, '"boom"')


def test_every_route_needs_an_operation() -> None:
    """A route table row without an operation is refused when the dispatcher is built."""
    with pytest.raises(ValueError, match="list_models"):
        Dispatcher({}, lambda r: Response(200, ""), lambda r, e: Response(500, ""))


def test_result_shape_is_payload_2() -> None:
    """statusCode, body, isBase64Encoded, headers with Content-Type last, and no cookies."""
    result = Response(201, "{}", headers={"Allow": "GET"}).to_result()
    assert result == {
        "statusCode": 201,
        "body": "{}",
        "isBase64Encoded": False,
        "headers": {"Allow": "GET", "Content-Type": "application/json"},
        "cookies": [],
    }


def test_a_body_that_only_json_can_encode_still_answers() -> None:
    """orjson refuses lone surrogates and integers past 64 bits; such a body is encoded by json instead of failing."""
    body = {"text": "a \ud800 b", "count": 2**70}
    result = json_response(200, body).to_result()
    assert json.loads(result["body"]) == body


@pytest.mark.parametrize("path", ["/", "/messages", "/models/digits/predict", "/no/such/route"])
def test_a_cors_preflight_is_an_empty_204_on_any_path(path: str) -> None:
    """OPTIONS reaches the function only through the preflight routes of a stack with CORS: no operation runs."""
    result = _dispatcher().dispatch(Request.from_event(http_event("OPTIONS", path))).to_result()
    assert (result["statusCode"], result["body"]) == (204, "")
