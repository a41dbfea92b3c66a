"""Servers shared by a test module: each is a real `python -m local.server` subprocess on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.local.stack import Running, start_server, stop


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
