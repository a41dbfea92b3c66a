"""The old CDK app's contract on every other path, so its README's curl lines keep working."""

from __future__ import annotations

import re

import pytest

from testing.api_events import http_event, json_event
from tests.handler.conftest import Invoke, body_json

LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d: (.*)$")


def test_old_readme_post_stores_a_timestamped_line_and_lists_them(invoke: Invoke) -> None:
    """curl -X POST URL -H 'Content-Type: application/json' --data-raw 'Hello World' stores the raw body."""
    response = invoke(http_event("POST", "/", "Hello World", headers={"content-type": "application/json"}))
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("text/plain")
    lines = response["body"].splitlines()
    assert len(lines) == 1
    found = LINE.match(lines[0])
    assert found and found.group(1) == "Hello World"


def test_old_readme_get_lists_lines_oldest_first(invoke: Invoke) -> None:
    """GET on any other path lists the stored lines, oldest first."""
    invoke(http_event("POST", "/", "first", headers={"content-type": "application/json"}))
    invoke(http_event("POST", "/anything/else", "second"))
    response = invoke(http_event("GET", "/", ""))
    assert response["statusCode"] == 200
    texts = [LINE.match(line).group(1) for line in response["body"].splitlines()]  # type: ignore[union-attr]
    assert texts == ["first", "second"]


def test_get_on_an_empty_store_says_no_message_yet(invoke: Invoke) -> None:
    """With nothing stored, GET answers the old app's 'No message yet.'."""
    response = invoke(http_event("GET", "/"))
    assert response["statusCode"] == 200
    assert response["body"] == "No message yet."


@pytest.mark.parametrize("body", [None, "", "  "])
def test_absent_or_empty_body_is_stored_as_no_input(invoke: Invoke, body: str | None) -> None:
    """An absent or empty body is stored as 'No Input', as the old app did."""
    response = invoke(http_event("POST", "/", body))
    assert LINE.match(response["body"].splitlines()[-1]).group(1) == "No Input"  # type: ignore[union-attr]


def test_base64_body_is_decoded(invoke: Invoke) -> None:
    """A base64-encoded body (as API Gateway sends binary types) is stored decoded."""
    response = invoke(http_event("POST", "/", "Hello Base64", base64_body=True))
    assert response["body"].rstrip("\n").endswith(": Hello Base64")


def test_listing_is_bounded_to_the_most_recent_lines(invoke: Invoke) -> None:
    """The listing holds at most LEGACY_LISTING_LINES lines (5 in these tests), the most recent ones."""
    for index in range(8):
        invoke(http_event("POST", "/", f"line {index}"))
    lines = invoke(http_event("GET", "/"))["body"].splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [f"line {index}" for index in range(3, 8)]


def test_json_api_and_old_listing_share_one_store(invoke: Invoke) -> None:
    """Messages from either API appear in both: one store, one file layout."""
    invoke(json_event("POST", "/messages", {"text": "from json"}))
    invoke(http_event("POST", "/", "from curl"))
    listing = invoke(http_event("GET", "/"))["body"]
    page = body_json(invoke(http_event("GET", "/messages")))
    assert "from json" in listing and "from curl" in listing
    assert [item["text"] for item in page["items"]] == ["from curl", "from json"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "HEAD"])
def test_other_methods_get_405(invoke: Invoke, method: str) -> None:
    """Methods other than GET and POST get 405 with a JSON error and an Allow header."""
    response = invoke(http_event(method, "/"))
    assert response["statusCode"] == 405
    assert body_json(response)["error"]["code"] == "method_not_allowed"
    assert response["headers"]["Allow"] == "GET, POST"


def test_wrong_method_on_a_json_route_gets_405_not_the_listing(invoke: Invoke) -> None:
    """GET /predict is a known path with the wrong method: 405 naming POST, not the old listing."""
    response = invoke(http_event("GET", "/predict"))
    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == "POST"


def test_oversized_or_invalid_legacy_body_is_a_4xx_and_not_stored(invoke: Invoke) -> None:
    """A body over the text limit gets 413 and one that is not UTF-8 gets 400; neither is stored."""
    too_big = invoke(http_event("POST", "/", "x" * 65))
    not_utf8 = invoke(http_event("POST", "/", b"\xc3\x28"))
    assert too_big["statusCode"] == 413 and not_utf8["statusCode"] == 400
    assert invoke(http_event("GET", "/"))["body"] == "No message yet."


def test_a_multi_line_message_stays_one_line_in_the_listing(invoke: Invoke) -> None:
    """A message with line breaks is listed on one line, each break written as \\n; GET /messages keeps it as typed."""
    invoke(json_event("POST", "/messages", {"text": "first line\nsecond line\r\nthird"}))
    lines = invoke(http_event("GET", "/"))["body"].splitlines()
    assert len(lines) == 1
    assert LINE.match(lines[0]).group(1) == "first line\\nsecond line\\r\\nthird"  # type: ignore[union-attr]
    assert body_json(invoke(http_event("GET", "/messages")))["items"][0]["text"] == "first line\nsecond line\r\nthird"
