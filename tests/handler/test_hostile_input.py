"""Inputs crafted to break the parser or the response size still get a 4xx, or a complete 200."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sklearn.datasets import load_digits

from inference.api import http_io
from inference.models.json_bounds import CHEAP_TO_PARSE_BYTES
from testing.api_events import http_event, json_event
from tests.handler.conftest import Invoke, body_json
from tests.models.factory import digit_png


def _post_json(invoke: Invoke, path: str, raw: str) -> dict[str, Any]:
    return invoke(http_event("POST", path, raw, headers={"content-type": "application/json"}))


@pytest.mark.parametrize("path", ["/messages", "/predict"])
@pytest.mark.parametrize(
    "raw",
    [
        '{"text": ' + "[" * 5000 + "]" * 5000 + "}",  # deeper than Python's recursion limit
        '{"inputs": [[' + "9" * 5000 + "]]}",  # over Python's 4,300-digit integer limit
    ],
)
def test_parser_limits_are_400_not_500(invoke: Invoke, path: str, raw: str) -> None:
    """JSON nested too deeply, or with an integer too long to read, answers 400 invalid_json."""
    response = _post_json(invoke, path, raw)
    assert response["statusCode"] == 400
    assert body_json(response)["error"]["code"] == "invalid_json"


def test_lone_surrogate_text_is_400(invoke: Invoke) -> None:
    """A JSON string holding a lone surrogate is not storable text: 400 invalid_text, nothing stored."""
    response = _post_json(invoke, "/messages", '{"text": "\\ud800"}')
    assert response["statusCode"] == 400
    assert body_json(response)["error"]["code"] == "invalid_text"
    assert body_json(invoke(http_event("GET", "/messages")))["items"] == []


@pytest.mark.parametrize("field", ["version", "name"])
def test_huge_version_or_name_gets_a_small_400(invoke: Invoke, field: str) -> None:
    """An enormous version or model name is refused without echoing it back."""
    huge = "\u0378" * 200_000
    if field == "version":
        response = invoke(json_event("POST", "/predict", {"inputs": [[0.0] * 64], "version": huge}))
    else:
        response = invoke(json_event("POST", f"/models/{huge}/predict", {"inputs": [[0.0] * 64]}))
    assert response["statusCode"] == 400
    assert len(response["body"]) < 2_000


@pytest.mark.parametrize("query", ["limit=1_0", "limit=%EF%BC%95", "limit=+5", "limit=%205"])
def test_limit_takes_plain_digits_only(invoke: Invoke, query: str) -> None:
    """Only plain ASCII digits make a limit; underscores, signs, spaces and full-width digits are 400."""
    response = invoke(http_event("GET", "/messages", query=query))
    assert response["statusCode"] == 400


def test_cursor_with_trailing_junk_is_400(invoke: Invoke) -> None:
    """A cursor is accepted only exactly as the API issued it."""
    for index in range(3):
        invoke(json_event("POST", "/messages", {"text": f"m{index}"}))
    cursor = body_json(invoke(http_event("GET", "/messages", query="limit=1")))["next_cursor"]
    response = invoke(http_event("GET", "/messages", query=f"cursor={cursor}%00"))
    assert response["statusCode"] == 400


def test_predict_refuses_a_charset_other_than_utf8(invoke: Invoke) -> None:
    """/predict, like /messages, answers 415 for JSON declared in another charset."""
    response = invoke(
        http_event(
            "POST", "/predict", '{"inputs": [[0]]}', headers={"content-type": "application/json; charset=latin-1"}
        )
    )
    assert response["statusCode"] == 415


def test_pages_stop_short_of_the_lambda_result_limit(
    invoke: Invoke, handler_module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page that would outgrow the result budget is cut short, and its cursor resumes with the next message."""
    monkeypatch.setattr(handler_module, "RESPONSE_BUDGET_BYTES", 1_000)
    texts = [f"{index:02d}" + "\u00e9" * 20 for index in range(12)]
    for text in texts:
        invoke(json_event("POST", "/messages", {"text": text}))
    seen: list[str] = []
    cursor = None
    while True:
        query = "limit=500" + (f"&cursor={cursor}" if cursor else "")
        page = body_json(invoke(http_event("GET", "/messages", query=query)))
        assert 1 <= len(page["items"]) < 12
        seen += [item["text"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == texts[::-1]


def test_old_listing_keeps_the_newest_lines_within_the_budget(
    invoke: Invoke, handler_module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old app's listing drops its oldest lines, not its newest, when it would outgrow the budget."""
    monkeypatch.setattr(handler_module, "RESPONSE_BUDGET_BYTES", 250)
    for index in range(5):
        invoke(http_event("POST", "/", f"line {index} " + "x" * 40))
    lines = invoke(http_event("GET", "/"))["body"].splitlines()
    assert 1 <= len(lines) < 5
    assert lines[-1].split(": ", 1)[1].startswith("line 4 ")
    assert len(json.dumps(json.dumps("\n".join(lines)))) <= 250


def _refuse_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the body was parsed")

    monkeypatch.setattr(http_io, "parse_json_object", refuse)


def test_a_message_body_too_large_for_any_acceptable_text_is_413_unparsed(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A JSON message body longer than its text could be, escaped, is refused before parsing: 6 MB of [[]], beside
    a short text cost some 200 MB to parse."""
    _refuse_parsing(monkeypatch)
    body = '{"text": "hi", "x": [' + "[[]]," * 20_000 + "[]]}"
    response = _post_json(invoke, "/messages", body)
    assert response["statusCode"] == 413 and body_json(response)["error"]["code"] == "text_too_large"


def test_a_predict_body_holding_more_than_a_batch_can_is_refused_unparsed(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lists, strings or values beyond what the model's largest batch holds are counted on the raw bytes and refused
    with the bound named, before json.loads builds an object for each of them."""
    _refuse_parsing(monkeypatch)
    for body in ('{"inputs": [' + "[[]]," * 20_000 + "[]]}", '{"inputs": [' + '"ab",' * 20_000 + '"ab"]}'):
        response = _post_json(invoke, "/models/digits/predict", body)
        assert response["statusCode"] == 400, response["body"]
        error = body_json(response)["error"]
        assert error["code"] == "invalid_input" and "a batch for model 'digits' holds at most" in error["message"]


def test_honest_predict_bodies_over_the_cheap_size_pass_the_bound(invoke: Invoke) -> None:
    """A full batch of rows, and a picture as base64, are larger than what is parsed unchecked and still answered."""
    rows = json.dumps({"inputs": [[float(value % 17) for value in range(64)]] * 256})
    picture = base64.b64encode(digit_png(load_digits().images[0], side=1000, image_format="JPEG")).decode()
    for body in (rows, json.dumps({"inputs": [{"image": picture}] * 2})):
        assert len(body) > CHEAP_TO_PARSE_BYTES
        response = _post_json(invoke, "/models/digits/predict", body)
        assert response["statusCode"] == 200, response["body"][:300]
