"""What the local API prints: one access line per request in its terminal, the function's own output (Lambda's
START/END/REPORT lines, logs, metrics) in the function log, and no alarming lines for normal events."""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.server import GatewayRequestHandler, GatewayServer
from local.workers import WorkerPool
from testing.local_stack import TOY_HANDLER, call, start_server, stop, wait_for_line


def test_function_output_goes_to_the_function_log(tmp_path: Path) -> None:
    """With --function-log the terminal shows the access line only; START/END/REPORT land in the log file."""
    function_log = tmp_path / "logs" / "function.log"
    server = start_server(
        tmp_path / "data", tmp_path / "server.log", "--workers", "1", "--function-log", str(function_log)
    )
    try:
        reply = call(server.url, "GET", "/health")
        assert reply.status == 200
        request_id = reply.header("apigw-requestid")
        wait_for_line(server, f"requestId={request_id}")
        deadline = time.monotonic() + 20
        while "REPORT RequestId" not in function_log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop(server)
    terminal, written = server.log(), function_log.read_text()
    assert f"Function log (START/END/REPORT, the function's logs and metrics): {function_log}" in terminal
    assert '"GET /health" 200' in terminal
    for lambda_line in ("INIT_START", "START RequestId", "END RequestId", "REPORT RequestId"):
        assert lambda_line not in terminal
        assert lambda_line in written


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[GatewayServer]:
    """An in-process server (no workers) whose connections time out after 0.3 s."""
    monkeypatch.setattr(GatewayRequestHandler, "timeout", 0.3)
    server = GatewayServer(("127.0.0.1", 0), WorkerPool(TOY_HANDLER, 0, 1.0, 0, {}), 1.0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def wait_closed(client: socket.socket) -> None:
    client.settimeout(20)
    while client.recv(4096):
        pass


def test_idle_keep_alive_close_is_not_a_warning(gateway: GatewayServer, caplog: pytest.LogCaptureFixture) -> None:
    """A kept-alive connection that goes quiet is closed with a debug line only, not 'Request timed out'."""
    caplog.set_level(logging.DEBUG, logger="local.server")
    with socket.create_connection(("127.0.0.1", gateway.server_port), timeout=20) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: local\r\n\r\n")  # answered (429: no workers), then left idle
        wait_closed(client)
    time.sleep(0.2)  # the server logs just after it closes
    warnings = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert warnings == []
    assert any("idle connection closed" in record.getMessage() for record in caplog.records)


def test_stall_mid_request_is_a_clear_warning(gateway: GatewayServer, caplog: pytest.LogCaptureFixture) -> None:
    """A client that stops in the middle of its request is logged as such, in words, not as a TimeoutError repr."""
    with socket.create_connection(("127.0.0.1", gateway.server_port), timeout=20) as client:
        client.sendall(b"POST / HTTP/1.1\r\nHost: local\r\nContent-Length: 10\r\n\r\nabc")
        wait_closed(client)
    time.sleep(0.2)
    warnings = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "the client sent nothing for 0.3 s in the middle of a request" in warnings[0]
    assert "TimeoutError" not in warnings[0]


def test_a_client_hanging_up_mid_request_is_one_line_not_a_traceback(
    gateway: GatewayServer, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """A connection reset in the middle of a body is one plain log line, not socketserver's traceback."""
    caplog.set_level(logging.INFO, logger="local.server")
    client = socket.create_connection(("127.0.0.1", gateway.server_port), timeout=20)
    client.sendall(b"POST / HTTP/1.1\r\nHost: local\r\nContent-Length: 100000\r\n\r\nabc")
    time.sleep(0.1)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
    client.close()
    deadline = time.monotonic() + 20
    while not any("closed the connection mid-request" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, [record.getMessage() for record in caplog.records]
        time.sleep(0.05)
    assert "Traceback" not in capfd.readouterr().err
