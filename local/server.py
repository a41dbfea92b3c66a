"""The local stand-in for API Gateway's HTTP API in front of the Lambda function.

    python -m local.server --host 127.0.0.1 --port 8080 --data-dir .local/data --workers 4 \\
        --timeout 30 --handler inference.api.handler.lambda_handler

Every request becomes a payload-2.0 event for a worker process (local.workers) and the function's
result is mapped back to HTTP as API Gateway maps it (local.events). Behaviour and sources: docs/LOCAL.md."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import re
import signal
import socket
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

from local.events import (
    GATEWAY_BODY_LIMIT,
    REQUEST_PAYLOAD_LIMIT,
    HttpRequest,
    HttpResponse,
    InvalidResponse,
    build_event,
    gateway_error,
    http_response,
    new_request_id,
    payload_json,
    payload_size,
)
from local.sigv4 import DEFAULT_REGION, KeyPair, SigV4Verifier
from local.workers import FunctionError, FunctionTimeout, IntegrationTimeout, Throttled, WorkerPool

MAX_INTEGRATION_TIMEOUT = 30.0  # HTTP API's ceiling for an integration's timeout, in seconds
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
WORKER_PID_HEADER = "x-local-worker-pid"  # emulator-only: which worker process ran the invocation
# A client that stalls mid-request (or keeps an idle keep-alive connection) holds a thread; after this long
# without a byte its connection is closed. Longer than any pause of a live client, far shorter than forever.
CLIENT_TIMEOUT_SECONDS = 60.0
# Each open connection is a thread: beyond this many, new connections are closed at once rather than let
# threads pile up. Far above what the pool can serve (--workers + --max-queue requests at a time).
MAX_CONNECTIONS = 256
_CHUNK_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(;[^\r\n]*)?\r?\n")  # hex size, optional extensions
_MAX_CHUNK_LINE = 4096  # a chunk-size line (or trailer line) longer than this is malformed
log = logging.getLogger("local.server")


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the listen backlog: a burst beyond the pool waits in our queue, not in the kernel's

    def __init__(
        self,
        address: tuple[str, int],
        pool: WorkerPool,
        integration_timeout: float,
        max_connections: int = MAX_CONNECTIONS,
        verifier: SigV4Verifier | None = None,  # AWS_IAM on every route when set
    ) -> None:
        super().__init__(address, GatewayRequestHandler)
        self.pool = pool
        self.verifier = verifier
        self.integration_timeout = integration_timeout
        self.max_connections = max_connections
        self._connection_slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any) -> None:
        """Serve the connection on a thread of its own if a slot is free, else close it at once."""
        if not self._connection_slots.acquire(blocking=False):
            log.warning("%s connection closed: %d are already open", client_address[0], self.max_connections)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._connection_slots.release()  # no thread started, so none will release it
            raise

    def process_request_thread(self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._connection_slots.release()

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any) -> None:
        """A client that hangs up mid-request is a normal event: one line, not socketserver's traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            log.info("%s closed the connection mid-request (%s)", client_address[0], type(error).__name__)
            return
        super().handle_error(request, client_address)


class GatewayRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway offers
    # Headers and body go out as two writes; with Nagle on, the second waits for the client's
    # delayed ACK (~40 ms a response).
    disable_nagle_algorithm = True
    timeout = CLIENT_TIMEOUT_SECONDS  # socketserver sets it on the connection: a stalled read raises TimeoutError
    server: GatewayServer

    def handle_expect_100(self) -> bool:
        # Refuse an oversized body before the client sends it (curl asks first for bodies over 1 MB).
        if self._declared_length() > REQUEST_PAYLOAD_LIMIT:
            self.close_connection = True
            self._finish(gateway_error(413), new_request_id(), time.monotonic())
            return False
        return super().handle_expect_100()

    def handle_one_request(self) -> None:
        self._request_begun = False  # until a request line arrives, a timeout is an idle keep-alive connection
        super().handle_one_request()

    def parse_request(self) -> bool:
        self._request_begun = True
        return super().parse_request()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (malformed request line or headers, unknown method, URI too long) answered
        as API Gateway answers: JSON ``{"message": ...}``, never Python's HTML error page."""
        self.close_connection = True
        if not hasattr(self, "path"):  # the request line was never parsed
            self.path = ""
        if self.request_version not in ("HTTP/1.0", "HTTP/1.1"):
            self.request_version = "HTTP/1.1"  # else http.server would send the body alone, as to HTTP/0.9
        self._finish(gateway_error(code), new_request_id(), time.monotonic())

    def _serve(self) -> None:
        started = time.monotonic()
        request_id = new_request_id()
        response, worker_pid = self._answer(request_id, started + self.server.integration_timeout)
        self._finish(response, request_id, started, worker_pid)

    def _answer(self, request_id: str, deadline: float) -> tuple[HttpResponse, int | None]:
        body = self._read_body()
        if isinstance(body, HttpResponse):
            return body, None
        if self.server.verifier:
            refused = self.server.verifier.check(self.command, self.path, list(self.headers.items()), body)
            if refused:
                return refused, None
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
            server_port=self.server.server_port,
        )
        event_json = payload_json(build_event(request, request_id, datetime.now(UTC)))
        if payload_size(event_json) > REQUEST_PAYLOAD_LIMIT:
            return gateway_error(413), None
        return self._invoke(event_json, request_id, deadline)

    def _invoke(self, event_json: str, request_id: str, deadline: float) -> tuple[HttpResponse, int | None]:
        try:
            invocation = self.server.pool.invoke(event_json, deadline)
        except Throttled:
            return gateway_error(429), None
        except FunctionError as error:
            # What Lambda would put in the function's log: why the result was refused.
            log.error("%s function error on worker %s: %s", request_id, error.worker_pid, error)
            return gateway_error(500), error.worker_pid
        except FunctionTimeout as error:  # logged by the pool as Lambda logs it ("Task timed out ...")
            return gateway_error(500), error.worker_pid
        except IntegrationTimeout as error:
            return gateway_error(503), error.worker_pid
        try:
            return http_response(invocation.payload), invocation.worker_pid
        except InvalidResponse as error:
            log.error("%s malformed Lambda proxy response: %s", request_id, error)
            return gateway_error(500), invocation.worker_pid

    def _declared_length(self) -> int:
        try:
            return int(self.headers.get("content-length", "0"))
        except ValueError:
            return -1

    def _read_body(self) -> bytes | HttpResponse:
        """The request body, or the response that refuses it (and closes the connection, body unread)."""
        transfer_encoding = self.headers.get("transfer-encoding")
        if transfer_encoding is not None:
            # Chunked framing is taken off here, as API Gateway reassembles a chunked upload before it builds the
            # event; the connection is closed after the answer, since Content-Length may have contradicted it.
            self.close_connection = True
            if transfer_encoding.strip().lower() != "chunked":
                return gateway_error(400)
            return self._read_chunked()
        length = self._declared_length()
        if length < 0:
            self.close_connection = True
            return gateway_error(400)
        if length > GATEWAY_BODY_LIMIT:
            self.close_connection = True
            return gateway_error(413)
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes | HttpResponse:
        """A ``Transfer-Encoding: chunked`` body reassembled; 413 once it outgrows the gateway's 10 MB, 400 if the
        framing is broken (RFC 9112 section 7.1)."""
        body = bytearray()
        while True:
            found = _CHUNK_SIZE_LINE.fullmatch(self.rfile.readline(_MAX_CHUNK_LINE))
            if not found:
                return gateway_error(400)
            size = int(found.group(1), 16)
            if size == 0:
                break
            if len(body) + size > GATEWAY_BODY_LIMIT:
                return gateway_error(413)
            chunk = self.rfile.read(size)
            if len(chunk) < size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                return gateway_error(400)
            body += chunk
        while True:  # trailer fields, which API Gateway does not pass on either, up to the empty line
            line = self.rfile.readline(_MAX_CHUNK_LINE)
            if line in (b"\r\n", b"\n"):
                return bytes(body)
            if not line.endswith(b"\n"):
                return gateway_error(400)

    def _finish(self, response: HttpResponse, request_id: str, started: float, worker_pid: int | None = None) -> None:
        """Send the response as API Gateway would, with its request id, and write the access line."""
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("content-length", str(len(response.body)))
            self.send_header("apigw-requestid", request_id)
            if worker_pid is not None:
                self.send_header(WORKER_PID_HEADER, str(worker_pid))
            if self.close_connection:
                self.send_header("connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away; nothing left to tell it
        log.info(
            '%s "%s %s" %d %dB %.1fms worker=%s requestId=%s',
            self.client_address[0],
            self.command or "-",
            self.path or "-",
            response.status,
            len(response.body),
            (time.monotonic() - started) * 1000,
            worker_pid or "-",
            request_id,
        )

    def version_string(self) -> str:
        return "local-apigw"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Access lines are written by _finish, with the request id and the worker."""

    def log_message(self, format: str, *args: object) -> None:
        if format.startswith("Request timed out"):
            if not self._request_begun:  # a keep-alive connection nobody used for a while: normal, not news
                log.debug("%s idle connection closed after %g s", self.address_string(), self.timeout)
            else:
                log.warning(
                    "%s connection closed: the client sent nothing for %g s in the middle of a request",
                    self.address_string(),
                    self.timeout,
                )
            return
        log.warning("%s %s", self.address_string(), format % args)


for _method in METHODS:
    setattr(GatewayRequestHandler, f"do_{_method}", GatewayRequestHandler._serve)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to bind; 0 picks a free one (default: 8080)")
    parser.add_argument("--data-dir", type=Path, default=Path(".local/data"), help="stands in for the EFS mount")
    parser.add_argument("--workers", type=_positive_int, default=4, help="worker processes = max concurrency")
    parser.add_argument("--timeout", type=_positive_float, default=30.0, help="the function timeout in seconds")
    parser.add_argument(
        "--integration-timeout",
        type=_positive_float,
        default=MAX_INTEGRATION_TIMEOUT,
        help="API Gateway's integration timeout in seconds (at most 30)",
    )
    parser.add_argument(
        "--max-queue", type=int, default=100, help="requests that may wait for a busy pool before 429s (default: 100)"
    )
    parser.add_argument("--handler", default="inference.api.handler.lambda_handler", help="module.function to invoke")
    parser.add_argument(
        "--function-log",
        type=Path,
        default=None,
        help="file for the function's own output (START/END/REPORT, its logs and metrics), emptied at start; "
        "default: this terminal",
    )
    parser.add_argument(
        "--auth", choices=("none", "iam"), default="none", help="iam: every route needs a SigV4 signature (local.sigv4)"
    )
    parser.add_argument(
        "--region", default=DEFAULT_REGION, help="the region signatures are scoped to (with --auth iam)"
    )
    args = parser.parse_args(argv)
    if args.integration_timeout > MAX_INTEGRATION_TIMEOUT:
        parser.error(f"--integration-timeout cannot exceed {MAX_INTEGRATION_TIMEOUT:g} s, as on API Gateway")
    if args.max_queue < 0:
        parser.error("--max-queue cannot be negative")
    problem = _handler_problem(args.handler)
    if problem:
        parser.error(problem)
    return args


def _auth_banner(verifier: SigV4Verifier) -> str:
    keys = verifier.keys
    return (
        f"IAM auth on: sign requests with SigV4 for service execute-api in {verifier.region} with this key pair:\n"
        f"  export AWS_ACCESS_KEY_ID={keys.access_key_id} AWS_SECRET_ACCESS_KEY={keys.secret_access_key}\n"
        f'  curl --aws-sigv4 "aws:amz:{verifier.region}:execute-api" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"'
    )


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {raw!r}")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {raw!r}")
    return value


def _handler_problem(spec: str) -> str | None:
    """Why ``spec`` cannot name a handler, found without importing it (the workers import it)."""
    module, _, function = spec.rpartition(".")
    if not module or not function:
        return f"--handler must look like module.function, got {spec!r}"
    try:
        found = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        found = None
    return None if found else f"--handler {spec}: module {module!r} cannot be found"


def _fresh_log(path: Path) -> Path:
    """``path``, absolute and empty: the function log of this run only."""
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    data_dir = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    function_log = _fresh_log(args.function_log) if args.function_log else None
    pool = WorkerPool(
        args.handler, args.workers, args.timeout, args.max_queue, {"DATA_DIR": str(data_dir)}, function_log
    )
    verifier = None
    if args.auth == "iam":
        verifier = SigV4Verifier(KeyPair.from_env() or KeyPair.generate(), args.region)
    try:
        server = GatewayServer((args.host, args.port), pool, args.integration_timeout, verifier=verifier)
    except OSError as error:
        pool.close()
        print(f"Cannot listen on {args.host}:{args.port}: {error.strerror or error}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    url = f"http://{args.host}:{server.server_port}"
    print(f"Local API on {url} ({args.workers} workers, data in {data_dir})", flush=True)
    if function_log:
        print(f"Function log (START/END/REPORT, the function's logs and metrics): {function_log}", flush=True)
    if verifier:
        print(_auth_banner(verifier), flush=True)
    while not stop.wait(0.5):
        pass
    log.info("stopping the local API")
    server.shutdown()
    server.server_close()
    pool.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
