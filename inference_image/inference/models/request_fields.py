"""The rules that a JSON body asking a model for answers follows, now (predict) or later (a job): which fields it may
hold, and how it names a version. One definition, so that both routes refuse and accept the same bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from inference.errors import BadRequest


def check_fields(body: Mapping[str, object], allowed: Sequence[str], what: str, hint: str = "") -> None:
    """400 ``unknown_field`` naming the fields of ``body`` that ``allowed`` does not list: a field such as
    ``"model"`` in a predict body, or a misspelt ``"input"``, is never silently ignored."""
    unknown = [key for key in body if key not in allowed]
    if unknown:
        named = ", ".join(json.dumps(key[:40]) for key in unknown[:5])
        raise BadRequest(
            f"unknown field(s) {named} in the body; {what} has only {', '.join(allowed)}{hint}", "unknown_field"
        )


def version_name(value: object) -> str | None:
    """The version a body asks for (None: the newest). Versions are names, but ``"version": 1`` plainly means
    ``"1"``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    raise BadRequest('"version" must be a string such as "1" (or a whole number)', "invalid_version")
