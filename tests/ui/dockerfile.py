"""Read the UI image's Dockerfile, so tests run the app exactly as the image's CMD says."""

from __future__ import annotations

import json

from scripts.dockerfile import exec_form_cmd, last
from scripts.dockerfile import instructions as dockerfile_instructions
from tests.ui.paths import UI_DIR

DOCKERFILE = UI_DIR / "Dockerfile"


def cmd() -> list[str]:
    """The image's CMD, which must be in exec form (a JSON list)."""
    return exec_form_cmd(DOCKERFILE)


def instructions() -> list[tuple[str, str]]:
    return dockerfile_instructions(DOCKERFILE)


def only(keyword: str) -> str:
    """The arguments of the last instruction of that kind, as Docker reads it."""
    return last(DOCKERFILE, keyword)


def healthcheck_cmd() -> list[str]:
    """The HEALTHCHECK's command, which must be in exec form too."""
    _, _, command = only("HEALTHCHECK").partition("CMD ")
    result: list[str] = json.loads(command)
    return result


def with_port(command: list[str], port: int) -> list[str]:
    """The command with Streamlit's port 8501 replaced, and bound to 127.0.0.1 for a test."""
    overrides = {
        "--server.port": f"--server.port={port}",
        "--server.address": "--server.address=127.0.0.1",  # tests never listen beyond this machine
    }
    return [overrides.get(part.split("=")[0], part).replace(":8501/", f":{port}/") for part in command]
