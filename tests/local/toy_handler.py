"""A toy Lambda handler for the local stack's tests: /toy/<behaviour> shows one behaviour the emulator
must map, and every other path echoes the event back, so tests can inspect what API Gateway would send."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any


def handle(event: dict[str, Any], context: Any) -> Any:
    behaviour = BEHAVIOURS.get(event["rawPath"], echo)
    return behaviour(event, context)


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """200 with the event, the worker's pid and environment, and the context's values."""
    body = {
        "event": event,
        "pid": os.getpid(),
        "data_dir": os.environ.get("DATA_DIR"),
        "aws_request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def hold(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Marks that it started, then waits until DATA_DIR/release exists or ?seconds= pass."""
    data_dir = Path(os.environ["DATA_DIR"])
    (data_dir / f"started-{os.getpid()}").touch()
    until = time.monotonic() + float((event.get("queryStringParameters") or {}).get("seconds", "60"))
    while time.monotonic() < until and not (data_dir / "release").exists():
        time.sleep(0.02)
    return {"statusCode": 200, "body": "released"}


def crash(event: dict[str, Any], context: Any) -> None:
    """The runtime process dies mid-invocation."""
    os._exit(3)


def fail(event: dict[str, Any], context: Any) -> None:
    """An unhandled exception in the function."""
    raise ValueError("the toy handler failed on purpose")


def no_status(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A JSON object without statusCode: API Gateway must wrap it as a 200 application/json body."""
    return {"message": "Hello from Lambda!", "n": 1}


def plain_string(event: dict[str, Any], context: Any) -> str:
    """A bare string result: API Gateway must send the string itself as the body."""
    return "Hello from Lambda!"


def full_response(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Every field of a payload-2.0 response: status, headers, cookies and a base64 body."""
    return {
        "statusCode": 418,
        "headers": {"content-type": "image/png", "x-custom": "yes", "x-number": 7, "content-length": "999"},
        "cookies": ["a=1; Path=/", "b=2; HttpOnly"],
        "isBase64Encoded": True,
        "body": base64.b64encode(b"\x89PNG\x00\xff").decode(),
    }


def malformed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A statusCode with a body that is not a string: API Gateway answers 500."""
    return {"statusCode": 200, "body": {"not": "a string"}}


def unserialisable(event: dict[str, Any], context: Any) -> object:
    """A result Lambda cannot marshal to JSON."""
    return {"statusCode": 200, "body": object()}


def body_length(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The number of characters of the body the function received."""
    return {"statusCode": 200, "body": str(len(event.get("body", "")))}


def euros(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A body of ?n= euro signs: 3 bytes each in UTF-8, 6 each if the result were \\u-escaped."""
    return {"statusCode": 200, "body": "€" * int(event["queryStringParameters"]["n"])}


BEHAVIOURS = {
    "/toy/hold": hold,
    "/toy/crash": crash,
    "/toy/fail": fail,
    "/toy/no-status": no_status,
    "/toy/string": plain_string,
    "/toy/full": full_response,
    "/toy/malformed": malformed,
    "/toy/unserialisable": unserialisable,
    "/toy/body-length": body_length,
    "/toy/euros": euros,
}
