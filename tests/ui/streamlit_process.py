"""Start the UI the way its image does (the Dockerfile's CMD), wait until healthy, stop it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from testing.local_stack import free_port
from tests.ui.dockerfile import cmd, with_port
from tests.ui.paths import UI_DIR

STARTUP_SECONDS = 90


def health(url: str) -> str | None:
    """The body of /_stcore/health, or None while the server does not answer."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            body: bytes = response.read()
            return body.decode()
    except (urllib.error.URLError, OSError):
        return None


@contextmanager
def running_ui(bin_dir: Path, api_url: str, log_file: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run the image's CMD with programs from ``bin_dir`` (a virtualenv's bin), cwd = ui_image/, with ``env`` added
    (e.g. the task's API_AUTH and credentials).

    Yields the UI's URL once /_stcore/health answers; stops the whole process group afterwards."""
    port = free_port()
    program, *arguments = with_port(cmd(), port)
    env = {**os.environ, **(env or {}), "API_URL": api_url, "HOME": str(log_file.parent)}
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [str(bin_dir / program), *arguments],
            cwd=UI_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_healthy(process, url, log_file)
            yield url
        finally:
            _stop(process)


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str, log_file: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"streamlit exited with {process.returncode}:\n{log_file.read_text()}")
        if health(url) == "ok":
            return
        time.sleep(0.25)
    raise AssertionError(f"streamlit was not healthy within {STARTUP_SECONDS} s:\n{log_file.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
