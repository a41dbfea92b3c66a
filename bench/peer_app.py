"""The peer for the benchmarks: the same service written the common way, FastAPI behind Mangum, doing the same
work with the same modules (store, registry, http_io), so that only the web framework differs from
``inference.api.handler``. Only the routes the benchmarks call; not a second implementation of the API."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from mangum import Mangum

from inference.api import http_io
from inference.errors import BadRequest, ServiceError
from inference.models.registry import ModelRegistry
from inference.settings import Settings
from inference.store.messages import MessageStore

settings = Settings.from_env()
store = MessageStore(settings.layout.messages_dir)
registry = ModelRegistry.from_settings(settings)
app = FastAPI(title="efs-inference (FastAPI peer)")


@app.exception_handler(ServiceError)
async def service_error(_: Request, error: ServiceError) -> JSONResponse:
    return JSONResponse(error.to_body(), status_code=error.status)


@app.get("/health")
def health() -> dict[str, Any]:
    store_status, models_status = store.status(), registry.status()
    healthy = bool(store_status.get("ok")) and bool(models_status.get("ok"))
    return {"status": "ok" if healthy else "degraded", "store": store_status, "models": models_status}


@app.post("/messages", status_code=201)
async def create_message(request: Request) -> dict[str, Any]:
    text = http_io.message_text(request.headers, await request.body(), settings.max_text_bytes)
    return store.append(text).to_dict()


@app.get("/messages")
def list_messages(limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    items, before = store.page(limit, http_io.decode_cursor(cursor))
    next_cursor = None if before is None else http_io.encode_cursor(before)
    return {"items": [item.to_dict() for item in items], "next_cursor": next_cursor}


@app.post("/predict")
async def predict(request: Request) -> dict[str, Any]:
    http_io.require_json(request.headers)
    body = http_io.parse_json_object(await request.body())
    if "inputs" not in body:
        raise BadRequest('the JSON body needs an "inputs" field: a list of inputs', "invalid_input")
    return registry.predict(None, body["inputs"], version=body.get("version"))


lambda_handler = Mangum(app, lifespan="off")
