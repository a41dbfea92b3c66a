"""A Lambda-like pool of worker processes.

Each worker process is one execution environment: it imports the handler once (its cold start, logged
with its duration) and then runs one invocation at a time, printing Lambda's START/END/REPORT lines. Like a
function's CloudWatch log stream, everything a worker prints (those lines, the function's own logs and metrics)
goes to the pool's function log when it has one, else to the server's terminal.
The pool bounds concurrency, lets a bounded number of requests wait for a free worker, and kills and
replaces a worker that runs past its deadline or dies."""

from __future__ import annotations

import importlib
import json
import logging
import math
import multiprocessing
import os
import queue
import resource
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from local.events import RESPONSE_PAYLOAD_LIMIT, payload_json, payload_size

FUNCTION_NAME = "efs-inference-local"
MEMORY_SIZE_MB = 1024  # reported to the handler and in REPORT lines, not enforced

_SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter per worker, as Lambda gives
_STOP_GRACE_SECONDS = 3.0
log = logging.getLogger("local.workers")

Handler = Callable[[dict[str, Any], Any], Any]


class InvocationFailed(Exception):
    """The invocation produced no function result; the server answers as API Gateway would.

    ``worker_pid`` is the worker that had the invocation, None if none had it yet."""

    def __init__(self, message: str, worker_pid: int | None = None) -> None:
        super().__init__(message)
        self.worker_pid = worker_pid


class Throttled(InvocationFailed):
    """Every worker is busy and the queue of waiting requests is full."""


class FunctionError(InvocationFailed):
    """The function raised, returned something Lambda cannot send, failed its init, or its process died.

    ``error_type`` is Lambda's errorType, e.g. ValueError, Runtime.ExitError, Function.ResponseSizeTooLarge."""

    def __init__(self, error_type: str, error_message: str, worker_pid: int) -> None:
        super().__init__(f"{error_type}: {error_message}", worker_pid)
        self.error_type = error_type
        self.error_message = error_message


class FunctionTimeout(InvocationFailed):
    """The function ran past its own timeout (Lambda: "Task timed out")."""


class IntegrationTimeout(InvocationFailed):
    """API Gateway's integration timeout passed before the function answered."""


@dataclass(frozen=True)
class Invocation:
    payload: str  # the function's result, serialised as Lambda serialises it (JSON)
    worker_pid: int


@dataclass(frozen=True)
class LambdaContext:
    """The context object Lambda's Python runtime passes to the handler."""

    aws_request_id: str
    deadline_epoch_seconds: float
    log_stream_name: str
    function_name: str = FUNCTION_NAME
    function_version: str = "$LATEST"
    invoked_function_arn: str = f"arn:aws:lambda:local:000000000000:function:{FUNCTION_NAME}"
    memory_limit_in_mb: int = MEMORY_SIZE_MB
    log_group_name: str = f"/aws/lambda/{FUNCTION_NAME}"
    client_context: None = None
    identity: None = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline_epoch_seconds - time.time()) * 1000))


# ---------------------------------------------------------------- inside a worker process


def load_handler(spec: str) -> Handler:
    """The function named ``module.function``, imported the way Lambda's runtime imports it."""
    module_name, _, function_name = spec.rpartition(".")
    handler = getattr(importlib.import_module(module_name), function_name)
    if not callable(handler):
        raise TypeError(f"{spec} is not callable")
    return handler


def serve(handler_spec: str, conn: Connection, env: Mapping[str, str], log_path: Path | None = None) -> None:
    """A worker process's main loop: initialise once, then answer invocations until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server, which stops the workers
    if log_path is not None:
        _write_output_to(log_path)
    os.environ.update(env)
    stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
    os.environ["AWS_LAMBDA_LOG_STREAM_NAME"] = stream  # as Lambda's runtime sets it: names this environment
    _platform_log(f"INIT_START Runtime Version: python:{sys.version_info.major}.{sys.version_info.minor}")
    started = time.perf_counter()
    try:
        handler = load_handler(handler_spec)
    except Exception as error:
        _platform_log(f"[ERROR] {type(error).__name__}: {error}\n{traceback.format_exc()}")
        conn.send(("init_error", type(error).__name__, f"Unable to import handler {handler_spec}: {error}"))
        return
    init_ms: float | None = (time.perf_counter() - started) * 1000
    conn.send(("ready",))
    while True:
        try:
            request_id, event_json, deadline = conn.recv()
        except EOFError:
            return
        context = LambdaContext(request_id, deadline, stream)
        _platform_log(f"START RequestId: {request_id} Version: $LATEST")
        started = time.perf_counter()
        reply = _run(handler, event_json, context)
        duration_ms = (time.perf_counter() - started) * 1000
        _platform_log(f"END RequestId: {request_id}")
        _platform_log(_report_line(request_id, duration_ms, init_ms))
        init_ms = None  # only the first REPORT of an environment carries its Init Duration
        conn.send(reply)


def _run(handler: Handler, event_json: str, context: LambdaContext) -> tuple[str, ...]:
    try:
        result = handler(json.loads(event_json), context)
    except Exception as error:
        _platform_log(f"[ERROR] {type(error).__name__}: {error}\n{traceback.format_exc()}")
        return ("error", type(error).__name__, str(error))
    try:
        payload = payload_json(result)
        size = payload_size(payload)  # a lone surrogate cannot be encoded: a ValueError, as in the runtime
    except (TypeError, ValueError) as error:
        message = f"Unable to marshal response: {error}"
        _platform_log(f"[ERROR] Runtime.MarshalError: {message}")  # the runtime logs it in the function's log
        return ("error", "Runtime.MarshalError", message)
    if size > RESPONSE_PAYLOAD_LIMIT:
        return (
            "error",
            "Function.ResponseSizeTooLarge",
            f"Response payload size exceeded maximum allowed payload size ({RESPONSE_PAYLOAD_LIMIT} bytes).",
        )
    return ("result", payload)


def _report_line(request_id: str, duration_ms: float, init_ms: float | None) -> str:
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    max_mb = max_rss // (1024 * 1024) if sys.platform == "darwin" else max_rss // 1024  # bytes on macOS, KiB on Linux
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {math.ceil(duration_ms)} ms\tMemory Size: {MEMORY_SIZE_MB} MB\tMax Memory Used: {max_mb} MB"
    )
    return line if init_ms is None else f"{line}\tInit Duration: {init_ms:.2f} ms"


def _platform_log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _write_output_to(log_path: Path) -> None:
    """Point this process's stdout and stderr (the file descriptors, so every writer follows) at the end of
    ``log_path``; O_APPEND keeps the workers' lines whole when several write at once."""
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


# ---------------------------------------------------------------- in the server process


class Worker:
    """The server's handle on one worker process: used by one request thread at a time."""

    def __init__(self, handler_spec: str, env: Mapping[str, str], log_path: Path | None = None) -> None:
        self._conn, child_conn = _SPAWN.Pipe()
        self._process = _SPAWN.Process(target=serve, args=(handler_spec, child_conn, dict(env), log_path), daemon=True)
        self._process.start()
        child_conn.close()  # so that the worker's death reads as EOF here
        self._ready = False
        self.usable = True

    @property
    def pid(self) -> int:
        return self._process.pid or 0

    def invoke(self, event_json: str, request_id: str, function_timeout: float, integration_deadline: float) -> str:
        """Run one invocation; ``integration_deadline`` is on the time.monotonic() clock."""
        if not self._ready:
            self._await_init(integration_deadline)
        function_deadline = time.monotonic() + function_timeout
        try:
            self._conn.send((request_id, event_json, time.time() + function_timeout))
        except OSError:
            raise self._died() from None
        reply = self._receive(min(function_deadline, integration_deadline))
        if reply is None:
            self.kill()
            if function_deadline <= integration_deadline:
                log.info("%s Task timed out after %.2f seconds", request_id, function_timeout)
                raise FunctionTimeout(f"Task timed out after {function_timeout:.2f} seconds", self.pid)
            log.info("%s Integration timed out; worker %s stopped", request_id, self.pid)
            raise IntegrationTimeout("the integration timed out", self.pid)
        if reply[0] == "result":
            return str(reply[1])
        raise FunctionError(reply[1], reply[2], self.pid)

    def _await_init(self, integration_deadline: float) -> None:
        reply = self._receive(integration_deadline)
        if reply is None:
            self.kill()
            raise IntegrationTimeout("the integration timed out during the worker's init", self.pid)
        if reply[0] == "init_error":
            self.usable = False
            raise FunctionError(reply[1], reply[2], self.pid)
        self._ready = True

    def _receive(self, deadline: float) -> tuple[Any, ...] | None:
        """The worker's next message, or None if ``deadline`` passes first."""
        try:
            if not self._conn.poll(max(0.0, deadline - time.monotonic())):
                return None
            reply: tuple[Any, ...] = self._conn.recv()
        except (EOFError, OSError):
            raise self._died() from None
        return reply

    def _died(self) -> FunctionError:
        self.usable = False
        self._process.join(_STOP_GRACE_SECONDS)
        return FunctionError(
            "Runtime.ExitError", f"Runtime exited with error: exit status {self._process.exitcode}", self.pid
        )

    def kill(self) -> None:
        self.usable = False
        self._process.kill()
        self._process.join(_STOP_GRACE_SECONDS)

    def stop(self) -> None:
        """Ask the process to end, then make sure it has."""
        self.usable = False
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(_STOP_GRACE_SECONDS)
        if self._process.is_alive():
            self.kill()


@dataclass
class WorkerPool:
    """``size`` workers; up to ``max_queue`` more requests wait for one, the rest are throttled.

    ``log_path``: where the workers' output goes (the function's log), None for the server's own terminal."""

    handler_spec: str
    size: int
    function_timeout: float
    max_queue: int
    env: Mapping[str, str]
    log_path: Path | None = None
    _idle: queue.Queue[Worker] = field(default_factory=queue.Queue, init=False)
    _all: set[Worker] = field(default_factory=set, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _admitted: int = field(default=0, init=False)
    _closed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        for _ in range(self.size):
            self._idle.put(self._spawn())

    def _spawn(self) -> Worker:
        worker = Worker(self.handler_spec, self.env, self.log_path)
        with self._lock:
            self._all.add(worker)
        return worker

    def invoke(self, event_json: str, integration_deadline: float) -> Invocation:
        """Run the function on a free worker; ``integration_deadline`` is on the time.monotonic() clock."""
        with self._lock:
            if self._closed or self._admitted >= self.size + self.max_queue:
                raise Throttled("no worker is free and the queue of waiting requests is full")
            self._admitted += 1
        try:
            # A free worker comes round in FIFO order, so consecutive requests use different processes.
            worker = self._idle.get(timeout=max(0.0, integration_deadline - time.monotonic()))
        except queue.Empty:
            self._leave()
            raise IntegrationTimeout("no worker became free before the integration timeout") from None
        try:
            request_id = str(uuid.uuid4())  # Lambda's own request id, distinct from API Gateway's
            payload = worker.invoke(event_json, request_id, self.function_timeout, integration_deadline)
            return Invocation(payload, worker.pid)
        finally:
            self._release(worker)
            self._leave()

    def _leave(self) -> None:
        with self._lock:
            self._admitted -= 1

    def _release(self, worker: Worker) -> None:
        if worker.usable:
            self._idle.put(worker)
            return
        worker.stop()
        with self._lock:
            self._all.discard(worker)
            closed = self._closed
        if not closed:
            self._idle.put(self._spawn())

    def close(self) -> None:
        """Stop every worker, busy or idle; requests still running get a FunctionError."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.stop()
