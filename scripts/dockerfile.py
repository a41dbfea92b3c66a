"""Reading what a Dockerfile says, so that tests and benchmarks install and run an image's code as the
Dockerfile does, without Docker: its instructions, its exec-form CMD, and the flags of its `pip install`."""

from __future__ import annotations

import json
import shlex
from pathlib import Path


def instructions(path: Path) -> list[tuple[str, str]]:
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


def last(path: Path, keyword: str) -> str:
    """The arguments of the last instruction of that kind (the one Docker obeys for CMD and HEALTHCHECK)."""
    found = [arguments for name, arguments in instructions(path) if name == keyword]
    if not found:
        raise ValueError(f"{path} has no {keyword}")
    return found[-1]


def exec_form_cmd(path: Path) -> list[str]:
    """The image's CMD, which must be in exec form (a JSON list of strings)."""
    value = json.loads(last(path, "CMD"))
    if not isinstance(value, list) or not all(isinstance(part, str) for part in value):
        raise ValueError(f"{path}: CMD must be exec form (a JSON list of strings)")
    return value


def pip_install_args(path: Path) -> list[str]:
    """The arguments of the Dockerfile's one ``RUN pip install ...``, with the copied requirements file
    pointed at the one beside the Dockerfile (``-r <anything>/requirements.txt``)."""
    (line,) = [
        arguments for name, arguments in instructions(path) if name == "RUN" and arguments.startswith("pip install ")
    ]
    args = shlex.split(line)[2:]
    position = args.index("-r") + 1
    args[position] = str(path.parent / Path(args[position]).name)
    return args
