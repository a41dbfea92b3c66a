"""A fake stack for the smoke check's own tests: an in-process HTTP server answering the documented API's
routes from a table the test changes, and recording every request it gets."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DIGIT = [0] * 64
MODELS = {
    "default_model": "digits",
    "models": [
        {
            "name": "digits",
            "serving": "2",
            "samples": [{"label": "0", "input": DIGIT}, {"label": "1", "input": DIGIT}],
        },
        {"name": "minilm", "serving": "1", "samples": [{"input": "A man is eating food."}, "not a sample"]},
    ],
}


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeStack:
    """Answers keyed by (method, path); GET /jobs/j1 walks through ``job_states``."""

    url: str = ""
    answers: dict[tuple[str, str], tuple[int, dict[str, str], Any]] = field(default_factory=dict)
    job_states: list[dict[str, Any]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        route = (method, path.partition("?")[0])
        if route in self.answers:
            return self.answers[route]
        if (method, path) == ("POST", "/messages"):
            message = {"id": len(self.messages), "text": json.loads(body)["text"], "created_at": "now"}
            self.messages.insert(0, message)
            return 201, {}, message
        if method == "GET" and path.startswith("/messages"):
            return 200, {}, {"items": self.messages, "next_cursor": None}
        if method == "POST" and path.startswith("/models/"):
            inputs = json.loads(body)["inputs"]
            return 200, {}, {"model": path.split("/")[2], "version": "2", "outputs": [{"label": "0"} for _ in inputs]}
        if (method, path) == ("GET", "/jobs/j1") and self.job_states:
            return 200, {}, self.job_states.pop(0) if len(self.job_states) > 1 else self.job_states[0]
        return 404, {}, {"error": {"code": "not_found", "message": path}}


def healthy(stack: FakeStack) -> None:
    """Every route answers as a healthy stack with jobs would; the job's result comes as a presigned URL."""
    stack.answers[("GET", "/health")] = (200, {}, {"status": "ok"})
    stack.answers[("GET", "/models")] = (200, {}, MODELS)
    stack.answers[("POST", "/jobs")] = (202, {}, {"job_id": "j1", "status": "queued"})
    stack.answers[("GET", "/result")] = (200, {}, {"outputs": [{"label": "0"}, {"label": "1"}]})
    stack.answers[("GET", "/ui")] = (200, {}, {})
    stack.job_states[:] = [{"status": "succeeded", "result_url": f"{stack.url}/result?X-Amz-Signature=presigned"}]


@contextmanager
def fake_stack() -> Iterator[FakeStack]:
    stack = FakeStack()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            stack.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
            status, headers, payload = stack.answer(self.command, self.path, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stack.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stack
    finally:
        server.shutdown()
        server.server_close()
