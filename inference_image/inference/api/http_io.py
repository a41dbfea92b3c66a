"""HTTP concerns shared by the routes: request bodies, content types, query parameters,
cursors and JSON responses. No Powertools here, so the rules are testable on plain values."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inference.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from inference.models.images import ImageBytes, image_content_types
from inference.models.json_bounds import CHEAP_TO_PARSE_BYTES
from inference.models.request_fields import check_fields, version_name

JSON_TYPE = "application/json"
# A JSON string escapes a character in at most 6 bytes (\u0000); an object around one field needs a few more.
JSON_ESCAPE_FACTOR = 6
JSON_ENVELOPE_BYTES = 1024
TEXT_TYPE = "text/plain"
_UTF8_CHARSETS = {"utf-8", "utf8", "us-ascii", "ascii"}
_CURSOR_PREFIX = "v1:"
_UTF8_BOM = b"\xef\xbb\xbf"
PREDICT_FIELDS = ("inputs", "version", "encoding_format")


def raw_body(body: str | None, is_base64: bool) -> bytes:
    """The request body as bytes, undoing API Gateway's base64 for binary payloads."""
    if not body:
        return b""
    if not is_base64:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("the request body is marked base64 but is not valid base64", "invalid_body") from None


def media_type(headers: Mapping[str, str]) -> tuple[str, str | None]:
    """(type, charset) of the content-type header, lowercased; ('', None) when absent."""
    header = next((value for key, value in headers.items() if key.lower() == "content-type"), "")
    kind, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset":
            charset = value.strip().strip('"').lower()
    return kind.strip().lower(), charset


def check_charset(charset: str | None) -> None:
    if charset is not None and charset not in _UTF8_CHARSETS:
        raise UnsupportedMediaType(f"charset {charset[:40]!r} is not supported; send UTF-8", "unsupported_charset")


def decode_text(data: bytes, charset: str | None = None) -> str:
    check_charset(charset)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the request body is not valid UTF-8 text", "invalid_encoding") from None


def parse_json_object(data: bytes) -> dict[str, Any]:
    """A JSON object from the body, or a 400 that says what is wrong."""
    # Some editors and Windows tools start UTF-8 files with a byte-order mark; it carries no content.
    data = data.removeprefix(_UTF8_BOM)
    if not data:
        raise BadRequest("the request body is empty; send a JSON object", "invalid_json")
    try:
        value = json.loads(decode_text(data))
    except json.JSONDecodeError as error:
        raise BadRequest(
            f"malformed JSON: {error.msg} at line {error.lineno} column {error.colno}", "invalid_json"
        ) from None
    except (ValueError, RecursionError):
        # Python's parser refuses integers over 4,300 digits and nesting deeper than its recursion limit.
        raise BadRequest(
            "the JSON body is nested too deeply or holds a number too long to read", "invalid_json"
        ) from None
    if not isinstance(value, dict):
        raise BadRequest("the JSON body must be an object", "invalid_json")
    return value


def require_json(headers: Mapping[str, str]) -> None:
    kind, charset = media_type(headers)
    if kind != JSON_TYPE:
        raise UnsupportedMediaType(
            f"content-type must be {JSON_TYPE}, got {kind[:80] or 'none'!r}", "unsupported_media_type"
        )
    check_charset(charset)


@dataclass(frozen=True)
class PredictRequest:
    inputs: object
    version: str | None
    encoding_format: str


def predict_request(
    headers: Mapping[str, str],
    data: bytes,
    params: Mapping[str, str] | None,
    check_json: Callable[[bytes], None],
) -> PredictRequest:
    """A predict call from a JSON body ``{"inputs", "version"?, "encoding_format"?}`` or from a raw PNG/JPEG
    body (one image; ``?version=`` pins a version). ``check_json`` sees a JSON body before it is parsed."""
    from inference.models.outputs import ENCODING_FLOAT, check_encoding

    kind, charset = media_type(headers)
    query_version = (params or {}).get("version")
    if kind in image_content_types():
        if not data:
            raise BadRequest(f"the request body is empty; send one {kind} image", "invalid_image")
        return PredictRequest([ImageBytes(data, kind)], query_version, ENCODING_FLOAT)
    if kind != JSON_TYPE:
        accepted = ", ".join((JSON_TYPE, *image_content_types()))
        raise UnsupportedMediaType(
            f"content-type must be one of {accepted}, got {kind[:80] or 'none'!r}", "unsupported_media_type"
        )
    check_charset(charset)
    check_json(data)
    request = parse_json_object(data)
    check_fields(request, PREDICT_FIELDS, "a predict body", " (the model is named in the path: /models/{name}/predict)")
    if "inputs" not in request:
        raise BadRequest('the JSON body needs an "inputs" field: a list of inputs', "invalid_input")
    version = version_name(request.get("version"))
    if version is not None and query_version is not None and version != query_version:
        raise BadRequest(
            f"the body asks for version {version!r} but the query for {query_version!r}", "invalid_version"
        )
    return PredictRequest(
        request["inputs"], version or query_version, check_encoding(request.get("encoding_format", ENCODING_FLOAT))
    )


def message_text(headers: Mapping[str, str], data: bytes, max_bytes: int) -> str:
    """The text of a new message from a JSON ``{"text": ...}`` or a text/plain body."""
    kind, charset = media_type(headers)
    if kind == JSON_TYPE:
        # Every character of the text escaped at worst as \u0000 (6 bytes each), and room for the object around it:
        # anything longer cannot hold an acceptable text, and parsing it could cost far more than its size.
        if len(data) > max(CHEAP_TO_PARSE_BYTES, JSON_ESCAPE_FACTOR * max_bytes + JSON_ENVELOPE_BYTES):
            raise PayloadTooLarge(f"the message text is over the limit of {max_bytes} bytes", "text_too_large")
        text = parse_json_object(data).get("text")
        if not isinstance(text, str):
            raise BadRequest('the JSON body needs a "text" field that is a string', "invalid_text")
    elif kind == TEXT_TYPE:
        text = decode_text(data, charset)
    else:
        raise UnsupportedMediaType(
            f"content-type must be {JSON_TYPE} or {TEXT_TYPE}, got {kind[:80] or 'none'!r}", "unsupported_media_type"
        )
    return checked_text(text, max_bytes)


def checked_text(text: str, max_bytes: int) -> str:
    if not text.strip():
        raise BadRequest("the message text is empty", "invalid_text")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise BadRequest("the message text is not valid Unicode (it holds a lone surrogate)", "invalid_text") from None
    if size > max_bytes:
        raise PayloadTooLarge(f"the message text is over the limit of {max_bytes} bytes", "text_too_large")
    return text


def int_param(params: Mapping[str, str] | None, name: str, default: int, low: int, high: int) -> int:
    raw = (params or {}).get(name)
    if raw is None:
        return default
    # Plain ASCII digits only: int() would also take "1_0", " 5" or full-width digits.
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else low - 1
    if not low <= value <= high:
        raise BadRequest(f"query parameter {name!r} must be an integer from {low} to {high}", f"invalid_{name}")
    return value


def count_within_budget(values: Sequence[Any], budget: int) -> int:
    """How many of ``values``, from the first, fit in ``budget`` bytes of a Lambda result (at least one).

    A response body is JSON inside the runtime's JSON result, so each value is escaped twice. It is counted
    as if both were json's ASCII escaping (the body itself is orjson's UTF-8 now, so this is an upper bound);
    the cheap bound (14 bytes per character, an escaped astral character escaped again) skips the exact
    count for ordinary pages."""
    rough = sum(14 * len(str(value)) + 64 for value in values)
    if rough <= budget:
        return len(values)
    total = 0
    for count, value in enumerate(values):
        total += len(json.dumps(json.dumps(value))) + 2
        if total > budget and count > 0:
            return count
    return len(values)


def encode_cursor(before: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{before}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.b64decode(padded, altchars=b"-_", validate=True).decode("ascii")
        digits = text.removeprefix(_CURSOR_PREFIX)
        if text.startswith(_CURSOR_PREFIX) and digits.isdigit() and encode_cursor(int(digits)) == cursor:
            return int(digits)
    except (binascii.Error, ValueError):
        pass
    raise BadRequest("the cursor is not one this API issued", "invalid_cursor")
