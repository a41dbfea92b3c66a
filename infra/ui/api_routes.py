"""The API routes the UI calls, read from the UI's own clients (ui_image/ui/api_client.py and job_client.py),
so that the UI tasks' role may invoke exactly those routes: the route table (inference.routes) is the one
definition of the routes, and the clients' calls are the one definition of which the UI uses.

Every ``_call("METHOD", "/path")`` or ``_call("METHOD", f"/path/{value}")`` in those files is matched against
the route table (an f-string's values stand for path parameters); a call no route matches is an error here,
before any resource is made, as a client calling a route the role may not invoke would be on AWS."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from inference.routes import ROUTES, Route

UI_PACKAGE = Path(__file__).resolve().parents[2] / "ui_image" / "ui"
UI_CLIENTS = (UI_PACKAGE / "api_client.py", UI_PACKAGE / "job_client.py")
_PLACEHOLDER = "x"  # what an f-string's value becomes: any non-empty path segment


class UnknownRouteCall(ValueError):
    """A UI client calls a method and path that no route of the API serves."""


def calls_in(source: str, filename: str) -> list[tuple[str, str]]:
    """(method, path) of every ``<something>._call(...)`` in ``source``, f-string values as placeholders."""
    calls = []
    for node in ast.walk(ast.parse(source, filename)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "_call"):
            continue
        if len(node.args) < 2 or not isinstance(node.args[0], ast.Constant):
            raise UnknownRouteCall(f"{filename}:{node.lineno}: _call needs a literal method and path")
        calls.append((str(node.args[0].value), _literal_path(node.args[1], filename, node.lineno)))
    return calls


def _literal_path(node: ast.expr, filename: str, line: int) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(part.value) if isinstance(part, ast.Constant) else _PLACEHOLDER for part in node.values)
    raise UnknownRouteCall(f"{filename}:{line}: _call's path must be a string or an f-string")


def routes_called(files: Iterable[Path] = UI_CLIENTS) -> tuple[Route, ...]:
    """The routes the UI's clients call, in route-table order."""
    called: set[Route] = set()
    for path in files:
        for method, target in calls_in(path.read_text(encoding="utf-8"), path.name):
            route = next((route for route in ROUTES if route.match(method, target) is not None), None)
            if route is None:
                raise UnknownRouteCall(f"{path.name} calls {method} {target}, which no route of the API serves")
            called.add(route)
    return tuple(route for route in ROUTES if route in called)


def invoke_arn(execution_arn: str, route: Route) -> str:
    """The execute-api ARN of one route on any stage: path parameters become ``*``."""
    path = "/".join("*" if part.startswith("{") else part for part in route.path.split("/"))
    return f"{execution_arn}/*/{route.method}{path}"
