"""`make dev` announces the stack only when its own servers answer: a port held by another process is an error."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from local.dev import Child, api_answers, port_in_use, ui_answers, wait_until_ready
from testing.local_stack import REPO, Running, free_port

RUN_TIMEOUT = 60.0


class HealthyStranger(BaseHTTPRequestHandler):
    """Another program's server: it answers 200 {"status": "ok"} to everything."""

    def do_GET(self) -> None:
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def stranger() -> Iterator[int]:
    """The port of another program's HTTP server, which answers every GET with 200."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), HealthyStranger)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("busy", ["api", "ui"])
def test_dev_refuses_a_port_in_use(stranger: int, tmp_path: Path, busy: str) -> None:
    """With the API or UI port held by another program, `make dev` exits 1 saying so, before starting anything."""
    ports = {"api": free_port(), "ui": free_port(), busy: stranger}
    command = [sys.executable, "-m", "local.dev", "--host", "127.0.0.1", "--data-dir", str(tmp_path / "data")]
    command += ["--api-port", str(ports["api"]), "--ui-port", str(ports["ui"]), "--model-dir", str(tmp_path / "none")]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    assert result.returncode == 1
    assert f"port {stranger} is in use" in result.stderr
    assert "Local stack is up" not in result.stdout
    assert not (tmp_path / "data").exists(), "nothing was published or started"


def test_a_port_taken_after_the_check_is_not_announced(stranger: int) -> None:
    """If another program answers on the API port while our API child fails to bind, startup is not reported ready."""
    # GIVEN our API child, which (as after a bind error) exits soon, and another server answering on its port
    child = Child("API", stranger, subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"]))
    try:
        # WHEN make dev waits for its API
        ready = wait_until_ready(lambda: api_answers("127.0.0.1", stranger), [child], threading.Event())
    finally:
        child.process.kill()
        child.process.wait(RUN_TIMEOUT)
    # THEN it does not take the other server for its own
    assert ready is False


def test_a_free_port_is_not_reported() -> None:
    """A port nobody listens on is free to use."""
    assert port_in_use("127.0.0.1", free_port()) is None


def test_only_a_local_api_passes_the_api_check(stranger: int, toy_server: Running) -> None:
    """Another program answering /health is not taken for the local API; the local API is."""
    assert not api_answers("127.0.0.1", stranger)
    assert api_answers("127.0.0.1", toy_server.port)


def test_nothing_listening_fails_both_checks() -> None:
    """With nothing on the port, neither the API nor the UI counts as up."""
    port = free_port()
    assert not api_answers("127.0.0.1", port)
    assert not ui_answers("127.0.0.1", port)


def test_a_busy_port_is_reported() -> None:
    """A port another socket listens on is reported as in use."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert port_in_use("127.0.0.1", port) == f"port {port} is in use on 127.0.0.1"
