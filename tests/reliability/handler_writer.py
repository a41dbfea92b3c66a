"""A writer process that posts messages through the real Lambda handler, as one Lambda instance would:

    python -m tests.reliability.handler_writer DATA_DIR NAME ACK_PATH

It posts ``NAME:0``, ``NAME:1``, ... to ``POST /messages`` and, only once the handler has answered 201,
appends ``<id> <text>`` to ACK_PATH (the format ``testing.store_helpers.read_acks`` reads)."""

from __future__ import annotations

import json
import os
import sys


def main(data_dir: str, name: str, ack_path: str) -> int:
    os.environ["DATA_DIR"] = data_dir  # read by the handler's settings at import
    from inference.api.handler import lambda_handler
    from testing.api_events import json_event
    from testing.lambda_context import FakeLambdaContext

    ack = os.open(ack_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    number = 0
    while True:
        text = f"{name}:{number}"
        response = lambda_handler(json_event("POST", "/messages", {"text": text}), FakeLambdaContext())
        if response["statusCode"] != 201:
            print(f"{text}: {response['statusCode']} {response['body']}", file=sys.stderr)
            return 1
        os.write(ack, f"{json.loads(response['body'])['id']} {text}\n".encode())  # one small write: whole or absent
        number += 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
