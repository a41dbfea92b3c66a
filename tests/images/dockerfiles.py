"""Reading what a Dockerfile's exec-form CMD says, so tests run the image's entry point as written."""

from __future__ import annotations

import json
from pathlib import Path


def exec_form_cmd(dockerfile: Path) -> list[str]:
    """The last exec-form ``CMD [...]`` of a Dockerfile, as a list (JSON, possibly over several lines)."""
    text = dockerfile.read_text()
    start = text.rindex("\nCMD ")
    command = text[start + len("\nCMD ") :]
    end = command.index("]") + 1
    value = json.loads(command[:end])
    if not isinstance(value, list) or not all(isinstance(part, str) for part in value):
        raise ValueError(f"{dockerfile}: CMD must be exec form (a JSON list of strings)")
    return value
