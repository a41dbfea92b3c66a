"""`make dev`: the whole stack on this machine, no AWS account or Docker needed.

    python -m local.dev --host 127.0.0.1 --api-port 8080 --ui-port 8501 --data-dir .local/data \\
        --workers 4 --model-dir models/digits --model-dir models/minilm [--model-dir my/model ...] \\
        [--function-log .local/logs/function.log | --verbose]

Publishes the example models into the data folder (laid out as on EFS), starts the local API
(local.server) and the Streamlit UI pointed at it, prints both URLs, and on Ctrl-C or SIGTERM stops
both together with every process they started. The terminal shows the banner and one access line per
request. Everything else goes to log files, emptied at each start: the function's own output (Lambda's
START/END/REPORT lines, its logs and metrics) to the function log, and each other process's (the UI, the
local S3/SQS server, the job worker) to its own file beside it; --verbose shows all of it in the terminal
instead. With ``--auth iam`` the API checks SigV4 signatures against a fresh local key pair (printed at
start) and the UI signs its calls with that pair."""

from __future__ import annotations

import argparse
import contextlib
import errno
import http.client
import os
import re
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
from typing import IO

from inference.layout import DataLayout
from inference.models.checks import publish_name
from inference.models.metadata import MetadataError, ModelMetadata, ModelProblems
from inference.models.pointer import read_latest
from inference.models.publishing import publish_version, verify_version_dir
from local.job_stack import start_jobs
from local.server import WORKER_PID_HEADER
from local.sigv4 import DEFAULT_REGION, KeyPair, signed_headers

STARTUP_TIMEOUT_SECONDS = 120.0  # Streamlit's first start on a cold machine can take a while
STOP_GRACE_SECONDS = 10.0
_POLL_SECONDS = 0.2
_PROBE_TIMEOUT_SECONDS = 10.0  # a first /health waits for a worker's cold start; a slower one is asked again


API = "API"  # the one child whose output stays in the terminal: its access lines are what `make dev` shows


@dataclass
class Child:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path | None = None  # where its output goes; None: this terminal

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
        "--model-dir",
        type=Path,
        action="append",
        help="a model folder to publish (its metadata's name must be the folder's); repeat for more "
        "(default: models/digits)",
    )
    parser.add_argument("--ui-app", type=Path, default=Path("ui_image/app.py"), help="the Streamlit script")
    parser.add_argument(
        "--function-log",
        type=Path,
        default=Path(".local/logs/function.log"),
        help="where the function's START/END/REPORT lines, logs and metrics go (default: .local/logs/function.log)",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show every process's output (the function's, the UI's, the S3/SQS server's, the job worker's) in this "
        "terminal instead of the log files",
    )
    parser.add_argument("--auth", choices=("none", "iam"), default="none", help="iam: SigV4 on every API route")
    # Async jobs: moto's S3/SQS server, and the poller that stands in for the queue's event source mapping.
    parser.add_argument("--no-jobs", dest="jobs", action="store_false", help="run without async jobs (/jobs: 404)")
    parser.add_argument("--aws-port", type=int, default=4566, help="port of the local S3/SQS server")
    parser.add_argument(
        "--job-workers", type=int, default=2, help="job worker processes (the mapping's maximum concurrency)"
    )
    parser.add_argument(
        "--job-worker-timeout", type=int, default=60, help="job worker timeout in s; the visibility timeout is 6x"
    )
    args = parser.parse_args(argv)
    ports = [args.api_port, args.ui_port, *([args.aws_port] if args.jobs else [])]
    if len(set(ports)) < len(ports):
        parser.error("--api-port, --ui-port and --aws-port must differ")
    args.model_dirs = args.model_dir or [Path("models/digits")]
    return args


def is_published(model_dir: Path, data_dir: Path) -> bool:
    """True if ``model_dir``'s version is already in the data folder and LATEST names it: publishing changes nothing."""
    try:
        metadata = ModelMetadata.read(model_dir)
    except (OSError, MetadataError):
        return False  # publish_model says what is wrong
    name_dir = DataLayout(data_dir).models_dir / metadata.name
    return (name_dir / metadata.version).is_dir() and read_latest(name_dir) == metadata.version


def publish_model(model_dir: Path, data_dir: Path) -> Path:
    """Publish ``model_dir`` (checked as `efs-models publish` checks it) under its metadata's name, which must be the
    folder's too; a no-op if already there. ModelProblems lists what is wrong."""
    metadata = verify_version_dir(model_dir)
    return publish_version(model_dir, DataLayout(data_dir).models_dir, publish_name(model_dir, metadata))


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
        *([] if args.verbose else ["--function-log", str(args.function_log)]),
        "--auth",
        args.auth,
        "--region",
        DEFAULT_REGION,
    ]


def auth_env(keys: KeyPair | None) -> tuple[dict[str, str], dict[str, str]]:
    """What the API and the UI are told with auth on: the server its key pair; the UI the same pair as the
    credentials botocore reads, and to sign (with no other credentials of this shell's in the way)."""
    if keys is None:
        return {}, {"API_AUTH": "none"}
    ui = {
        "API_AUTH": "iam",
        "API_REGION": DEFAULT_REGION,
        "AWS_ACCESS_KEY_ID": keys.access_key_id,
        "AWS_SECRET_ACCESS_KEY": keys.secret_access_key,
    }
    return keys.as_env(), ui


def _without_aws_settings(env: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in env.items() if not name.startswith("AWS_")}


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
    ]  # every other setting comes from ui_image/.streamlit/config.toml, as in the image


def log_file(log_dir: Path, name: str) -> Path:
    """The log file of the child called ``name``: ``ui.log``, ``job-worker.log``, ``s3-sqs-server-moto.log``."""
    return log_dir / f"{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}.log"


class Starter:
    """Starts the stack's processes; each one's output but the API's goes to its own log file in ``log_dir``
    (emptied first), or to this terminal when ``log_dir`` is None."""

    def __init__(self, log_dir: Path | None) -> None:
        self.log_dir = log_dir

    def __call__(self, name: str, port: int, command: list[str], env: dict[str, str]) -> Child:
        log_path = None if self.log_dir is None or name == API else log_file(self.log_dir, name)
        output: IO[bytes] | None = None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            output = open(log_path, "wb")  # noqa: SIM115 (the child holds it; ours is closed below)
        try:
            # A session (and process group) of its own: Ctrl-C reaches only us, and one killpg later reaches
            # everything the child started, its worker processes included.
            process = subprocess.Popen(
                command, env=env, start_new_session=True, stdout=output, stderr=subprocess.STDOUT if output else None
            )
        finally:
            if output is not None:
                output.close()
        return Child(name, port, process, log_path)


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


def api_answers(host: str, port: int, keys: KeyPair | None = None) -> bool:
    """True if a local.server answers GET /health on ``host:port`` (signed with ``keys`` when auth is on): only its
    responses name a worker process."""
    headers = signed_headers(keys, DEFAULT_REGION, "GET", f"http://{host}:{port}/health") if keys else {}
    response = _get(host, port, "/health", headers)
    return response is not None and response.getheader(WORKER_PID_HEADER) is not None


def ui_answers(host: str, port: int) -> bool:
    """True if a Streamlit server passes its health check on ``host:port``."""
    response = _get(host, port, "/_stcore/health")
    return response is not None and response.status == 200


def _get(host: str, port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse | None:
    """The response to GET ``path``, body read; None if nothing answers over HTTP."""
    connection = http.client.HTTPConnection(host, port, timeout=_PROBE_TIMEOUT_SECONDS)
    try:
        connection.request("GET", path, headers=headers or {})
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
    """SIGTERM each child's process group, the last started first, each waited for before the next is signalled;
    then SIGKILL whatever is left in those groups. A child may use those started before it (the job poller and
    the API use the S3/SQS server, the UI the API): stopped in this order, none sees another vanish under it."""
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in reversed(children):
        _signal_group(child, signal.SIGTERM)
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
    for port in (args.api_port, args.ui_port, *([args.aws_port] if args.jobs else [])):
        problem = port_in_use(args.host, port)
        if problem:
            print(f"Cannot start the local stack: {problem}.", file=sys.stderr)
            return 1
    data_dir = args.data_dir.resolve()
    for model_dir in args.model_dirs:
        unchanged = is_published(model_dir, data_dir)
        try:
            published = publish_model(model_dir, data_dir)
        except ModelProblems as error:
            print(
                f"Cannot publish {model_dir}:",
                *(f"  - {problem}" for problem in error.problems),
                sep="\n",
                file=sys.stderr,
            )
            print(f"Give it a new version, or remove {DataLayout(data_dir).models_dir} to start over.", file=sys.stderr)
            return 1
        if unchanged:
            print(f"Model already published, unchanged: {published}", flush=True)
        else:
            print(f"Model published: {published}", flush=True)

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    api_url = f"http://{args.host}:{args.api_port}"
    ui_url = f"http://{args.host}:{args.ui_port}"
    keys = KeyPair.generate() if args.auth == "iam" else None
    api_env, ui_env = auth_env(keys)
    ui_base = _without_aws_settings(dict(os.environ)) if keys else dict(os.environ)
    start = Starter(None if args.verbose else args.function_log.parent)
    children: list[Child] = []
    try:
        jobs_env: dict[str, str] = {}
        if args.jobs:
            models = [(ModelMetadata.read(model_dir).name, model_dir) for model_dir in args.model_dirs]
            jobs_env = start_jobs(
                start,
                host=args.host,
                aws_port=args.aws_port,
                workers=args.job_workers,
                worker_timeout=args.job_worker_timeout,
                data_dir=data_dir,
                models=models,
                started=children,
            )
            print(
                f"Async jobs: S3/SQS on http://{args.host}:{args.aws_port}, {args.job_workers} job workers", flush=True
            )
        api_env = {**os.environ, **jobs_env, **api_env}
        children.append(start(API, args.api_port, api_command(args, data_dir), api_env))
        children.append(start("UI", args.ui_port, ui_command(args), {**ui_base, **ui_env, "API_URL": api_url}))
        return _supervise(args, children, stop, api_url, ui_url, keys=keys)
    except RuntimeError as error:  # the S3/SQS server did not come up
        print(f"Cannot start the local stack: {error}.", file=sys.stderr)
        return 1
    finally:
        stop_all(children)


def _supervise(
    args: argparse.Namespace,
    children: list[Child],
    stop: threading.Event,
    api_url: str,
    ui_url: str,
    *,
    keys: KeyPair | None,
) -> int:
    """Announce the URLs once our own two servers answer, then wait for a stop or for a child to exit."""
    api_ready = wait_until_ready(lambda: api_answers(args.host, args.api_port, keys), children, stop)
    ready = api_ready and wait_until_ready(lambda: ui_answers(args.host, args.ui_port), children, stop)
    if ready:
        hint = "signed, as below" if keys else f"try {api_url}/health"
        print(f"\nLocal stack is up:\n  API  {api_url}  ({hint})\n  UI   {ui_url}", flush=True)
        if not args.verbose:
            print(f"  Function log (START/END/REPORT, logs, metrics): {args.function_log}", flush=True)
            others = ", ".join(f"{child.name} {child.log_path}" for child in children if child.log_path)
            print(f"  Other logs: {others} (VERBOSE=1 shows all here)", flush=True)
        if keys:
            print(
                "  Auth iam: sign API calls with the key pair printed above (see README, 'With auth on').", flush=True
            )
        print("One line per API request below. Press Ctrl-C to stop both.", flush=True)
    elif not stop.is_set() and not any(child.exited() for child in children):
        print(f"Not answering yet after {STARTUP_TIMEOUT_SECONDS:g} s: {api_url}, {ui_url}", file=sys.stderr)
    while not stop.is_set():
        for child in children:
            if child.exited():
                problem = port_in_use(args.host, child.port)  # e.g. taken since our check: the child could not bind
                why = f" ({problem})" if problem else ""
                where = f"; its log: {child.log_path}" if child.log_path else ""
                print(
                    f"The {child.name} exited with status {child.process.returncode}{why}{where}; stopping.",
                    file=sys.stderr,
                )
                return 1
        stop.wait(_POLL_SECONDS)
    print("Stopping the local stack.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
