"""One cold start, run in a fresh interpreter by ``bench.cold_start``:

    python -m bench.cold_probe APP EVENTS_JSON

Times the import of APP's handler module, its first request (GET /health: store and registry set up), its
first /predict (model load + inference) and a second /predict, then prints ``RESULT {json}``. Nothing
else is imported before the clock starts, beyond json and the fake Lambda context."""

from __future__ import annotations

import importlib
import json
import sys
import time
from typing import Any

from testing.lambda_context import FakeLambdaContext

APPS = {
    "bare function": "bench.bare_app",
    "this handler": "inference.api.handler",
    "FastAPI + Mangum": "bench.peer_app",
}


def main(app: str, events_path: str) -> None:
    with open(events_path, encoding="utf-8") as file:
        events: dict[str, Any] = json.load(file)
    context = FakeLambdaContext()
    started = time.perf_counter()
    handler = importlib.import_module(APPS[app]).lambda_handler
    imported = time.perf_counter()
    marks: dict[str, float] = {"imports": imported - started}
    for step, event_name in (("first_request", "health"), ("first_predict", "predict"), ("warm_predict", "predict")):
        begun = time.perf_counter()
        response = handler(events[event_name], context)
        marks[step] = time.perf_counter() - begun
        if response["statusCode"] != 200:
            raise SystemExit(f"{app}: {event_name} answered {response['statusCode']}: {response['body']}")
    print("RESULT " + json.dumps(marks), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
