"""Servers shared by a test module: each is a real `python -m local.server` subprocess on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.dev import publish_model
from testing.local_stack import REPO, Running, start_server, stop
from tests.models.factory import linked_copy, minilm_dir

EXAMPLE_MODEL = REPO / "models" / "digits"


@pytest.fixture(scope="module")
def toy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """Two workers running the toy handler with a 1 s function timeout."""
    folder = tmp_path_factory.mktemp("toy")
    running = start_server(folder / "data", folder / "server.log", "--workers", "2", "--timeout", "1")
    yield running
    stop(running)


@pytest.fixture(scope="module")
def tight_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """One worker, no queue, and an integration timeout (3 s) shorter than the function's (10 s)."""
    folder = tmp_path_factory.mktemp("tight")
    running = start_server(
        folder / "data",
        folder / "server.log",
        "--workers",
        "1",
        "--max-queue",
        "0",
        "--timeout",
        "10",
        "--integration-timeout",
        "3",
    )
    yield running
    stop(running)


@pytest.fixture(scope="module")
def real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """Two workers running inference.api.handler.lambda_handler, the example model published as `make dev` does."""
    folder = tmp_path_factory.mktemp("real")
    if (EXAMPLE_MODEL / "model.onnx").exists():
        publish_model(EXAMPLE_MODEL, folder / "data")
    linked_copy(minilm_dir(), folder / "data" / "models" / "minilm" / "1")  # as `make dev` publishes it
    running = start_server(
        folder / "data", folder / "server.log", "--workers", "2", handler="inference.api.handler.lambda_handler"
    )
    yield running
    stop(running)
