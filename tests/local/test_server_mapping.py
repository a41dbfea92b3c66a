"""The local API over real HTTP with the toy handler: the events it sends and the responses it maps."""

from __future__ import annotations

import base64
import http.client
import json
import re
import shutil
import socket
import uuid
from pathlib import Path
from typing import Any

import pytest

from local.events import GATEWAY_BODY_LIMIT
from testing.local_stack import OLD_README_GET, OLD_README_POST, Running, call, run_curl


def echoed(server: Running, method: str, target: str, body: bytes = b"", headers: Any = None) -> dict[str, Any]:
    reply = call(server.url, method, target, body, headers=headers)
    assert reply.status == 200, reply.body
    result: dict[str, Any] = json.loads(reply.body)
    assert result["event"]["requestContext"]["requestId"] == reply.header("apigw-requestid")
    return result


def test_event_for_an_explicit_route(toy_server: Running) -> None:
    """A request on a route of the table becomes a payload-2.0 event with that routeKey and its path parameters."""
    # GIVEN repeated headers and query keys, two cookie headers, a JSON body, an encoded path segment
    headers = [
        ("Content-Type", "application/json"),
        ("X-Repeated", "one"),
        ("X-Repeated", "two"),
        ("Cookie", "session=abc; theme=dark"),
        ("Cookie", "third=3"),
        ("User-Agent", "local-test/1.0"),
    ]
    # WHEN it is sent to the local API
    result = echoed(toy_server, "POST", "/models/my%20model/predict?b=1&a=x&a=y&c=%20z", b'{"inputs": []}', headers)
    event = result["event"]
    # THEN the event is shaped as API Gateway shapes it
    assert event["version"] == "2.0"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "POST /models/{name}/predict"
    assert event["pathParameters"] == {"name": "my%20model"}
    assert event["rawPath"] == "/models/my%20model/predict"
    assert event["rawQueryString"] == "b=1&a=x&a=y&c=%20z"
    assert event["queryStringParameters"] == {"a": "x,y", "b": "1", "c": " z"}
    assert event["cookies"] == ["session=abc", "theme=dark", "third=3"]
    assert "cookie" not in event["headers"]
    assert all(name == name.lower() for name in event["headers"])
    assert event["headers"]["x-repeated"] == "one,two"
    assert event["headers"]["content-type"] == "application/json"
    assert event["body"] == '{"inputs": []}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"] == {
        "method": "POST",
        "path": "/models/my%20model/predict",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "local-test/1.0",
    }
    assert context["stage"] == "$default"
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", context["time"])
    assert isinstance(context["timeEpoch"], int)
    # AND the function sees Lambda's own request id and the data folder
    assert str(uuid.UUID(result["aws_request_id"])) == result["aws_request_id"]
    assert Path(result["data_dir"]).name == "data"
    assert isinstance(result["remaining_ms"], int) and result["remaining_ms"] <= 1000


def test_event_for_the_default_route(toy_server: Running) -> None:
    """Any other path gets routeKey $default and no body, query, cookies or path parameters."""
    event = echoed(toy_server, "GET", "/")["event"]
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/"
    assert event["rawQueryString"] == ""
    for absent in ("body", "pathParameters", "queryStringParameters", "cookies"):
        assert absent not in event
    assert event["isBase64Encoded"] is False


def test_explicit_route_needs_its_method(toy_server: Running) -> None:
    """A route's path with another method is not that route: it goes to $default, as on API Gateway."""
    assert echoed(toy_server, "DELETE", "/messages")["event"]["routeKey"] == "$default"
    assert echoed(toy_server, "GET", "/messages?limit=2")["event"]["routeKey"] == "GET /messages"


@pytest.mark.parametrize(
    ("content_type", "body", "as_text"),
    [
        ("application/octet-stream", b"\x00\xff\x10binary", False),
        ("image/png", b"\x89PNG\r\n", False),
        ("application/x-www-form-urlencoded", b"a=1&b=2", False),
        ("text/plain; charset=utf-8", "h\u00e9llo".encode(), True),
        ("text/plain", b"\xff\xfe not utf-8", False),
        ("application/json", b'{"a": 1}', True),
        ("application/problem+json", b'{"a": 1}', True),
    ],
)
def test_binary_bodies_arrive_base64(toy_server: Running, content_type: str, body: bytes, as_text: bool) -> None:
    """Text media types in UTF-8 pass as text; every other body arrives base64-encoded."""
    event = echoed(toy_server, "POST", "/upload", body, [("Content-Type", content_type)])["event"]
    assert event["isBase64Encoded"] is (not as_text)
    received = event["body"].encode() if as_text else base64.b64decode(event["body"])
    assert received == body


def test_full_response_is_mapped(toy_server: Running) -> None:
    """statusCode, headers, cookies and a base64 body come back as status, headers, Set-Cookie lines and bytes."""
    reply = call(toy_server.url, "GET", "/toy/full")
    assert reply.status == 418
    assert reply.header("content-type") == "image/png"
    assert reply.header("x-custom") == "yes"
    assert reply.header("x-number") == "7"
    assert reply.all("set-cookie") == ["a=1; Path=/", "b=2; HttpOnly"]
    assert reply.body == b"\x89PNG\x00\xff"
    assert reply.all("content-length") == [str(len(reply.body))]


def test_result_without_status_code(toy_server: Running) -> None:
    """A result without statusCode is sent as a 200 application/json body, a bare string as itself."""
    reply = call(toy_server.url, "GET", "/toy/no-status")
    assert (reply.status, reply.header("content-type")) == (200, "application/json")
    assert json.loads(reply.body) == {"message": "Hello from Lambda!", "n": 1}
    reply = call(toy_server.url, "GET", "/toy/string")
    assert (reply.status, reply.header("content-type")) == (200, "application/json")
    assert reply.body == b"Hello from Lambda!"


@pytest.mark.parametrize("path", ["/toy/malformed", "/toy/unserialisable", "/toy/fail"])
def test_function_errors_give_500(toy_server: Running, path: str) -> None:
    """A malformed or unmarshallable result, or an exception, is API Gateway's 500 Internal Server Error."""
    reply = call(toy_server.url, "GET", path)
    assert reply.status == 500
    assert json.loads(reply.body) == {"message": "Internal Server Error"}
    assert call(toy_server.url, "GET", "/toy/string").status == 200


def test_head_sends_no_body(toy_server: Running) -> None:
    """HEAD reaches the function but the response carries headers only."""
    reply = call(toy_server.url, "HEAD", "/")
    assert reply.status == 200
    assert reply.body == b""


def test_chunked_body_reaches_the_function_reassembled(toy_server: Running) -> None:
    """A chunked upload (no Content-Length) arrives in the event as one body, chunk framing removed."""
    host, port = toy_server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        chunks = iter([b'{"text": ', b'"in three ', b'chunks"}'])
        connection.request("POST", "/", body=chunks, headers={"Content-Type": "application/json"}, encode_chunked=True)
        response = connection.getresponse()
        status, body = response.status, response.read()
    finally:
        connection.close()
    assert status == 200, body
    event = json.loads(body)["event"]
    assert event["body"] == '{"text": "in three chunks"}'
    assert event["isBase64Encoded"] is False


def raw_exchange(server: Running, request: bytes) -> tuple[str, bytes]:
    """Send ``request`` as bytes on a fresh connection; the status line and the body of the answer."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as client:
        client.sendall(request)
        reply = client.makefile("rb").read()  # the server closes the connection after each of these answers
    head, _, body = reply.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0].decode(), body


@pytest.mark.parametrize(
    ("framing", "reason"),
    [
        (b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", "a chunk size that is not hex"),
        (b"Transfer-Encoding: chunked\r\n\r\n5\r\nabcdefgh\r\n0\r\n\r\n", "a chunk longer than its size"),
        (b"Transfer-Encoding: gzip\r\n\r\n", "a transfer coding other than chunked"),
    ],
)
def test_broken_chunked_framing_gets_a_json_400(toy_server: Running, framing: bytes, reason: str) -> None:
    """A request whose body framing is broken gets API Gateway's JSON 400, never reaching the function."""
    status, body = raw_exchange(toy_server, b"POST / HTTP/1.1\r\nHost: local\r\n" + framing)
    assert status == "HTTP/1.1 400 Bad Request", reason
    assert json.loads(body) == {"message": "Bad Request"}


def test_unknown_method_gets_json_not_an_html_page(toy_server: Running) -> None:
    """curl -X FOO gets a JSON 501, as every answer of the gateway is JSON."""
    reply = call(toy_server.url, "FOO", "/")
    assert reply.status == 501
    assert reply.header("content-type") == "application/json"
    assert json.loads(reply.body) == {"message": "Not Implemented"}


def test_malformed_request_line_gets_json(toy_server: Running) -> None:
    """A request line http.server cannot parse is answered with JSON too."""
    status, body = raw_exchange(toy_server, b"GET / HTTP/9.9\r\nHost: local\r\n\r\n")
    assert status.startswith("HTTP/1.1 505")
    assert json.loads(body) == {"message": "HTTP Version Not Supported"}


def test_worker_cold_start_is_logged(toy_server: Running) -> None:
    """Each worker logs its init, and its first REPORT line carries an Init Duration, as Lambda does."""
    call(toy_server.url, "GET", "/")
    log = toy_server.log()
    assert log.count("INIT_START") >= 2
    assert re.search(r"REPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms\t.*Init Duration: [\d.]+ ms", log)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_old_readme_curl_lines_reach_the_function(toy_server: Running) -> None:
    """The old README's curl lines arrive as POST and GET events on $default, the posted body as text."""
    posted = json.loads(run_curl(OLD_README_POST, toy_server.port))["event"]
    listed = json.loads(run_curl(OLD_README_GET, toy_server.port))["event"]
    assert (posted["requestContext"]["http"]["method"], posted["routeKey"]) == ("POST", "$default")
    assert (posted["body"], posted["isBase64Encoded"]) == ("Hello World", False)
    assert (listed["requestContext"]["http"]["method"], listed["routeKey"]) == ("GET", "$default")
    assert "body" not in listed


def test_chunked_body_over_the_gateway_limit_gets_413(toy_server: Running) -> None:
    """A chunk that would take the body past API Gateway's 10 MB is refused with its 413, before it is read."""
    too_big = format(GATEWAY_BODY_LIMIT + 1, "x").encode()
    status, body = raw_exchange(
        toy_server, b"POST / HTTP/1.1\r\nHost: local\r\nTransfer-Encoding: chunked\r\n\r\n" + too_big + b"\r\n"
    )
    assert status == "HTTP/1.1 413 Request Entity Too Large"
    assert json.loads(body) == {"message": "Request Entity Too Large"}
