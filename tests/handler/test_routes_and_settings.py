"""The route table, cursors and settings: plain functions, no events."""

from __future__ import annotations

import pytest

from inference.api import http_io
from inference.errors import BadRequest
from inference.routes import DEFAULT_ROUTE_KEY, ROUTE_KEYS, ROUTES, allowed_methods, match_route_key
from inference.settings import Settings


def test_route_keys_are_unique_and_end_with_default() -> None:
    """Every explicit route has its own key, and $default is last."""
    assert len(set(ROUTE_KEYS)) == len(ROUTE_KEYS) == len(ROUTES) + 1
    assert ROUTE_KEYS[-1] == DEFAULT_ROUTE_KEY


@pytest.mark.parametrize(
    ("method", "path", "key"),
    [
        ("POST", "/messages", "POST /messages"),
        ("GET", "/messages", "GET /messages"),
        ("POST", "/models/digits/predict", "POST /models/{name}/predict"),
        ("post", "/models/a%2Fb/predict", "POST /models/{name}/predict"),
        ("POST", "/models//predict", DEFAULT_ROUTE_KEY),
        ("PUT", "/messages", DEFAULT_ROUTE_KEY),
        ("GET", "/", DEFAULT_ROUTE_KEY),
    ],
)
def test_match_route_key(method: str, path: str, key: str) -> None:
    """Requests map to the route key API Gateway would report."""
    assert match_route_key(method, path) == key


def test_path_parameters_and_allowed_methods() -> None:
    """Path templates name their parameters; allowed methods come from the table."""
    predict = next(route for route in ROUTES if route.operation_id == "predict")
    assert predict.params == ("name",)
    assert allowed_methods("/messages") == ("POST", "GET")
    assert allowed_methods("/") == ()


def test_cursor_round_trip_and_rejects_forgeries() -> None:
    """A cursor decodes to what was encoded; anything else is a 400."""
    assert http_io.decode_cursor(http_io.encode_cursor(1234)) == 1234
    assert http_io.decode_cursor(None) is None
    for bad in ["", "!!!", "djI6MTI=", "djE6LTE"]:
        with pytest.raises(BadRequest):
            http_io.decode_cursor(bad)


def test_media_type_parses_case_and_charset() -> None:
    """Content types are matched case-insensitively, with their charset."""
    assert http_io.media_type({"Content-Type": 'Text/Plain; Charset="UTF-8"'}) == ("text/plain", "utf-8")
    assert http_io.media_type({}) == ("", None)


def test_settings_from_env_defaults_and_errors() -> None:
    """Settings default to the old app's mount path and reject bad numbers with the variable's name."""
    assert str(Settings.from_env({}).data_dir) == "/mnt/data"
    assert Settings.from_env({"MAX_TEXT_BYTES": "10"}).max_text_bytes == 10
    with pytest.raises(ValueError, match="MAX_TEXT_BYTES"):
        Settings.from_env({"MAX_TEXT_BYTES": "-1"})
    with pytest.raises(ValueError, match="MODEL_REFRESH_SECONDS"):
        Settings.from_env({"MODEL_REFRESH_SECONDS": "soon"})


def test_message_retention_defaults_to_forever() -> None:
    """Without MESSAGE_RETENTION_DAYS messages are kept forever; a set value must be a positive number."""
    assert Settings.from_env({}).message_retention_days is None
    assert Settings.from_env({"MESSAGE_RETENTION_DAYS": "30"}).message_retention_days == 30
    with pytest.raises(ValueError, match="MESSAGE_RETENTION_DAYS"):
        Settings.from_env({"MESSAGE_RETENTION_DAYS": "-3"})
