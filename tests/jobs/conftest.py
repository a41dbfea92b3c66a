"""Jobs against real S3 and SQS APIs: moto's standalone server on 127.0.0.1 (one per session), fresh
buckets and queues per test, the example model published into a data folder and into the model bucket."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from inference.jobs.catalog import S3ModelCatalog
from inference.jobs.service import JobService
from inference.jobs.settings import DEAD_LETTER_TIMEOUT_SECONDS, JobSettings
from inference.jobs.store import JobStore, s3_client
from inference.models.publishing import publish_version
from local.aws_server import client_env, moto_command, wait_until_answers
from local.job_poller import DEAD_LETTER_HANDLER, JobPoller
from local.job_resources import provision

EXAMPLE_MODEL = Path(__file__).resolve().parents[2] / "models" / "digits"
MINILM_MODEL = EXAMPLE_MODEL.parent / "minilm"  # built by `make minilm`, which `make test` runs first
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def moto_env() -> Iterator[dict[str, str]]:
    port = _free_port()
    process = subprocess.Popen(moto_command(HOST, port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_answers(HOST, port, process)
        yield client_env(HOST, port)
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def aws_env(moto_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in moto_env.items():
        monkeypatch.setenv(key, value)
    return moto_env


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    publish_version(EXAMPLE_MODEL, tmp_path / "data" / "models", "digits")
    return tmp_path / "data"


@dataclass
class JobStack:
    """One test's buckets and queues, the clients to reach them, and the environment of its functions."""

    settings: JobSettings
    dead_letter_queue_url: str
    data_dir: Path
    aws_env: dict[str, str]
    s3: Any
    sqs: Any
    pollers: list[JobPoller] = field(default_factory=list)

    @property
    def store(self) -> JobStore:
        return JobStore(self.s3, self.settings.bucket)

    def service(self) -> JobService:
        catalog = S3ModelCatalog(self.s3, self.settings.model_bucket)
        return JobService(self.settings, self.store, self.sqs, catalog, default_model="digits")

    def worker_env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            **self.aws_env,
            **self.settings.to_env(),
            "DATA_DIR": str(self.data_dir),
            "DEFAULT_MODEL": "digits",
            **extra,
        }

    def start_poller(self, workers: int = 1, **extra_env: str) -> JobPoller:
        poller = JobPoller(
            self.sqs,
            self.settings.queue_url,
            workers,
            float(self.settings.worker_timeout_seconds),
            self.worker_env(**extra_env),
        ).start()
        self.pollers.append(poller)
        return poller

    def start_dead_letter_consumer(self) -> JobPoller:
        """The dead-letter queue's consumer, as `make dev` runs it beside the worker's poller."""
        poller = JobPoller(
            self.sqs,
            self.dead_letter_queue_url,
            1,
            DEAD_LETTER_TIMEOUT_SECONDS,
            self.worker_env(),
            handler=DEAD_LETTER_HANDLER,
        ).start()
        self.pollers.append(poller)
        return poller

    def dead_letters(self, wait_seconds: int = 0) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.dead_letter_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages


MakeStack = Callable[..., JobStack]


@pytest.fixture
def make_stack(aws_env: dict[str, str], data_dir: Path) -> Iterator[MakeStack]:
    import boto3

    stacks: list[JobStack] = []

    def make(models: tuple[tuple[str, Path], ...] = (("digits", EXAMPLE_MODEL),), **overrides: Any) -> JobStack:
        """A stack whose model bucket holds ``models`` (the data folder holds digits; publish others there)."""
        s3, sqs = s3_client(), boto3.client("sqs")  # the functions' own S3 client
        wanted = replace(JobSettings(bucket="-"), **overrides)
        prefix = f"t{uuid.uuid4().hex[:12]}"
        resources = provision(s3, sqs, wanted, list(models), prefix=prefix)
        stack = JobStack(resources.settings, resources.dead_letter_queue_url, data_dir, aws_env, s3, sqs)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        for poller in stack.pollers:
            poller.stop()
