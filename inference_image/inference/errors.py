"""Typed errors that every layer raises and the handler maps to one JSON shape:
``{"error": {"code": "...", "message": "..."}}`` with the class's HTTP status."""

from __future__ import annotations


class ServiceError(Exception):
    status = 500
    default_code = "internal_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code

    def to_body(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


class BadRequest(ServiceError):
    status = 400
    default_code = "bad_request"


class NotFound(ServiceError):
    status = 404
    default_code = "not_found"


class MethodNotAllowed(ServiceError):
    status = 405
    default_code = "method_not_allowed"


class Gone(ServiceError):
    """What the request points at existed once and was dropped for good (e.g. by message retention)."""

    status = 410
    default_code = "gone"


class PayloadTooLarge(ServiceError):
    status = 413
    default_code = "payload_too_large"


class UnsupportedMediaType(ServiceError):
    status = 415
    default_code = "unsupported_media_type"


class StorageUnavailable(ServiceError):
    """The data folder cannot take a write (full, read-only, unreachable): the client may retry."""

    status = 503
    default_code = "storage_unavailable"


class ModelUnavailable(ServiceError):
    """A model exists but cannot be loaded or run."""

    status = 503
    default_code = "model_unavailable"


class ModelCannotRun(ServiceError):
    """The inputs passed the metadata's checks, but the graph failed on them (say, an id past an embedding table):
    the same inputs would fail again, so it is the request's to change."""

    status = 422
    default_code = "model_cannot_run"


class BadModelOutput(ServiceError):
    """The model ran but gave an output its metadata does not describe (publishing's probe makes this rare: only
    a graph whose output shapes depend on the values can get here). Never the client's fault, never a 500."""

    status = 502
    default_code = "invalid_model_output"
