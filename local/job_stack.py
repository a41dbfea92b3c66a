"""The jobs part of `make dev`: moto's S3/SQS server, the job bucket and queues on it (shaped as on
AWS), and the job poller feeding the worker handler and the dead-letter consumer. Returns the environment
that points the API and the UI at them; dev.py starts and stops the processes with the rest of the stack."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from inference.jobs.settings import JobSettings
from local.aws_server import client_env, moto_command, wait_until_answers
from local.job_resources import provision


class _Child(Protocol):
    process: subprocess.Popen[bytes]


Child = TypeVar("Child", bound=_Child)
Start = Callable[[str, int, list[str], dict[str, str]], Child]
_STOP_SECONDS = 20.0


def start_jobs(
    start: Start[Child],
    *,
    host: str,
    aws_port: int,
    workers: int,
    worker_timeout: int,
    data_dir: Path,
    models: list[tuple[str, Path]],
    started: list[Child],
) -> dict[str, str]:
    """Start the server and the poller (appended to ``started`` as soon as each runs, so that the caller
    stops them whatever fails next); the environment for the API and the UI."""
    import boto3

    moto = start("S3/SQS server (moto)", aws_port, moto_command(host, aws_port), dict(os.environ))
    started.append(moto)
    wait_until_answers(host, aws_port, moto.process)
    aws_env = client_env(host, aws_port)
    session = boto3.session.Session(
        aws_access_key_id=aws_env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=aws_env["AWS_SECRET_ACCESS_KEY"],
        region_name=aws_env["AWS_DEFAULT_REGION"],
    )
    endpoint = aws_env["AWS_ENDPOINT_URL"]
    wanted = JobSettings(bucket="-", worker_timeout_seconds=worker_timeout)
    resources = provision(
        session.client("s3", endpoint_url=endpoint), session.client("sqs", endpoint_url=endpoint), wanted, models
    )
    env = {**aws_env, **resources.settings.to_env()}
    poller = [
        *(sys.executable, "-m", "local.job_poller", "--workers", str(workers)),
        *("--dead-letters", resources.dead_letter_queue_url),
    ]
    started.append(start("job worker", 0, poller, {**os.environ, **env, "DATA_DIR": str(data_dir)}))
    return env


@dataclass
class _Process:
    name: str
    process: subprocess.Popen[bytes]


def _spawn(name: str, port: int, command: list[str], env: dict[str, str]) -> _Process:
    return _Process(name, subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.DEVNULL))


@contextlib.contextmanager
def local_jobs(
    *, host: str, aws_port: int, workers: int, worker_timeout: int, data_dir: Path, model: tuple[str, Path]
) -> Iterator[dict[str, str]]:
    """The jobs part of the local stack for as long as the block runs (tests and benchmarks); yields the
    environment for the API. Every process it started is stopped, with its process group, at the end."""
    started: list[_Process] = []
    try:
        yield start_jobs(
            _spawn,
            host=host,
            aws_port=aws_port,
            workers=workers,
            worker_timeout=worker_timeout,
            data_dir=data_dir,
            models=[model],
            started=started,
        )
    finally:
        for child in reversed(started):  # the poller first, while the server still answers it
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGTERM)
            try:
                child.process.wait(_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
