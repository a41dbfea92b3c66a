"""Lambda entry point for the HTTP API (payload format 2.0): routing and HTTP concerns only.

The JSON API's routes come from ``inference.routes``; every other path keeps the old CDK app's
plain-text behaviour. Storage and models live in plain modules (``store``, ``models``)."""

from __future__ import annotations

import functools
import json
import os
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from inference.api import http_io
from inference.api.openapi import openapi_document
from inference.errors import MethodNotAllowed, ServiceError, StorageUnavailable
from inference.routes import ROUTES, allowed_methods
from inference.settings import Settings
from inference.store.messages import MessageStore

if TYPE_CHECKING:
    from inference.models.registry import ModelRegistry

MAX_PAGE = 500
DEFAULT_PAGE = 50
NO_MESSAGES = "No message yet."
NO_INPUT = "No Input"
# Lambda refuses a result over 6 MB (API Gateway then answers 500): listings stop short of that.
RESPONSE_BUDGET_BYTES = 5_000_000
_METRIC_NAMES = {"model_load_ms": "ModelLoadTime", "inference_ms": "InferenceTime"}

# Most requests add no metric of their own; Powertools would warn about that on every one of them.
warnings.filterwarnings("ignore", message="No application metrics to publish")

settings = Settings.from_env()
# The stack sets both variables; the defaults serve local runs and tests.
service_name = os.environ.get("POWERTOOLS_SERVICE_NAME", "efs-inference")
logger = Logger(service=service_name)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "EfsInference"), service=service_name)
app = APIGatewayHttpResolver()


@functools.cache
def message_store() -> MessageStore:
    # Built on first use, not at import: an unreachable EFS then gives a 503 instead of a failed cold start.
    try:
        return MessageStore(settings.layout.messages_dir)
    except OSError as error:
        raise StorageUnavailable(f"the message store cannot be opened: {error.strerror or error}") from error


def _record_metric(name: str, value_ms: float) -> None:
    metrics.add_metric(name=_METRIC_NAMES.get(name, name), unit=MetricUnit.Milliseconds, value=value_ms)


@functools.cache
def model_registry() -> ModelRegistry:
    # Imported on first use: requests that touch no model (most of them) skip its import at cold start.
    from inference.models.registry import ModelRegistry

    return ModelRegistry(
        settings.layout.models_dir,
        default_model=settings.default_model,
        refresh_seconds=settings.model_refresh_seconds,
        cache_size=settings.model_cache_size,
        max_batch=settings.max_batch,
        on_metric=_record_metric,
        threads=settings.model_threads,
    )


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=http_io.JSON_TYPE, body=json.dumps(body), headers=headers)


def _body() -> bytes:
    event = app.current_event
    return http_io.raw_body(event.body, bool(event.is_base64_encoded))


def health() -> Response:
    store_status = _component_status(lambda: message_store().status())
    models_status = _component_status(lambda: model_registry().status())
    healthy = bool(store_status.get("ok")) and bool(models_status.get("ok"))
    return json_response(
        200, {"status": "ok" if healthy else "degraded", "store": store_status, "models": models_status}
    )


def _component_status(probe: Any) -> dict[str, Any]:
    try:
        return dict(probe())
    except (ServiceError, OSError) as error:
        logger.warning("health probe failed", exc_info=True)
        return {"ok": False, "error": str(error)}


def openapi() -> Response:
    return json_response(200, _openapi_document())


@functools.cache
def _openapi_document() -> dict[str, Any]:
    return openapi_document()


def create_message() -> Response:
    text = http_io.message_text(app.current_event.headers, _body(), settings.max_text_bytes)
    message = message_store().append(text)
    return json_response(201, message.to_dict())


def list_messages() -> Response:
    params = app.current_event.query_string_parameters
    limit = http_io.int_param(params, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
    before = http_io.decode_cursor((params or {}).get("cursor"))
    items, next_before = message_store().page(limit, before)
    bodies = [item.to_dict() for item in items]
    fitting = http_io.count_within_budget(bodies, RESPONSE_BUDGET_BYTES)
    if fitting < len(items):  # a short page; the cursor carries on from the first message left out
        bodies, next_before = bodies[:fitting], items[fitting].id + 1
    next_cursor = None if next_before is None else http_io.encode_cursor(next_before)
    return json_response(200, {"items": bodies, "next_cursor": next_cursor})


def list_models() -> Response:
    return json_response(200, model_registry().list_models())


def predict_default() -> Response:
    return _predict(None)


def predict(name: str) -> Response:
    return _predict(unquote(name))


def _predict(name: str | None) -> Response:
    event = app.current_event
    request = http_io.predict_request(event.headers, _body(), event.query_string_parameters)
    answer = model_registry().predict(
        name, request.inputs, version=request.version, encoding_format=request.encoding_format
    )
    return json_response(200, answer)


_OPERATIONS: dict[str, Callable[..., Response]] = {
    "health": health,
    "openapi": openapi,
    "create_message": create_message,
    "list_messages": list_messages,
    "list_models": list_models,
    "predict_default": predict_default,
    "predict": predict,
}
for _route in ROUTES:
    app.route(_route.resolver_path, method=_route.method)(_OPERATIONS[_route.operation_id])


@app.not_found
def legacy(_: NotFoundError) -> Response:
    """The old CDK app's contract on every other path: POST stores a line, GET lists them."""
    event = app.current_event
    method = event.request_context.http.method.upper()
    for route in ROUTES:
        # Powertools' path patterns refuse some characters that API Gateway passes on; the route still applies.
        params = route.match(method, event.raw_path)
        if params is not None:
            return _OPERATIONS[route.operation_id](**params)
    known_methods = allowed_methods(event.raw_path)
    if known_methods:
        raise MethodNotAllowed(f"{method} is not allowed on {event.raw_path}; use {', '.join(known_methods)}")
    if method == "POST":
        text = http_io.decode_text(_body())
        message_store().append(http_io.checked_text(text if text.strip() else NO_INPUT, settings.max_text_bytes))
    elif method != "GET":
        raise MethodNotAllowed(f"{method} is not allowed; use GET to list messages or POST to store one")
    newest_first = [message.legacy_line() for message in reversed(message_store().tail(settings.legacy_listing_lines))]
    lines = newest_first[: http_io.count_within_budget(newest_first, RESPONSE_BUDGET_BYTES)][::-1]
    body = "\n".join(lines) + "\n" if lines else NO_MESSAGES
    return Response(status_code=200, content_type="text/plain; charset=utf-8", body=body)


@app.exception_handler(ServiceError)
def service_error(error: ServiceError) -> Response:
    if error.status >= 500:
        logger.warning("service unavailable", extra={"code": error.code, "reason": error.message})
    headers = None
    if isinstance(error, MethodNotAllowed):
        methods = allowed_methods(app.current_event.raw_path) or ("GET", "POST")
        headers = {"Allow": ", ".join(methods)}
    return json_response(error.status, error.to_body(), headers)


@app.exception_handler(Exception)
def internal_error(error: Exception) -> Response:
    request_id = app.current_event.request_context.request_id
    logger.exception("unhandled error")
    body = {"error": {"code": "internal_error", "message": f"internal error; request id {request_id}"}}
    return json_response(500, body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
