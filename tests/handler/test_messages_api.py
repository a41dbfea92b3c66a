"""The JSON messages API through real payload-2.0 events."""

from __future__ import annotations

import re

import pytest

from testing.api_events import http_event, json_event
from tests.handler.conftest import Invoke, body_json

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_post_json_message_returns_201_with_id_text_and_utc_timestamp(invoke: Invoke) -> None:
    """POST /messages with JSON stores the text and answers 201 with id, text and an ISO-8601 UTC time."""
    # GIVEN an empty store WHEN a JSON message is posted
    response = invoke(json_event("POST", "/messages", {"text": "hello"}))
    # THEN it is stored and echoed back
    assert response["statusCode"] == 201
    message = body_json(response)
    assert message["id"] == 0
    assert message["text"] == "hello"
    assert ISO_UTC.match(message["created_at"])


def test_post_text_plain_and_base64_bodies_are_stored(invoke: Invoke) -> None:
    """text/plain bodies are accepted, including base64-encoded ones with a charset parameter."""
    plain = invoke(http_event("POST", "/messages", "plain text", headers={"content-type": "text/plain"}))
    encoded = invoke(
        http_event(
            "POST", "/messages", "grüße", headers={"content-type": "text/plain; charset=UTF-8"}, base64_body=True
        )
    )
    assert plain["statusCode"] == encoded["statusCode"] == 201
    assert body_json(encoded)["text"] == "grüße"


def test_get_messages_lists_newest_first_and_pages_with_cursor(invoke: Invoke) -> None:
    """GET /messages pages newest first; the cursor never skips or repeats while new messages arrive."""
    for index in range(5):
        invoke(json_event("POST", "/messages", {"text": f"m{index}"}))
    first = body_json(invoke(http_event("GET", "/messages", query="limit=2")))
    assert [item["text"] for item in first["items"]] == ["m4", "m3"]
    # WHEN a new message arrives between pages
    invoke(json_event("POST", "/messages", {"text": "late"}))
    second = body_json(invoke(http_event("GET", "/messages", query=f"limit=2&cursor={first['next_cursor']}")))
    third = body_json(invoke(http_event("GET", "/messages", query=f"limit=2&cursor={second['next_cursor']}")))
    # THEN the older pages carry on exactly where the first stopped
    assert [item["text"] for item in second["items"]] == ["m2", "m1"]
    assert [item["text"] for item in third["items"]] == ["m0"]
    assert third["next_cursor"] is None


def test_get_messages_on_empty_store_is_an_empty_page(invoke: Invoke) -> None:
    """An empty store answers 200 with no items and no cursor."""
    response = invoke(http_event("GET", "/messages"))
    assert response["statusCode"] == 200
    assert body_json(response) == {"items": [], "next_cursor": None}


def test_default_page_size_is_50(invoke: Invoke) -> None:
    """Without a limit, a page holds 50 messages."""
    for index in range(55):
        invoke(json_event("POST", "/messages", {"text": f"m{index}"}))
    page = body_json(invoke(http_event("GET", "/messages")))
    assert len(page["items"]) == 50
    assert page["next_cursor"] is not None


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("limit=0", "invalid_limit"),
        ("limit=501", "invalid_limit"),
        ("limit=abc", "invalid_limit"),
        ("limit=5&limit=6", "invalid_limit"),
        ("cursor=not-a-cursor", "invalid_cursor"),
        ("cursor=djE6OTk5", "invalid_cursor"),  # a well-formed cursor past the end of the store
        ("cursor=", "invalid_cursor"),
    ],
)
def test_bad_limit_or_cursor_is_a_400(invoke: Invoke, query: str, code: str) -> None:
    """A bad limit or cursor answers 400 with a JSON error naming the problem."""
    invoke(json_event("POST", "/messages", {"text": "one"}))
    response = invoke(http_event("GET", "/messages", query=query))
    assert response["statusCode"] == 400
    assert body_json(response)["error"]["code"] == code


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ("{not json", {"content-type": "application/json"}, 400, "invalid_json"),
        ("[1, 2]", {"content-type": "application/json"}, 400, "invalid_json"),
        ("{}", {"content-type": "application/json"}, 400, "invalid_text"),
        ('{"text": ""}', {"content-type": "application/json"}, 400, "invalid_text"),
        ('{"text": "   "}', {"content-type": "application/json"}, 400, "invalid_text"),
        ('{"text": 42}', {"content-type": "application/json"}, 400, "invalid_text"),
        ('{"text": null}', {"content-type": "application/json"}, 400, "invalid_text"),
        ('{"text": "' + "x" * 65 + '"}', {"content-type": "application/json"}, 413, "text_too_large"),
        ("hello", {"content-type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
        ("hello", {}, 415, "unsupported_media_type"),
        ("hello", {"content-type": "text/plain; charset=latin-1"}, 415, "unsupported_charset"),
        ("", {"content-type": "text/plain"}, 400, "invalid_text"),
    ],
)
def test_bad_message_input_is_a_4xx_and_nothing_is_stored(
    invoke: Invoke, body: str, headers: dict[str, str], status: int, code: str
) -> None:
    """Malformed, empty, non-string, oversized or wrongly typed input gets a JSON 4xx and stores nothing."""
    event = http_event("POST", "/messages", body, headers=headers)
    response = invoke(event)
    assert response["statusCode"] == status
    assert body_json(response)["error"]["code"] == code
    assert body_json(invoke(http_event("GET", "/messages")))["items"] == []


def test_invalid_utf8_and_invalid_base64_are_400(invoke: Invoke) -> None:
    """Bytes that are not UTF-8, or a body flagged base64 that is not, are rejected with 400."""
    not_utf8 = invoke(http_event("POST", "/messages", b"\xff\xfe", headers={"content-type": "text/plain"}))
    event = http_event("POST", "/messages", "x", headers={"content-type": "text/plain"})
    event["body"], event["isBase64Encoded"] = "***", True
    bad_base64 = invoke(event)
    assert body_json(not_utf8)["error"]["code"] == "invalid_encoding"
    assert body_json(bad_base64)["error"]["code"] == "invalid_body"
