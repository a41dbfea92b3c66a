"""`make dev`: the whole stack on this machine, no AWS account or Docker needed.

    python -m local.dev --host 127.0.0.1 --api-port 8080 --ui-port 8501 --data-dir .local/data \\
        --workers 4 --model-dir models/digits

Publishes the example model into the data folder (laid out as on EFS), starts the local API
(local.server) and the Streamlit UI pointed at it, prints both URLs, and on Ctrl-C or SIGTERM stops
both together with every process they started."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from inference.layout import DataLayout
from inference.publishing import PublishError, publish_version

STARTUP_TIMEOUT_SECONDS = 120.0  # Streamlit's first start on a cold machine can take a while
STOP_GRACE_SECONDS = 10.0
_POLL_SECONDS = 0.2


@dataclass
class Child:
    name: str
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
    parser.add_argument("--model-dir", type=Path, default=Path("models/digits"), help="the model to publish")
    parser.add_argument("--ui-app", type=Path, default=Path("ui_image/app.py"), help="the Streamlit script")
    return parser.parse_args(argv)


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


def start(name: str, command: list[str], env: dict[str, str]) -> Child:
    # A session (and process group) of its own: Ctrl-C reaches only us, and one killpg later reaches
    # everything the child started, its worker processes included.
    return Child(name, subprocess.Popen(command, env=env, start_new_session=True))


def wait_until_listening(host: str, port: int, children: list[Child], stop: threading.Event) -> bool:
    """True once ``host:port`` accepts connections; False if a child exits, a stop is asked or time runs out."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline and not stop.is_set():
        if any(child.exited() for child in children):
            return False
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return True
        except OSError:
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
    data_dir = args.data_dir.resolve()
    try:
        published = publish_model(args.model_dir, data_dir)
    except PublishError as error:
        print(f"Cannot publish {args.model_dir}: {error}", file=sys.stderr)
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
        start("API", api_command(args, data_dir), dict(os.environ)),
        start("UI", ui_command(args), {**os.environ, "API_URL": api_url}),
    ]
    try:
        return _supervise(args, children, stop, api_url, ui_url)
    finally:
        stop_all(children)


def _supervise(
    args: argparse.Namespace, children: list[Child], stop: threading.Event, api_url: str, ui_url: str
) -> int:
    """Announce the URLs once both servers listen, then wait for a stop or for a child to exit."""
    ready = all(wait_until_listening(args.host, port, children, stop) for port in (args.api_port, args.ui_port))
    if ready:
        print(f"\nLocal stack is up:\n  API  {api_url}  (try {api_url}/health)\n  UI   {ui_url}", flush=True)
        print("Press Ctrl-C to stop both.", flush=True)
    elif not stop.is_set() and not any(child.exited() for child in children):
        print(f"Not listening yet after {STARTUP_TIMEOUT_SECONDS:g} s: {api_url}, {ui_url}", file=sys.stderr)
    while not stop.is_set():
        for child in children:
            if child.exited():
                print(f"The {child.name} exited with status {child.process.returncode}; stopping.", file=sys.stderr)
                return 1
        stop.wait(_POLL_SECONDS)
    print("Stopping the local stack.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
