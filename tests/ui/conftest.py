"""Fixtures for the UI tests: the app under AppTest, with its API client replaced by a fake."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from scripts.dockerfile import pip_install_args
from tests.ui.fake_jobs import FakeJobs
from tests.ui.fakes import FakeApi
from tests.ui.paths import APP_FILE, UI_DIR
from ui import api_client, job_client


class _Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(autouse=True)
def no_deprecated_streamlit_calls() -> Iterator[None]:
    """Every UI test fails if the app calls a deprecated Streamlit API: Streamlit logs each such call (it would
    flood `make dev`'s UI log), so the calls are kept on the current API rather than the warning hidden."""
    # Streamlit's loggers do not propagate to the root logger, so caplog cannot see them: listen on its own.
    logger = logging.getLogger("streamlit.deprecation_util")
    collected = _Collected()
    logger.addHandler(collected)
    try:
        yield
    finally:
        logger.removeHandler(collected)
    assert not collected.messages, f"deprecated Streamlit calls: {collected.messages}"


@pytest.fixture(autouse=True)
def main_module_restored() -> Iterator[None]:
    """AppTest runs a script as ``__main__`` and leaves it in ``sys.modules``; a later test that spawns a process
    (the local stack's workers) would then have multiprocessing re-run that script, deleted or not, in the child."""
    main = sys.modules["__main__"]
    try:
        yield
    finally:
        sys.modules["__main__"] = main


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    fake = FakeApi()
    monkeypatch.setattr(api_client, "get_client", lambda: fake)
    return fake


@pytest.fixture(autouse=True)
def fake_jobs(monkeypatch: pytest.MonkeyPatch) -> FakeJobs:
    """The job client of every app under test: jobs off unless a test turns them on."""
    fake = FakeJobs()
    monkeypatch.setattr(job_client, "for_api", lambda api: fake)
    return fake


@pytest.fixture
def app(fake_api: FakeApi) -> AppTest:
    """The app, not yet run, talking to ``fake_api``."""
    return AppTest.from_file(APP_FILE, default_timeout=30)


@pytest.fixture(scope="session")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding only ui_image/requirements.txt, installed with the Dockerfile's own pip flags
    (--require-hashes: the locked closure), as the image does (pip's cache is reused)."""
    venv = tmp_path_factory.mktemp("ui-image") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    flags = [arg for arg in pip_install_args(UI_DIR / "Dockerfile") if arg != "--no-cache-dir"]  # reuse pip's cache
    subprocess.run([*install, *flags], check=True)
    return venv
