"""local.events on plain values: the request-to-event and result-to-response rules, without a server."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from local.events import HttpRequest, InvalidResponse, build_event, gateway_error, http_response, is_text_media_type

NOW = datetime(2020, 3, 12, 19, 3, 58, 390000, tzinfo=UTC)


def request(target: str = "/", headers: list[tuple[str, str]] | None = None, body: bytes = b"") -> HttpRequest:
    return HttpRequest("get", target, headers or [], body, "10.0.0.1", "HTTP/1.1", 8080)


def test_request_time_fields() -> None:
    """time is in API Gateway's CLF form with English month names, timeEpoch in milliseconds."""
    context = build_event(request(), "id", NOW)["requestContext"]
    assert context["time"] == "12/Mar/2020:19:03:58 +0000"
    assert context["timeEpoch"] == 1584039838390


def test_method_is_upper_cased_and_forwarding_headers_added() -> None:
    """The method is reported in capitals; x-forwarded-for appends the client to what a proxy sent."""
    event = build_event(request(headers=[("X-Forwarded-For", "203.0.113.9")]), "id", NOW)
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["headers"]["x-forwarded-for"] == "203.0.113.9, 10.0.0.1"
    assert event["headers"]["x-forwarded-port"] == "8080"
    assert event["headers"]["x-amzn-trace-id"].startswith("Root=1-5e6a879e-")


def test_route_without_parameters_has_no_path_parameters() -> None:
    """An explicit route with no {param} in it matches, but the event carries no pathParameters."""
    event = build_event(request("/health"), "id", NOW)
    assert event["routeKey"] == "GET /health"
    assert "pathParameters" not in event


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("text/csv", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/vnd.api+json", True),
        ("application/atom+xml", True),
        ("application/octet-stream", False),
        ("multipart/form-data; boundary=x", False),
        ("", False),
    ],
)
def test_text_media_types(content_type: str, text: bool) -> None:
    """text/*, JSON, XML and their +json/+xml kin are text; anything else, or no type, is binary."""
    assert is_text_media_type(content_type) is text


def test_body_without_content_type_is_base64() -> None:
    """A body sent with no content-type cannot be assumed to be text: it arrives base64-encoded."""
    event = build_event(request(body=b"plain"), "id", NOW)
    assert (event["isBase64Encoded"], base64.b64decode(event["body"])) == (True, b"plain")


def test_result_without_status_code_is_a_json_body() -> None:
    """A JSON value without statusCode becomes a 200 application/json response with that JSON as body."""
    for payload in ('{"a": 1}', "[1, 2]", "42", "null"):
        response = http_response(payload)
        assert (response.status, response.headers, response.body) == (
            200,
            [("content-type", "application/json")],
            payload.encode(),
        )


def test_proxy_response_without_body_or_headers() -> None:
    """Only a statusCode: that status, no headers of the function's, an empty body."""
    response = http_response('{"statusCode": 204}')
    assert (response.status, response.headers, response.body) == (204, [], b"")


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "200"},
        {"statusCode": True},
        {"statusCode": 99},
        {"statusCode": 200, "headers": ["a"]},
        {"statusCode": 200, "headers": {"a": {"b": 1}}},
        {"statusCode": 200, "cookies": "a=1"},
        {"statusCode": 200, "body": 5},
        {"statusCode": 200, "body": "%%%", "isBase64Encoded": True},
    ],
)
def test_malformed_proxy_responses_are_refused(result: dict[str, object]) -> None:
    """A response with a statusCode but malformed fields is refused (the server answers 500)."""
    with pytest.raises(InvalidResponse):
        http_response(json.dumps(result))


def test_gateway_errors_have_api_gateways_body() -> None:
    """Errors produced by the gateway itself carry {"message": ...} as JSON, as API Gateway's do."""
    response = gateway_error(503)
    assert response.status == 503
    assert response.headers == [("content-type", "application/json")]
    assert response.body == b'{"message":"Service Unavailable"}'
