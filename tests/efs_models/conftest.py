"""Run `efs-models` in this process, as a user would on the command line, and read what it printed; and the iris
classifier, exported by skl2onnx, described by `efs-models init`."""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import redirect_stderr
from dataclasses import dataclass
from pathlib import Path

import pytest

from efs_models.cli import main
from scripts.example_exports import IRIS_SPECIES, iris_classifier


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


def data_dir(folder: Path) -> Path:
    """A local stack's data folder in ``folder``, as `make dev` creates it (publish refuses one that is missing)."""
    data = folder / "data"
    data.mkdir(exist_ok=True)
    return data


def iris_source(folder: Path) -> Path:
    """skl2onnx's default export of an iris classifier (ZipMap, classes 0..2), as iris.onnx in ``folder``."""
    source = folder / "iris.onnx"
    source.write_bytes(iris_classifier())
    return source


@pytest.fixture
def iris_folder(efs: Efs, tmp_path: Path) -> Path:
    """The iris classifier described by `efs-models init` into tmp_path/iris, its classes named."""
    folder = tmp_path / "iris"
    ran = efs("init", iris_source(tmp_path), "--name", "iris", "--out", folder, "--labels", ",".join(IRIS_SPECIES))
    assert ran.code == 0, ran.err
    return folder
