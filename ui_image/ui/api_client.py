"""The UI's only way to reach data: the JSON API at ``API_URL``.

Every call has a bounded timeout, returns a typed result, and fails with one exception type,
``ApiError``, whose message can be shown to a person as it is. With ``API_AUTH=iam`` every call is
signed with SigV4 (botocore's signer) for ``API_REGION``, with the credentials botocore finds: the task
role's on Fargate, the local key pair under ``make dev AUTH=iam``; no keys live in the UI's config."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import requests
import requests.auth
import streamlit as st

T = TypeVar("T")

DEFAULT_API_URL = "http://127.0.0.1:8080"  # the local stack's API (make dev)
_CLIENT_KEY = "api_client"  # where get_client keeps the session's client in st.session_state


@dataclass(frozen=True)
class Timeouts:
    connect: float = 3.0
    read: float = 15.0  # a cold Lambda that loads a model from EFS takes a few seconds


class ApiError(Exception):
    """A failed API call, with a message meant for the person using the UI."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Message:
    id: int
    text: str
    created_at: str


@dataclass(frozen=True)
class MessagePage:
    items: list[Message]
    next_cursor: str | None


KIND_TENSOR, KIND_TEXT, KIND_IMAGE = "tensor", "text", "image"


@dataclass(frozen=True)
class InputSpec:
    name: str
    shape: list[int | None]
    dtype: str
    value_range: tuple[float, float] | None = None  # the model's [low, high] for every value, when it says
    kind: str = KIND_TENSOR  # tensor, text, or image (which takes pictures as well as tensors)
    image_formats: list[str] = field(default_factory=list)  # image models: what the server decodes
    image_mode: str | None = None  # image models: L (grayscale: the Draw pad suits them) or RGB
    image_size: tuple[int, int] | None = None  # image models: (width, height) of what the model sees
    max_pixels: int | None = None  # image models: the most pixels the server decodes in one picture
    max_text_bytes: int | None = None  # text models: the longest text, in UTF-8 bytes

    @property
    def sample_shape(self) -> list[int]:
        """The shape of one input: the model's shape without its batch dimension."""
        dims = self.shape[1:] if len(self.shape) > 1 else self.shape
        return [dim if isinstance(dim, int) and dim > 0 else 1 for dim in dims]


@dataclass(frozen=True)
class Sample:
    """One input the model's publisher chose to show (held out from training), with its true label."""

    label: str  # empty when the publisher gave none
    input: Any  # one input, in one of the shapes the model accepts


@dataclass(frozen=True)
class ModelInfo:
    name: str
    versions: list[str]
    serving: str | None
    input: InputSpec
    labels: list[str] | None
    description: str
    samples: list[Sample] = field(default_factory=list)
    task: str = "classification"
    dimension: int | None = None  # embedding models: the length of each vector


@dataclass(frozen=True)
class ModelCatalog:
    default_model: str
    models: list[ModelInfo]


@dataclass(frozen=True)
class Output:
    """One prediction; ``probabilities`` is empty when the model is not a classifier, ``embedding`` is
    set for an embedding model, ``values`` (output name -> value) for a model of plain outputs."""

    label: str
    probabilities: dict[str, float]
    embedding: list[float] | None = None
    values: dict[str, Any] | None = None


@dataclass(frozen=True)
class Prediction:
    model: str
    version: str
    outputs: list[Output]
    inference_ms: float
    total_ms: float
    round_trip_ms: float  # measured here: network, API Gateway and Lambda included
    preprocessing_ms: float = 0.0  # tokenising, decoding images, checking inputs
    dimension: int | None = None


@dataclass(frozen=True)
class Health:
    status: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class SigV4Signer(requests.auth.AuthBase):
    """Signs each request for execute-api, with fresh credentials each time (a task role's are rotated)."""

    SERVICE = "execute-api"
    _COPIED = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")

    def __init__(self, region: str) -> None:
        import boto3  # only a signing client needs it

        self.region = region
        self._credentials = boto3.Session().get_credentials()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        if self._credentials is None:
            raise ApiError("The UI has no AWS credentials to sign its calls to the API (API_AUTH is iam).")
        headers = {name: value for name, value in request.headers.items() if name.lower() == "content-type"}
        signed = AWSRequest(method=request.method, url=request.url, data=request.body or b"", headers=headers)
        SigV4Auth(self._credentials.get_frozen_credentials(), self.SERVICE, self.region).add_auth(signed)
        for name in self._COPIED:
            if name in signed.headers:
                request.headers[name] = signed.headers[name]
        return request


def auth_from_env(env: dict[str, str] | None = None) -> SigV4Signer | None:
    """The signer ``API_AUTH`` asks for: ``iam`` signs for ``API_REGION`` (else AWS_REGION); ``none`` does not."""
    env = dict(os.environ) if env is None else env
    mode = env.get("API_AUTH") or "none"
    if mode == "none":
        return None
    if mode != "iam":
        raise ValueError(f"API_AUTH must be iam or none, not {mode!r}")
    return SigV4Signer(env.get("API_REGION") or env.get("AWS_REGION") or "us-east-1")


class ApiClient:
    def __init__(self, base_url: str, timeouts: Timeouts | None = None, auth: SigV4Signer | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeouts = timeouts or Timeouts()
        self._session = requests.Session()
        self._session.auth = auth

    def health(self) -> Health:
        body = self._call("GET", "/health")
        return _parsed(
            lambda: Health(status=str(body["status"]), details={k: v for k, v in body.items() if k != "status"})
        )

    def post_message(self, text: str) -> Message:
        body = self._call("POST", "/messages", json={"text": text})
        return _parsed(lambda: _message(body))

    def list_messages(self, limit: int, cursor: str | None = None) -> MessagePage:
        params: dict[str, str | int] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        body = self._call("GET", "/messages", params=params)
        return _parsed(
            lambda: MessagePage(
                items=[_message(item) for item in body["items"]],
                next_cursor=None if body["next_cursor"] is None else str(body["next_cursor"]),
            )
        )

    def list_models(self) -> ModelCatalog:
        body = self._call("GET", "/models")
        return _parsed(
            lambda: ModelCatalog(
                default_model=str(body["default_model"]),
                # A model without a complete version yet has no input to describe, and nothing to predict with.
                models=[_model_info(model) for model in body["models"] if model["input"] is not None],
            )
        )

    def predict(self, model: str, inputs: list[Any], version: str | None = None) -> Prediction:
        request: dict[str, Any] = {"inputs": inputs}
        if version is not None:
            request["version"] = version
        started = time.perf_counter()
        body = self._call("POST", f"/models/{quote(model, safe='')}/predict", json=request)
        round_trip_ms = (time.perf_counter() - started) * 1000
        return _parsed(lambda: _prediction(body, round_trip_ms))

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        url = self.base_url + path
        try:
            response = self._session.request(method, url, timeout=(self.timeouts.connect, self.timeouts.read), **kwargs)
        except requests.Timeout:
            raise ApiError(
                f"The API at {self.base_url} did not answer within {self.timeouts.read:g} s. It may be busy or "
                "starting up; try again."
            ) from None
        except requests.RequestException:
            raise ApiError(
                f"The API at {self.base_url} cannot be reached. Check that it is running and that API_URL is right."
            ) from None
        if response.status_code >= 400:
            raise _http_error(response)
        try:
            return response.json()
        except ValueError:
            raise ApiError(f"The API answered {method} {path} with something that is not JSON.") from None


def _http_error(response: requests.Response) -> ApiError:
    """The API's own ``{"error": {"code", "message"}}`` when it sent one, else the HTTP status."""
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        reason = response.reason or "error"
        return ApiError(f"The API answered {response.status_code} {reason}.", status=response.status_code)
    return ApiError(f"{message} ({code}, HTTP {response.status_code})", status=response.status_code, code=code)


def _parsed(build: Callable[[], T]) -> T:
    """Build a typed result; a body that does not follow the API contract becomes an ApiError."""
    try:
        return build()
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ApiError("The API answered with a response this UI does not understand.") from None


def _message(body: Any) -> Message:
    return Message(id=int(body["id"]), text=str(body["text"]), created_at=str(body["created_at"]))


def _input_spec(spec: Any) -> InputSpec:
    if spec.get("kind") == KIND_TEXT:
        max_bytes = spec.get("max_text_bytes")
        return InputSpec(
            "text", [None], "string", kind=KIND_TEXT, max_text_bytes=None if max_bytes is None else int(max_bytes)
        )
    value_range = spec.get("range")
    image = spec.get("image") or {}
    return InputSpec(
        name=str(spec["name"]),
        shape=[dim if isinstance(dim, int) else None for dim in spec["shape"]],
        dtype=str(spec["dtype"]),
        value_range=None if value_range is None else (float(value_range[0]), float(value_range[1])),
        kind=str(spec.get("kind") or KIND_TENSOR),
        image_formats=[str(item) for item in image.get("formats") or []],
        image_mode=None if image.get("mode") is None else str(image["mode"]),
        image_size=None if not image.get("size") else (int(image["size"][0]), int(image["size"][1])),
        max_pixels=None if image.get("max_pixels") is None else int(image["max_pixels"]),
    )


def _model_info(body: Any) -> ModelInfo:
    labels = body.get("labels")
    return ModelInfo(
        name=str(body["name"]),
        versions=[str(version) for version in body["versions"]],
        serving=None if body.get("serving") is None else str(body["serving"]),
        input=_input_spec(body["input"]),
        labels=None if labels is None else [str(label) for label in labels],
        description=str(body.get("description") or ""),
        samples=[_sample(sample) for sample in body.get("samples") or []],
        task=str(body.get("task") or "classification"),
        dimension=None if body.get("dimension") is None else int(body["dimension"]),
    )


def _sample(body: Any) -> Sample:
    return Sample(label=str(body.get("label") or ""), input=body["input"])


def _output(body: Any) -> Output:
    if isinstance(body, dict) and isinstance(body.get("embedding"), list):
        return Output(label="", probabilities={}, embedding=[float(value) for value in body["embedding"]])
    if isinstance(body, dict) and "label" in body and isinstance(body.get("probabilities"), dict):
        probabilities = body["probabilities"]
        return Output(label=str(body["label"]), probabilities={str(k): float(v) for k, v in probabilities.items()})
    if isinstance(body, dict):
        return Output(label="", probabilities={}, values=body)
    return Output(label=str(body), probabilities={})


def _prediction(body: Any, round_trip_ms: float) -> Prediction:
    timing = body["timing_ms"]
    return Prediction(
        model=str(body["model"]),
        version=str(body["version"]),
        outputs=[_output(output) for output in body["outputs"]],
        inference_ms=float(timing["inference"]),
        total_ms=float(timing["total"]),
        round_trip_ms=round_trip_ms,
        preprocessing_ms=float(timing.get("preprocessing", 0.0)),
        dimension=None if body.get("dimension") is None else int(body["dimension"]),
    )


def get_client() -> ApiClient:
    """This browser session's client, pointed at ``API_URL``.

    One per session, not one per server process: Streamlit runs each session's script on a thread of its own,
    and a requests.Session (the client's connection pool) is not documented as thread-safe."""
    client = st.session_state.get(_CLIENT_KEY)
    if not isinstance(client, ApiClient):
        api_url = os.environ.get("API_URL") or DEFAULT_API_URL
        client = st.session_state[_CLIENT_KEY] = ApiClient(api_url, auth=auth_from_env())
    return client
