"""Reading what a Dockerfile says, so that tests and benchmarks install and run an image's code as the
Dockerfile does, without Docker: its exec-form CMD, and the flags of its `pip install`."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

PIP_INSTALL = re.compile(r"^RUN pip install (.+)$", re.MULTILINE)


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


def pip_install_args(dockerfile: Path) -> list[str]:
    """The arguments of the Dockerfile's one ``RUN pip install ...``, with the copied requirements file
    pointed at the one beside the Dockerfile (``-r <anything>/requirements.txt``)."""
    (line,) = PIP_INSTALL.findall(dockerfile.read_text())
    args = shlex.split(line)
    position = args.index("-r") + 1
    args[position] = str(dockerfile.parent / Path(args[position]).name)
    return args
