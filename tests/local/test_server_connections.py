"""Connections that would hold the server's threads: a client that stalls mid-request, and too many open at once.

The server runs in this process (with an empty worker pool, which throttles every invocation with 429),
so the tests can shorten its timeout and connection limit."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from local.server import CLIENT_TIMEOUT_SECONDS, GatewayRequestHandler, GatewayServer
from local.workers import WorkerPool
from testing.local_stack import TOY_HANDLER

WAIT_SECONDS = 20.0  # a bound on every wait; the server is expected to act well within it
StartServer = Callable[[int], GatewayServer]


@pytest.fixture
def start_gateway() -> Iterator[StartServer]:
    """Starts an in-process server on a free port allowing ``max_connections``; stops it after the test."""
    started: list[GatewayServer] = []

    def start(max_connections: int) -> GatewayServer:
        server = GatewayServer(("127.0.0.1", 0), WorkerPool(TOY_HANDLER, 0, 1.0, 0, {}), 1.0, max_connections)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def connect(server: GatewayServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.server_port), timeout=WAIT_SECONDS)


def closed_by_server(client: socket.socket) -> bool:
    """True if the server closes the connection without answering; False if it answers."""
    try:
        return client.recv(1024) == b""
    except ConnectionResetError:
        return True


def answered(server: GatewayServer) -> bytes:
    """The status line the server answers a GET / with, over a fresh connection."""
    with connect(server) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n")
        return client.makefile("rb").readline().rstrip()


def test_a_stalled_request_is_closed_and_frees_its_thread(
    start_gateway: StartServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client sending 3 of the 10 body bytes it declared is disconnected after the timeout; its slot is freed."""
    assert GatewayRequestHandler.timeout == CLIENT_TIMEOUT_SECONDS, "the server's own connections have the timeout"
    monkeypatch.setattr(GatewayRequestHandler, "timeout", 0.5)  # shortened, so the test need not wait a minute
    server = start_gateway(1)
    with connect(server) as client:
        client.sendall(b"POST / HTTP/1.1\r\nHost: local\r\nContent-Length: 10\r\n\r\nabc")
        assert closed_by_server(client)
    assert answered_once_a_slot_frees(server) == b"HTTP/1.1 429 Too Many Requests"


def test_connections_beyond_the_limit_are_closed(start_gateway: StartServer) -> None:
    """With every connection slot taken, a new connection is closed at once; once one closes, the next is served."""
    server = start_gateway(1)
    with connect(server) as holder:
        holder.sendall(b"GET / HTTP/1.1\r\nHost: local\r\n\r\n")
        assert holder.makefile("rb").readline().startswith(b"HTTP/1.1 429")  # served, and kept alive
        with connect(server) as refused:
            assert closed_by_server(refused)
    assert answered_once_a_slot_frees(server) == b"HTTP/1.1 429 Too Many Requests"


def answered_once_a_slot_frees(server: GatewayServer) -> bytes | None:
    """The status line of a GET /, retried while the server has not yet released the closed connection's slot
    (its thread notices the close a moment after the client does)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while (status := _try_answered(server)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return status


def _try_answered(server: GatewayServer) -> bytes | None:
    try:
        return answered(server) or None
    except ConnectionResetError:
        return None
