"""Payload-2.0 events shaped as API Gateway's HTTP API sends them (testing/events/http_api_v2.json
is the template): lowercased headers, cookies outside the headers, base64 for binary bodies."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from inference.routes import match_route_key

TEMPLATE = json.loads((Path(__file__).parent / "events" / "http_api_v2.json").read_text())


def http_event(
    method: str,
    path: str,
    body: str | bytes | None = None,
    *,
    headers: dict[str, str] | None = None,
    query: str = "",
    base64_body: bool = False,
    route_key: str | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    event = copy.deepcopy(TEMPLATE)
    event["rawPath"] = path
    event["rawQueryString"] = query
    event["routeKey"] = event["requestContext"]["routeKey"] = route_key or match_route_key(method, path)
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["requestId"] = uuid.uuid4().hex[:16]
    for key, value in (headers or {}).items():
        event["headers"][key.lower()] = value
    if query:
        params: dict[str, str] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            params[key] = f"{params[key]},{value}" if key in params else value
        event["queryStringParameters"] = params
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        raw = body.encode() if isinstance(body, str) else body
        event["headers"]["content-length"] = str(len(raw))
        if base64_body or isinstance(body, bytes):
            event["body"] = base64.b64encode(raw).decode()
            event["isBase64Encoded"] = True
        else:
            event["body"] = body
    return event


def json_event(method: str, path: str, payload: Any, **kwargs: Any) -> dict[str, Any]:
    headers = {"content-type": "application/json", **kwargs.pop("headers", {})}
    return http_event(method, path, json.dumps(payload), headers=headers, **kwargs)
