"""Lambda entry point for the HTTP API (payload format 2.0): routing and HTTP concerns only.

The JSON API's routes come from ``inference.routes`` and are dispatched by ``inference.api.dispatch``; every
other path keeps the old CDK app's plain-text behaviour. Storage and models live in plain modules (``store``,
``models``). Logs are JSON lines with correlation ids (``inference.api.logs``); metrics are EMF lines
(``inference.api.emf``)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from inference.api import http_io
from inference.api.dispatch import Dispatcher, Request, Response, json_response
from inference.api.emf import MetricsBuffer
from inference.api.logs import JsonLogger
from inference.errors import MethodNotAllowed, NotFound, ServiceError, StorageUnavailable
from inference.layout import act_as_message_writer
from inference.metrics import COLD_START, INFERENCE_TIME, LATEST_UNAVAILABLE, MODEL, MODEL_LOAD_TIME, VERSION
from inference.routes import allowed_methods, nearest_route, under_json_prefix
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
# The registry's names for them.
_METRICS = {"model_load_ms": MODEL_LOAD_TIME, "inference_ms": INFERENCE_TIME, "latest_unavailable": LATEST_UNAVAILABLE}

settings = Settings.from_env()
act_as_message_writer()
# The stack sets both variables; the defaults serve local runs and tests.
service_name = os.environ.get("POWERTOOLS_SERVICE_NAME", "efs-inference")
logger = JsonLogger(service_name, __name__)
metrics = MetricsBuffer(os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "EfsInference"), service_name)
_cold_start = True


@functools.cache
def message_store() -> MessageStore:
    # Built on first use, not at import: an unreachable EFS then gives a 503 instead of a failed cold start.
    try:
        return MessageStore(settings.layout.messages_dir)
    except OSError as error:
        raise StorageUnavailable(f"the message store cannot be opened: {error.strerror or error}") from error


def _record_metric(name: str, value: float, model: str, version: str) -> None:
    metrics.add(_METRICS[name], value, {MODEL: model, VERSION: version})


@functools.cache
def model_registry() -> ModelRegistry:
    # Imported on first use: requests that touch no model (most of them) skip its import at cold start.
    from inference.models.registry import ModelRegistry

    return ModelRegistry.from_settings(settings, on_metric=_record_metric)


# What one execution environment has in memory: it differs between instances, so /health reports it per instance.
# Which version each model serves is not among them: every instance derives it from the file system alike.
_INSTANCE_KEYS = ("loaded",)


def health(_: Request) -> Response:
    store_status = _component_status(lambda: message_store().status())
    models_status = _component_status(lambda: model_registry().status())
    healthy = bool(store_status.get("ok")) and bool(models_status.get("ok"))
    instance = {"id": _instance_id(), **{key: models_status.pop(key) for key in _INSTANCE_KEYS if key in models_status}}
    return json_response(
        200,
        {
            "status": "ok" if healthy else "degraded",
            "store": store_status,
            "models": models_status,
            "instance": instance,
            "limits": {"max_text_bytes": settings.max_text_bytes},  # so a client (the UI) can say it before posting
        },
    )


def _instance_id() -> str:
    """This execution environment: its log stream on Lambda (where its logs are), else its process."""
    return os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME") or f"pid {os.getpid()}"


def _component_status(probe: Any) -> dict[str, Any]:
    try:
        return dict(probe())
    except (ServiceError, OSError) as error:
        logger.warning("health probe failed", exc_info=True)
        return {"ok": False, "error": str(error)}


def openapi(_: Request) -> Response:
    return json_response(200, _openapi_document())


@functools.cache
def _openapi_document() -> dict[str, Any]:
    from inference.api.openapi import openapi_document  # only this route needs it

    return openapi_document()


def create_message(request: Request) -> Response:
    text = http_io.message_text(request.headers, request.body(), settings.max_text_bytes)
    message = message_store().append(text)
    return json_response(201, message.to_dict())


def list_messages(request: Request) -> Response:
    params = request.query
    limit = http_io.int_param(params, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
    before = http_io.decode_cursor((params or {}).get("cursor"))
    items, next_before = message_store().page(limit, before)
    bodies = [item.to_dict() for item in items]
    fitting = http_io.count_within_budget(bodies, RESPONSE_BUDGET_BYTES)
    if fitting < len(items):  # a short page; the cursor carries on from the first message left out
        bodies, next_before = bodies[:fitting], items[fitting].id + 1
    next_cursor = None if next_before is None else http_io.encode_cursor(next_before)
    return json_response(200, {"items": bodies, "next_cursor": next_cursor})


def list_models(_: Request) -> Response:
    return json_response(200, model_registry().list_models())


def predict_default(request: Request) -> Response:
    return _predict(request, None)


def predict(request: Request, name: str) -> Response:
    return _predict(request, unquote(name))


def _predict(http_request: Request, name: str | None) -> Response:
    registry = model_registry()
    request = http_io.predict_request(
        http_request.headers,
        http_request.body(),
        http_request.query,
        check_json=lambda body: registry.check_predict_body(name, body),
    )
    answer = registry.predict(name, request.inputs, version=request.version, encoding_format=request.encoding_format)
    return json_response(200, answer)


def create_job_upload(_: Request) -> Response:
    from inference.api import jobs as jobs_api  # boto3 and the job code load only for job routes

    return json_response(*jobs_api.create_upload())


def submit_job(request: Request) -> Response:
    from inference.api import jobs as jobs_api

    return json_response(*jobs_api.submit(request.headers, request.body()))


def get_job(_: Request, job_id: str) -> Response:
    from inference.api import jobs as jobs_api

    return json_response(*jobs_api.status(job_id))


def legacy(request: Request) -> Response:
    """The old CDK app's contract on its own paths: POST stores a line, GET lists them. A path under the JSON
    API's prefixes that no route matches (``POST /predict/``, ``GET /models/digits``) is a 404 naming the
    nearest route, not a message stored or a listing."""
    method = request.method
    known_methods = allowed_methods(request.path)
    if known_methods:
        raise MethodNotAllowed(f"{method} is not allowed on {request.path}; use {', '.join(known_methods)}")
    if under_json_prefix(request.path):
        nearest = nearest_route(method, request.path)
        raise NotFound(f"no route {method} {_shown_path(request.path)}; the nearest is {nearest.route_key}")
    if method == "POST":
        text = http_io.decode_text(request.body())
        message_store().append(http_io.checked_text(text if text.strip() else NO_INPUT, settings.max_text_bytes))
    elif method != "GET":
        raise MethodNotAllowed(f"{method} is not allowed; use GET to list messages or POST to store one")
    newest_first = [message.legacy_line() for message in reversed(message_store().tail(settings.legacy_listing_lines))]
    lines = newest_first[: http_io.count_within_budget(newest_first, RESPONSE_BUDGET_BYTES)][::-1]
    body = "\n".join(lines) + "\n" if lines else NO_MESSAGES
    return Response(200, body, content_type="text/plain; charset=utf-8")


def _shown_path(path: str, limit: int = 100) -> str:
    """The path as an error message quotes it: never so long that the answer itself grows large."""
    return path if len(path) <= limit else f"{path[:limit]}... ({len(path)} characters)"


def error_response(request: Request, error: Exception) -> Response:
    """One place where errors become answers: a ServiceError its status and JSON shape, anything else a 500."""
    if not isinstance(error, ServiceError):
        logger.exception("unhandled error")
        message = f"internal error; request id {request.request_id}"
        return json_response(500, {"error": {"code": "internal_error", "message": message}})
    if error.status >= 500:
        logger.warning("service unavailable", extra={"code": error.code, "reason": error.message})
    headers = None
    if isinstance(error, MethodNotAllowed):
        methods = allowed_methods(request.path) or ("GET", "POST")
        headers = {"Allow": ", ".join(methods)}
    return json_response(error.status, error.to_body(), headers)


_OPERATIONS: dict[str, Callable[..., Response]] = {
    "health": health,
    "openapi": openapi,
    "create_message": create_message,
    "list_messages": list_messages,
    "list_models": list_models,
    "predict_default": predict_default,
    "predict": predict,
    "create_job_upload": create_job_upload,
    "submit_job": submit_job,
    "get_job": get_job,
}
dispatcher = Dispatcher(_OPERATIONS, fallback=legacy, on_error=error_response)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # context: the Lambda context object
    global _cold_start  # once per execution environment, as Lambda counts a cold start
    request = Request.from_event(event)
    logger.start_invocation(context, correlation_id=request.request_id, cold_start=_cold_start)
    if _cold_start:
        _cold_start = False
        metrics.add(COLD_START, 1)
    try:
        return dispatcher.dispatch(request).to_result()
    finally:
        metrics.flush()
