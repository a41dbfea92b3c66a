"""Hypothesis strategies for payload-2.0 events, built the way API Gateway's HTTP API sends them.

Five kinds of request are drawn about equally often, so that each route is reached with bodies that get
past its first checks: POST /messages, the two predict routes, the GET routes with query strings, the
old app's catch-all (GET or POST on any other path), and anything at all (any method, path, headers,
content type and body: text, JSON, binary, or flagged base64 but not base64)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st

from inference.api.http_io import encode_cursor
from inference.routes import ROUTES
from testing.api_events import http_event

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
MODEL_NAMES = ("digits", "nope", "..", "%2F", "digits%20", "DIGITS", ".tmp-1")
JSON_TYPES = ("application/json", "application/json; charset=utf-8", "APPLICATION/JSON")
OTHER_TYPES = (
    "text/plain",
    "text/plain; charset=utf-8",
    "text/plain; charset=latin-1",
    "application/octet-stream",
    "multipart/form-data; boundary=x",
    "",
)

# UTF-8 only: API Gateway never passes lone surrogates.
segments = st.text(st.characters(codec="utf-8"), max_size=10)
random_paths = st.lists(segments, max_size=4).map(lambda parts: "/" + "/".join(parts))
any_paths = st.one_of(
    st.sampled_from(sorted({route.path for route in ROUTES} | {"/"})).flatmap(
        lambda path: st.sampled_from(MODEL_NAMES).map(lambda name: path.replace("{name}", name))
    ),
    random_paths,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
pixels = st.floats(0, 16, width=32)
model_inputs = st.one_of(
    st.lists(st.lists(pixels, min_size=64, max_size=64), min_size=1, max_size=3),  # valid rows of 64
    st.lists(st.lists(st.lists(pixels, min_size=8, max_size=8), min_size=8, max_size=8), min_size=1, max_size=2),
    st.lists(st.lists(st.floats() | st.integers() | st.text(max_size=3) | st.none(), max_size=70), max_size=4),
    json_values,
)
message_json = st.fixed_dictionaries({"text": st.text(max_size=40) | json_values}).map(json.dumps)
predict_json = st.fixed_dictionaries(
    {"inputs": model_inputs}, optional={"version": st.none() | st.sampled_from(["1", "2", "../1"]) | st.integers()}
).map(json.dumps)
any_bodies: st.SearchStrategy[str | bytes | None] = st.one_of(
    st.none(), st.text(max_size=200), json_values.map(json.dumps), st.binary(max_size=200)
)
content_types = st.one_of(st.sampled_from(JSON_TYPES), st.sampled_from(OTHER_TYPES), st.none())
queries = st.lists(
    st.tuples(
        st.sampled_from(["limit", "cursor", "x"]) | st.text(max_size=5),
        st.integers(-10, 1000).map(str) | st.integers(-5, 5000).map(encode_cursor) | st.text(max_size=12),
    ),
    max_size=3,
).map(urlencode)
headers = st.dictionaries(
    st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
    max_size=3,
)

# (method, path, body, content type) for each kind of request
post_messages = st.tuples(
    st.just("POST"),
    st.just("/messages"),
    st.one_of(message_json, any_bodies),
    st.one_of(st.sampled_from(JSON_TYPES), content_types),
)
predictions = st.tuples(
    st.just("POST"),
    st.sampled_from(MODEL_NAMES).map(lambda name: f"/models/{name}/predict") | st.just("/predict"),
    st.one_of(predict_json, predict_json, any_bodies),
    st.one_of(st.sampled_from(JSON_TYPES), content_types),
)
reads = st.tuples(
    st.just("GET"), st.sampled_from(["/messages", "/models", "/health", "/openapi.json"]), st.none(), st.none()
)
legacy = st.tuples(st.sampled_from(["GET", "POST"]), random_paths, any_bodies, content_types)
anything = st.tuples(
    st.sampled_from(METHODS) | st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8),
    any_paths,
    any_bodies,
    content_types,
)


def _path_parameters(method: str, path: str) -> dict[str, str] | None:
    """What API Gateway puts in pathParameters for a matched route."""
    for route in ROUTES:
        params = route.match(method, path)
        if params:
            return params
    return None


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    method, path, body, content_type = draw(st.one_of(post_messages, predictions, reads, legacy, anything))
    extra_headers = draw(headers)
    if content_type is not None:
        extra_headers["content-type"] = content_type
    event = http_event(
        method, path, body, headers=extra_headers, query=draw(queries), path_parameters=_path_parameters(method, path)
    )
    if isinstance(body, str) and draw(st.integers(0, 9)) == 0:
        event["isBase64Encoded"] = True  # flagged as base64 but (mostly) not valid base64
    return event
