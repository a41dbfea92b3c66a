"""The HTTP API's route table: the one definition that the handler, the local stack and the
Pulumi program all read. Pure data, no imports beyond the standard library, so infra code can
import it without pulling in the handler's runtime dependencies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

DEFAULT_ROUTE_KEY = "$default"
# The functions that serve routes: the API function (in the VPC, with EFS) and, on stacks with jobs,
# the jobs function (outside the VPC, so that it reaches SQS without a NAT gateway or an endpoint).
API_FUNCTION = "api"
JOBS_FUNCTION = "jobs"

_PARAM = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway syntax: /models/{name}/predict
    operation_id: str
    summary: str
    function: str = API_FUNCTION  # which function serves it; $default is the API function's

    @property
    def route_key(self) -> str:
        """The API Gateway v2 route key, e.g. ``POST /messages``."""
        return f"{self.method} {self.path}"

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(_PARAM.findall(self.path))

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Path parameters (still percent-encoded, as API Gateway passes them) if this route matches."""
        wanted, given = self.path.split("/"), path.split("/")
        if method.upper() != self.method or len(wanted) != len(given):
            return None
        params: dict[str, str] = {}
        for want, got in zip(wanted, given, strict=True):
            if want.startswith("{") and want.endswith("}") and got:
                params[want[1:-1]] = got
            elif want != got:
                return None
        return params


ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "health", "Store and model status"),
    Route("GET", "/openapi.json", "openapi", "This API's OpenAPI document"),
    Route("POST", "/messages", "create_message", "Store a timestamped message"),
    Route("GET", "/messages", "list_messages", "List messages, newest first, with a cursor"),
    Route("GET", "/models", "list_models", "Models and versions on the file system"),
    Route("POST", "/predict", "predict_default", "Run the default model on a batch of inputs"),
    Route("POST", "/models/{name}/predict", "predict", "Run a named model on a batch of inputs"),
    Route("POST", "/jobs/uploads", "create_job_upload", "A presigned URL to upload a job's inputs", JOBS_FUNCTION),
    Route("POST", "/jobs", "submit_job", "Check and queue an async job over a batch of inputs", JOBS_FUNCTION),
    Route("GET", "/jobs/{job_id}", "get_job", "An async job's state, progress and result", JOBS_FUNCTION),
)

ROUTE_KEYS: tuple[str, ...] = (*(route.route_key for route in ROUTES), DEFAULT_ROUTE_KEY)
# The first path segments of the JSON API (health, messages, models, predict, jobs, ...): a path under one of
# them that no route matches is a mistake to name (404), never the old app's catch-all.
JSON_PREFIXES: frozenset[str] = frozenset(route.path.split("/")[1] for route in ROUTES)
# A browser sends a CORS preflight (OPTIONS, without credentials) before a signed or token-bearing call; on a
# stack with CORS these routes take it past the authorizer that $default carries, to an empty 204 (API Gateway
# adds the CORS headers). Without CORS they do not exist.
PREFLIGHT_METHOD = "OPTIONS"
PREFLIGHT_ROUTE_KEYS: tuple[str, ...] = (f"{PREFLIGHT_METHOD} /", f"{PREFLIGHT_METHOD} /{{proxy+}}")


def function_of(route_key: str) -> str:
    """The function that serves a route key (``$default`` included)."""
    return next((route.function for route in ROUTES if route.route_key == route_key), API_FUNCTION)


def allowed_methods(path: str) -> tuple[str, ...]:
    """The methods the explicit routes accept on this path (for a 405's Allow header)."""
    return tuple(route.method for route in ROUTES if route.match(route.method, path) is not None)


def _meant_segments(path: str) -> list[str]:
    """The path's non-empty segments as a person typing it meant them: percent-decoded and case-folded, so that
    ``/messages%2F``, ``//messages`` and ``/Messages`` all mean ``/messages``."""
    return [segment for segment in unquote(path).casefold().split("/") if segment]


def under_json_prefix(path: str) -> bool:
    """Whether the path's first segment, as meant, is one of the JSON API's (``/predict/``, ``/models/digits``,
    ``/Predict``, ``//messages``, ``/health%2F``); the old app's own URLs (``/``, ``/prod``) are outside them."""
    segments = _meant_segments(path)
    return bool(segments) and segments[0] in JSON_PREFIXES


def nearest_route(method: str, path: str) -> Route:
    """The route a mistaken request most likely meant: the most leading path segments in common (as meant; a
    parameter matches any segment), then the same method, then the closest length."""
    given = _meant_segments(path)

    def closeness(route: Route) -> tuple[int, bool, int]:
        wanted = route.path.split("/")[1:]
        shared = 0
        for want, got in zip(wanted, given, strict=False):
            if not (want == got or want.startswith("{")):
                break
            shared += 1
        return shared, route.method == method.upper(), -abs(len(wanted) - len(given))

    return max(ROUTES, key=closeness)


def match_route_key(method: str, path: str) -> str:
    """The route key API Gateway would report for a request: an explicit route, else ``$default``."""
    for route in ROUTES:
        if route.match(method, path) is not None:
            return route.route_key
    return DEFAULT_ROUTE_KEY
