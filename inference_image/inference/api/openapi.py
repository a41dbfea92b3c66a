"""The OpenAPI 3 document of the JSON API, generated from the route table so it never drifts."""

from __future__ import annotations

from typing import Any

from inference.models.outputs import ENCODINGS
from inference.routes import ROUTES

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
_MESSAGE = {
    "type": "object",
    "required": ["id", "text", "created_at"],
    "properties": {
        "id": {"type": "integer", "minimum": 0},
        "text": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
# A version is a name; a whole number stands for its digits ("version": 2 is "2").
_VERSION = {"type": ["string", "integer"], "minimum": 0}
_PREDICT_REQUEST = {
    "type": "object",
    "required": ["inputs"],
    "properties": {
        "inputs": {"type": "array", "minItems": 1, "items": {}},
        "version": _VERSION,
        "encoding_format": {"enum": list(ENCODINGS)},
    },
    "additionalProperties": False,  # 400 unknown_field
}
_PREDICTION = {
    "type": "object",
    "required": ["model", "version", "outputs", "timing_ms"],
    "properties": {
        "model": {"type": "string"},
        "version": {"type": "string"},
        "outputs": {"type": "array", "items": {}},
        "timing_ms": {"type": "object", "additionalProperties": {"type": "number"}},
    },
}
_OBJECT = {"type": "object"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


_ERRORS = {
    "400": {"description": "Bad input", "content": _json(_ref("Error"))},
    "500": {"description": "Internal error", "content": _json(_ref("Error"))},
}
_PREDICT = {
    "requestBody": {"required": True, "content": _json(_ref("PredictRequest"))},
    "responses": {
        "200": {"description": "Predictions, one per input", "content": _json(_ref("Prediction"))},
        "404": {"description": "Unknown model or version", "content": _json(_ref("Error"))},
        "415": {"description": "Not JSON", "content": _json(_ref("Error"))},
        "422": {"description": "The model could not run on these inputs", "content": _json(_ref("Error"))},
        "502": {
            "description": "The model gave an output its metadata does not describe",
            "content": _json(_ref("Error")),
        },
        "503": {"description": "The model has no version that can be served", "content": _json(_ref("Error"))},
    },
}
_OPERATIONS: dict[str, dict[str, Any]] = {
    "health": {"responses": {"200": {"description": "Status", "content": _json(_OBJECT)}}},
    "openapi": {"responses": {"200": {"description": "This document", "content": _json(_OBJECT)}}},
    "create_message": {
        "requestBody": {
            "required": True,
            "content": {
                **_json({"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}),
                "text/plain": {"schema": {"type": "string", "minLength": 1}},
            },
        },
        "responses": {
            "201": {"description": "Stored", "content": _json(_ref("Message"))},
            "413": {"description": "Text over the limit", "content": _json(_ref("Error"))},
            "415": {"description": "Wrong content type", "content": _json(_ref("Error"))},
            "503": {"description": "Storage unavailable", "content": _json(_ref("Error"))},
        },
    },
    "list_messages": {
        "parameters": [
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
            {"name": "cursor", "in": "query", "schema": {"type": "string"}},
        ],
        "responses": {
            "200": {
                "description": "Newest first",
                "content": _json(
                    {
                        "type": "object",
                        "required": ["items", "next_cursor"],
                        "properties": {
                            "items": {"type": "array", "items": _ref("Message")},
                            "next_cursor": {"type": ["string", "null"]},
                        },
                    }
                ),
            }
        },
    },
    "list_models": {"responses": {"200": {"description": "Models on the file system", "content": _json(_OBJECT)}}},
    "predict_default": _PREDICT,
    "predict": {
        **_PREDICT,
        "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
    },
    # Async jobs (docs/JOBS.md); 404 jobs_disabled on a stack without jobs.
    "create_job_upload": {
        "responses": {
            "201": {
                "description": "A presigned POST form (url, fields) for one upload of 1 to max_bytes bytes",
                "content": _json(_OBJECT),
            },
            "404": {"description": "Jobs are off on this stack", "content": _json(_ref("Error"))},
        }
    },
    "submit_job": {
        "requestBody": {
            "required": True,
            "content": _json(
                {
                    "type": "object",
                    "properties": {
                        "model": {"type": "string"},
                        "version": _VERSION,
                        "inputs": {"type": "array", "minItems": 1, "items": {}},
                        "inputs_upload": {"type": "string"},
                    },
                    "oneOf": [{"required": ["inputs"]}, {"required": ["inputs_upload"]}],
                    "additionalProperties": False,  # 400 unknown_field
                }
            ),
        },
        "responses": {
            "202": {"description": "Queued; poll status_url", "content": _json(_OBJECT)},
            "404": {
                "description": "Unknown model or version, or jobs off on this stack",
                "content": _json(_ref("Error")),
            },
            "409": {"description": "The upload changed while it was read", "content": _json(_ref("Error"))},
            "413": {"description": "Upload over the limit", "content": _json(_ref("Error"))},
            "503": {"description": "Queue or storage unavailable", "content": _json(_ref("Error"))},
        },
    },
    "get_job": {
        "parameters": [{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {
            "200": {"description": "State, progress, result or error", "content": _json(_OBJECT)},
            "404": {
                "description": "Unknown or expired job, or jobs off on this stack",
                "content": _json(_ref("Error")),
            },
        },
    },
}


def openapi_document(title: str = "EFS inference API", version: str = "1.0.0") -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        operation = _OPERATIONS[route.operation_id]
        responses = {**_ERRORS, **operation["responses"]}
        paths.setdefault(route.path, {})[route.method.lower()] = {
            **operation,
            "operationId": route.operation_id,
            "summary": route.summary,
            "responses": responses,
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": {
                "Error": _ERROR,
                "Message": _MESSAGE,
                "PredictRequest": _PREDICT_REQUEST,
                "Prediction": _PREDICTION,
            }
        },
    }
