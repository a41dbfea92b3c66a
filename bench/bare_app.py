"""The floor for cold start and per-request cost: a Lambda handler that is a plain function returning a dict."""

from __future__ import annotations

from typing import Any

_BODY = '{"status": "ok"}'


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": _BODY}
