"""Run `efs-models` in this process, as a user would on the command line, and read what it printed."""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import redirect_stderr
from dataclasses import dataclass

import pytest

from efs_models.cli import main


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    def problems(self) -> list[str]:
        """The listed problems (the lines after the heading), as printed."""
        return [line.removeprefix("  - ") for line in self.err.splitlines() if line.startswith("  - ")]


Efs = Callable[..., Ran]


@pytest.fixture
def efs() -> Efs:
    def run(*argv: str) -> Ran:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stderr(err):
            code = main([str(arg) for arg in argv], out=out)
        assert "Traceback" not in err.getvalue() + out.getvalue()
        return Ran(code, out.getvalue(), err.getvalue())

    return run
