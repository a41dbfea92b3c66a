"""The UI image: its Dockerfile, and its requirements installed fresh, started the way its CMD says."""

from __future__ import annotations

import subprocess
import urllib.request
from pathlib import Path

import pytest

from testing.local_stack import free_port
from tests.ui import dockerfile
from tests.ui.paths import UI_DIR
from tests.ui.streamlit_process import health, running_ui


def test_the_image_is_slim_and_runs_as_a_non_root_user() -> None:
    """The base is a slim Python image and the last USER is not root."""
    assert dockerfile.only("FROM").startswith("python:3.12-slim")
    assert dockerfile.only("USER").split(":")[0] not in ("root", "0")


def test_the_image_serves_streamlit_on_8501_with_a_healthcheck() -> None:
    """CMD runs app.py with `streamlit run` on 0.0.0.0:8501; port 8501 is exposed and health-checked."""
    command = dockerfile.cmd()
    assert command[:3] == ["streamlit", "run", "app.py"]
    assert {"--server.port=8501", "--server.address=0.0.0.0"} <= set(command)
    assert dockerfile.only("EXPOSE") == "8501"
    assert "http://127.0.0.1:8501/_stcore/health" in " ".join(dockerfile.healthcheck_cmd())


def test_the_image_copies_the_app_and_its_package() -> None:
    """Every file the app needs is under a COPY source: app.py, its Streamlit config and the ui package with the
    drawing pad's files."""
    sources = {arguments.split()[0].rstrip("/") for name, arguments in dockerfile.instructions() if name == "COPY"}
    assert {"requirements.txt", ".streamlit", "app.py", "ui"} <= sources
    assert (UI_DIR / "ui" / "draw_canvas.js").is_file()
    assert (UI_DIR / "ui" / "draw_canvas.css").is_file()


@pytest.mark.slow
@pytest.mark.timeout(900)  # the first test here also builds the virtualenv
def test_the_app_runs_with_only_the_image_requirements(image_venv: Path, tmp_path: Path) -> None:
    """In the fresh virtualenv the whole page runs (AppTest), saying once that the API does not answer."""
    unreachable = f"http://127.0.0.1:{free_port()}"
    script = (
        "from streamlit.testing.v1 import AppTest\n"
        "app = AppTest.from_file('app.py', default_timeout=60).run()\n"
        "assert not app.exception, app.exception\n"
        "assert all('cannot be reached' in error.value for error in app.error), app.error\n"
        "print(len(app.error))\n"
    )
    result = subprocess.run(
        [image_venv / "bin" / "python", "-c", script],
        cwd=UI_DIR,
        env={"API_URL": unreachable, "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"  # the sidebar's status says so; the sections point at it


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_image_cmd_starts_a_healthy_server(image_venv: Path, tmp_path: Path) -> None:
    """The Dockerfile's CMD, run from the fresh virtualenv, serves the page and a healthy /_stcore/health."""
    with running_ui(image_venv / "bin", api_url="http://127.0.0.1:9", log_file=tmp_path / "ui.log") as url:
        assert health(url) == "ok"
        with urllib.request.urlopen(url, timeout=10) as page:
            assert page.status == 200
            assert b"<html" in page.read().lower()
        healthcheck = dockerfile.with_port(dockerfile.healthcheck_cmd(), int(url.rsplit(":", 1)[1]))
        assert healthcheck[0] == "python"
        probe = subprocess.run([image_venv / "bin" / "python", *healthcheck[1:]], check=False, timeout=30)
        assert probe.returncode == 0  # the image's HEALTHCHECK passes against it
    assert health(url) is None  # stopped
