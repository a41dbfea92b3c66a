"""Dispatch of API Gateway HTTP API events (payload format 2.0) to the handler's operations, from the route
table in ``inference.routes``: the request and response shapes, path matching, the fallback for paths no
route claims, and one place where errors become responses.

It replaces Powertools' ``event_handler`` resolver, whose import (every resolver, AppSync's and asyncio
included) was most of the cold start; the route table already knows how to match a path. Plain Python, no
Powertools, so a new route is a row in ``inference.routes`` and a function in ``inference.api.handler``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from inference import json_bytes
from inference.api import http_io
from inference.routes import PREFLIGHT_METHOD, ROUTES


@dataclass(frozen=True)
class Request:
    """What the operations read from an event."""

    method: str  # upper case
    path: str  # rawPath: percent-encoded, as API Gateway passes it
    headers: Mapping[str, str]
    query: Mapping[str, str] | None
    request_id: str
    body_text: str | None = None
    is_base64: bool = False

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Request:
        context = event.get("requestContext") or {}
        return cls(
            method=str((context.get("http") or {}).get("method", "")).upper(),
            path=str(event.get("rawPath") or "/"),
            headers=event.get("headers") or {},
            query=event.get("queryStringParameters"),
            request_id=str(context.get("requestId", "")),
            body_text=event.get("body"),
            is_base64=bool(event.get("isBase64Encoded")),
        )

    def body(self) -> bytes:
        """The body as bytes, undoing API Gateway's base64 for binary payloads."""
        return http_io.raw_body(self.body_text, self.is_base64)


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    content_type: str = http_io.JSON_TYPE
    headers: Mapping[str, str] = field(default_factory=dict)

    def to_result(self) -> dict[str, Any]:
        """The Lambda result API Gateway expects for payload format 2.0."""
        return {
            "statusCode": self.status,
            "body": self.body,
            "isBase64Encoded": False,
            "headers": {**self.headers, "Content-Type": self.content_type},
            "cookies": [],
        }


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(status, json_bytes.dumps(body).decode(), headers=headers or {})


Operation = Callable[..., Response]  # (request, **path parameters) -> Response


class Dispatcher:
    """Calls the operation of the first route that matches a request (with its path parameters), else the
    fallback; any exception goes to ``on_error``, which answers for it."""

    def __init__(
        self,
        operations: Mapping[str, Operation],
        fallback: Callable[[Request], Response],
        on_error: Callable[[Request, Exception], Response],
    ) -> None:
        missing = {route.operation_id for route in ROUTES} - set(operations)
        if missing:
            raise ValueError(f"no operation for routes {sorted(missing)}")
        self._routes = [(route, operations[route.operation_id]) for route in ROUTES]
        self._fallback = fallback
        self._on_error = on_error

    def dispatch(self, request: Request) -> Response:
        if request.method == PREFLIGHT_METHOD:  # a CORS preflight: API Gateway's CORS settings answer for it
            return Response(204, "")
        try:
            for route, operation in self._routes:
                params = route.match(request.method, request.path)
                if params is not None:
                    return operation(request, **params)
            return self._fallback(request)
        except Exception as error:
            return self._on_error(request, error)
