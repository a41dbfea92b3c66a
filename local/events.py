"""API Gateway's HTTP API (Lambda proxy, payload format 2.0) on both sides of the Lambda call: an HTTP
request becomes the event API Gateway would send, and the function's result becomes the HTTP response
API Gateway would return. Pure functions on plain values; the server does the I/O.

Sources for each rule are listed in docs/LOCAL.md."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from inference.routes import DEFAULT_ROUTE_KEY, ROUTES, match_route_key

# Lambda rejects a synchronous invocation whose event is larger than this (6 MiB)...
REQUEST_PAYLOAD_LIMIT = 6 * 1024 * 1024
# ...and a function result larger than this (6 MiB + 100 bytes).
RESPONSE_PAYLOAD_LIMIT = REQUEST_PAYLOAD_LIMIT + 100
# The HTTP API's own payload quota: a body above it is refused without being read.
GATEWAY_BODY_LIMIT = 10 * 1024 * 1024

# The bodies API Gateway answers with when it, not the function, produces the response.
GATEWAY_MESSAGES = {
    400: "Bad Request",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

# Media types passed to the function as text; every other body arrives base64-encoded.
_TEXT_MEDIA_TYPES = frozenset({"application/json", "application/javascript", "application/xml"})
# The server sets these itself; a function's own values would contradict the body it sends.
_HOP_BY_HOP = frozenset({"connection", "content-length", "transfer-encoding", "keep-alive"})
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # the request target as sent: raw path plus an optional ?query
    headers: Headers  # in arrival order, repeats kept
    body: bytes
    source_ip: str
    protocol: str  # e.g. HTTP/1.1
    server_port: int


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Headers
    body: bytes


class InvalidResponse(ValueError):
    """The function returned a statusCode but the rest of the response is malformed: API Gateway answers 500."""


def new_request_id() -> str:
    """An id shaped like API Gateway's requestId (16 base64 characters)."""
    return base64.b64encode(secrets.token_bytes(11)).decode()


def payload_json(value: Any) -> str:
    """``value`` as the JSON Lambda carries: non-ASCII characters unescaped, as the Python 3.12 runtime marshals
    results (ensure_ascii=False); events are written the same way, since Lambda's limits count UTF-8 bytes."""
    return json.dumps(value, ensure_ascii=False)


def payload_size(payload: str) -> int:
    """A payload's size as Lambda's limits count it: its UTF-8 bytes ("€" is 3 bytes, not the 6 of "\\u20ac")."""
    return len(payload.encode("utf-8"))


def build_event(request: HttpRequest, request_id: str, now: datetime) -> dict[str, Any]:
    """The payload-2.0 event API Gateway sends the function for this request."""
    raw_path, _, raw_query = request.target.partition("?")
    headers, cookies = _event_headers(request, now)
    method = request.method.upper()
    route_key = match_route_key(method, raw_path)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get("host", "localhost"),
            "domainPrefix": headers.get("host", "localhost").split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": _clf_time(now),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    query = _query_parameters(raw_query)
    if query:
        event["queryStringParameters"] = query
    path_parameters = _path_parameters(route_key, method, raw_path)
    if path_parameters:
        event["pathParameters"] = path_parameters
    if request.body:
        event["body"], event["isBase64Encoded"] = _event_body(request.body, headers.get("content-type", ""))
    return event


def _event_headers(request: HttpRequest, now: datetime) -> tuple[dict[str, str], list[str]]:
    """Lowercased headers with repeats comma-joined, and the cookies taken out of them."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
        else:
            headers[key] = f"{headers[key]},{value}" if key in headers else value
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip
    headers["x-forwarded-port"] = str(request.server_port)
    headers["x-forwarded-proto"] = "http"
    headers["x-amzn-trace-id"] = f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}"
    return headers, cookies


def _query_parameters(raw_query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def _path_parameters(route_key: str, method: str, raw_path: str) -> dict[str, str] | None:
    if route_key == DEFAULT_ROUTE_KEY:
        return None
    route = next(route for route in ROUTES if route.route_key == route_key)
    return route.match(method, raw_path) or None


def _event_body(body: bytes, content_type: str) -> tuple[str, bool]:
    """(body, isBase64Encoded): text media types in UTF-8 pass as text, anything else as base64."""
    if is_text_media_type(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def is_text_media_type(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media.startswith("text/") or media in _TEXT_MEDIA_TYPES or media.endswith(("+json", "+xml"))


def _clf_time(now: datetime) -> str:
    """API Gateway's requestContext.time, e.g. 12/Mar/2020:19:03:58 +0000 (month names never localised)."""
    return f"{now:%d}/{_MONTHS[now.month - 1]}/{now:%Y:%H:%M:%S} +0000"


def http_response(payload: str) -> HttpResponse:
    """The response API Gateway builds from the function's JSON result (payload format 2.0)."""
    result = json.loads(payload)
    if not isinstance(result, dict) or "statusCode" not in result:
        # No statusCode: 200, application/json, and the function's output is the body.
        body = result if isinstance(result, str) else payload
        return HttpResponse(200, [("content-type", "application/json")], body.encode("utf-8"))
    return _proxy_response(result)


def _proxy_response(result: dict[str, Any]) -> HttpResponse:
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise InvalidResponse(f"statusCode must be an HTTP status code, got {status!r}")
    headers: Headers = [
        (name, value) for name, value in _header_items(result.get("headers")) if name.lower() not in _HOP_BY_HOP
    ]
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list) or not all(isinstance(cookie, str) for cookie in cookies):
        raise InvalidResponse("cookies must be a list of strings")
    headers.extend(("set-cookie", cookie) for cookie in cookies)
    return HttpResponse(status, headers, _response_body(result.get("body"), result.get("isBase64Encoded", False)))


def _header_items(headers: Any) -> Headers:
    if headers is None:
        return []
    if not isinstance(headers, dict):
        raise InvalidResponse("headers must be an object")
    items: Headers = []
    for name, value in headers.items():
        if isinstance(value, (dict, list)) or value is None:
            raise InvalidResponse(f"header {name!r} must be a string, number or boolean")
        items.append((name, value if isinstance(value, str) else json.dumps(value)))
    return items


def _response_body(body: Any, is_base64: Any) -> bytes:
    if body is None:
        return b""
    if not isinstance(body, str):
        raise InvalidResponse("body must be a string")
    if is_base64 is not True:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidResponse("isBase64Encoded is true but body is not valid base64") from None


def gateway_error(status: int) -> HttpResponse:
    """A response produced by API Gateway itself, e.g. 503 {"message":"Service Unavailable"}; a status without an
    observed text of its own (e.g. 501 for an unknown method) gets its standard reason phrase."""
    message = GATEWAY_MESSAGES.get(status) or HTTPStatus(status).phrase
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return HttpResponse(status, [("content-type", "application/json")], body)
