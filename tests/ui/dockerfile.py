"""Read the UI image's Dockerfile, so tests run the app exactly as the image's CMD says."""

from __future__ import annotations

import json
from pathlib import Path

from tests.ui.paths import UI_DIR

DOCKERFILE = UI_DIR / "Dockerfile"


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        result.append((keyword.upper(), arguments.strip()))
        pending = ""
    return result


def only(keyword: str) -> str:
    """The arguments of the one instruction of that kind (the last one, as Docker reads it)."""
    found = [arguments for name, arguments in instructions() if name == keyword]
    assert found, f"the Dockerfile has no {keyword}"
    return found[-1]


def cmd() -> list[str]:
    """The image's CMD, which must be in exec form (a JSON list)."""
    command: list[str] = json.loads(only("CMD"))
    return command


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
