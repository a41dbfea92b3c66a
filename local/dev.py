"""`make dev`: the whole stack on this machine, no AWS account or Docker needed.

    python -m local.dev --host 127.0.0.1 --api-port 8080 --ui-port 8501 --data-dir .local/data \\
        --workers 4 --model-dir models/digits --model-dir models/minilm

Publishes the example models into the data folder (laid out as on EFS), starts the local API
(local.server) and the Streamlit UI pointed at it, prints both URLs, and on Ctrl-C or SIGTERM stops
both together with every process they started."""

from __future__ import annotations

import argparse
import contextlib
import errno
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from inference.layout import DataLayout
from inference.models.publishing import PublishError, publish_version
from local.server import WORKER_PID_HEADER

STARTUP_TIMEOUT_SECONDS = 120.0  # Streamlit's first start on a cold machine can take a while
STOP_GRACE_SECONDS = 10.0
_POLL_SECONDS = 0.2
_PROBE_TIMEOUT_SECONDS = 10.0  # a first /health waits for a worker's cold start; a slower one is asked again


@dataclass
class Child:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    def exited(self) -> bool:
        return self.process.poll() is not None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.dev", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address both servers bind (default: 127.0.0.1)")
    parser.add_argument("--api-port", type=int, default=8080)
    parser.add_argument("--ui-port", type=int, default=8501)
    parser.add_argument("--data-dir", type=Path, default=Path(".local/data"), help="stands in for the EFS mount")
    parser.add_argument("--workers", type=int, default=4, help="the API's worker processes")
    parser.add_argument(
        "--model-dir", type=Path, action="append", help="a model to publish; repeat for more (default: models/digits)"
    )
    parser.add_argument("--ui-app", type=Path, default=Path("ui_image/app.py"), help="the Streamlit script")
    args = parser.parse_args(argv)
    if args.api_port == args.ui_port:
        parser.error("--api-port and --ui-port must differ")
    args.model_dirs = args.model_dir or [Path("models/digits")]
    return args


def publish_model(model_dir: Path, data_dir: Path) -> Path:
    """Publish ``model_dir`` under the data folder's models/ as its folder name; a no-op if already there."""
    return publish_version(model_dir, DataLayout(data_dir).models_dir, model_dir.resolve().name)


def api_command(args: argparse.Namespace, data_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "local.server",
        "--host",
        args.host,
        "--port",
        str(args.api_port),
        "--data-dir",
        str(data_dir),
        "--workers",
        str(args.workers),
    ]


def ui_command(args: argparse.Namespace) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(args.ui_app),
        "--server.port",
        str(args.ui_port),
        "--server.address",
        args.host,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]


def start(name: str, port: int, command: list[str], env: dict[str, str]) -> Child:
    # A session (and process group) of its own: Ctrl-C reaches only us, and one killpg later reaches
    # everything the child started, its worker processes included.
    return Child(name, port, subprocess.Popen(command, env=env, start_new_session=True))


def port_in_use(host: str, port: int) -> str | None:
    """Why a server could not listen on ``host:port``, found by binding it as local.server and Streamlit do."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as both servers: TIME_WAIT is no obstacle
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return f"port {port} is in use on {host}"
            return f"cannot listen on {host}:{port}: {error.strerror or error}"
    return None


def api_answers(host: str, port: int) -> bool:
    """True if a local.server answers GET /health on ``host:port``: only its responses name a worker process."""
    response = _get(host, port, "/health")
    return response is not None and response.getheader(WORKER_PID_HEADER) is not None


def ui_answers(host: str, port: int) -> bool:
    """True if a Streamlit server passes its health check on ``host:port``."""
    response = _get(host, port, "/_stcore/health")
    return response is not None and response.status == 200


def _get(host: str, port: int, path: str) -> http.client.HTTPResponse | None:
    """The response to GET ``path``, body read; None if nothing answers over HTTP."""
    connection = http.client.HTTPConnection(host, port, timeout=_PROBE_TIMEOUT_SECONDS)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def wait_until_ready(answers: Callable[[], bool], children: list[Child], stop: threading.Event) -> bool:
    """True once ``answers()`` and every child still runs; False if a child exits, a stop is asked or time runs out."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline and not stop.is_set():
        if any(child.exited() for child in children):
            return False
        if answers():
            # A child that exited meanwhile (e.g. from a bind error) means the answer came from someone else.
            return not any(child.exited() for child in children)
        stop.wait(_POLL_SECONDS)
    return False


def stop_all(children: list[Child]) -> None:
    """SIGTERM each child's process group, wait, then SIGKILL whatever is left in those groups."""
    for child in children:
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        try:
            child.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{child.name} did not stop within {STOP_GRACE_SECONDS:g} s; killing it", file=sys.stderr)
    for child in children:
        _signal_group(child, signal.SIGKILL)  # stragglers, e.g. a worker whose server was killed
        child.process.wait()


def _signal_group(child: Child, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group has already exited
        os.killpg(child.process.pid, signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for port in (args.api_port, args.ui_port):
        problem = port_in_use(args.host, port)
        if problem:
            print(f"Cannot start the local stack: {problem}.", file=sys.stderr)
            return 1
    data_dir = args.data_dir.resolve()
    for model_dir in args.model_dirs:
        try:
            published = publish_model(model_dir, data_dir)
        except PublishError as error:
            print(f"Cannot publish {model_dir}: {error}", file=sys.stderr)
            print(f"Give it a new version, or remove {DataLayout(data_dir).models_dir} to start over.", file=sys.stderr)
            return 1
        print(f"Model published: {published}", flush=True)

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    api_url = f"http://{args.host}:{args.api_port}"
    ui_url = f"http://{args.host}:{args.ui_port}"
    children = [
        start("API", args.api_port, api_command(args, data_dir), dict(os.environ)),
        start("UI", args.ui_port, ui_command(args), {**os.environ, "API_URL": api_url}),
    ]
    try:
        return _supervise(args, children, stop, api_url, ui_url)
    finally:
        stop_all(children)


def _supervise(
    args: argparse.Namespace, children: list[Child], stop: threading.Event, api_url: str, ui_url: str
) -> int:
    """Announce the URLs once our own two servers answer, then wait for a stop or for a child to exit."""
    ready = wait_until_ready(lambda: api_answers(args.host, args.api_port), children, stop) and wait_until_ready(
        lambda: ui_answers(args.host, args.ui_port), children, stop
    )
    if ready:
        print(f"\nLocal stack is up:\n  API  {api_url}  (try {api_url}/health)\n  UI   {ui_url}", flush=True)
        print("Press Ctrl-C to stop both.", flush=True)
    elif not stop.is_set() and not any(child.exited() for child in children):
        print(f"Not answering yet after {STARTUP_TIMEOUT_SECONDS:g} s: {api_url}, {ui_url}", file=sys.stderr)
    while not stop.is_set():
        for child in children:
            if child.exited():
                problem = port_in_use(args.host, child.port)  # e.g. taken since our check: the child could not bind
                why = f" ({problem})" if problem else ""
                print(
                    f"The {child.name} exited with status {child.process.returncode}{why}; stopping.", file=sys.stderr
                )
                return 1
        stop.wait(_POLL_SECONDS)
    print("Stopping the local stack.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
