"""Makefile targets that touch local state: `make clean-data` clears the local data and nothing else, and the
virtualenv that `make` builds leaves torch out."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

from testing.local_stack import REPO

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def test_clean_data_removes_the_data_and_function_log_only(tmp_path: Path) -> None:
    """`make clean-data` deletes DATA_DIR and FUNCTION_LOG; the virtualenv and the files beside them stay."""
    data_dir, function_log, neighbour = tmp_path / "data", tmp_path / "function.log", tmp_path / "keep.txt"
    (data_dir / "messages").mkdir(parents=True)
    (data_dir / "messages" / "HEAD").write_bytes(b"x")
    function_log.write_text("REPORT RequestId: ...\n")
    neighbour.write_text("not local data")
    done = subprocess.run(
        ["make", "-s", "clean-data", f"DATA_DIR={data_dir}", f"FUNCTION_LOG={function_log}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not data_dir.exists()
    assert not function_log.exists()
    assert neighbour.exists()
    assert (REPO / ".venv" / "bin" / "python").exists()


def test_clean_data_refuses_an_empty_data_dir() -> None:
    """An empty DATA_DIR is refused rather than expanded into something to delete."""
    done = subprocess.run(
        ["make", "-s", "clean-data", "DATA_DIR=", "FUNCTION_LOG=/nonexistent/function.log"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "DATA_DIR is empty" in done.stdout + done.stderr


def test_the_virtualenv_that_make_builds_holds_no_torch() -> None:
    """`make test` and `make dev` never install torch (a CUDA build of several GB): the MiniLM weights' package
    declares sentence-transformers, so the Makefile installs it without its dependencies."""
    assert importlib.util.find_spec("torch") is None
    assert importlib.util.find_spec("sentence_transformers") is None
    assert importlib.util.find_spec("all_minilm_l6_v2") is not None
