"""`make dev MODEL_DIRS=path,path` publishes the user's model folders beside the examples, with the checks and the
naming rule of `efs-models publish`; a folder that fails them stops `make dev` before anything starts, saying why."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from contextlib import redirect_stderr
from pathlib import Path

import pytest

from inference.models.pointer import read_latest
from local import dev
from testing.local_stack import REPO, free_port
from tests.models.factory import tiny_model_dir


def test_model_dirs_become_model_dir_flags() -> None:
    """MODEL_DIRS is a comma-separated list; each folder is published after the two examples."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(
        ["make", "-n", "dev", "MODEL_DIRS=models/iris,my models/pets"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    flags = " ".join(word for word in done.stdout.split() if word != "\\")  # the recipe's continued lines
    assert "--model-dir models/digits --model-dir models/minilm --model-dir models/iris --model-dir my" in flags


def _dev(data_dir: Path, *model_dirs: Path) -> tuple[int, str]:
    ports = [str(free_port()) for _ in range(3)]
    argv = ["--data-dir", str(data_dir), "--api-port", ports[0], "--ui-port", ports[1], "--aws-port", ports[2]]
    for folder in model_dirs:
        argv += ["--model-dir", str(folder)]
    err = io.StringIO()
    with redirect_stderr(err):
        code = dev.main(argv)
    return code, err.getvalue()


def test_a_folder_named_unlike_its_model_stops_make_dev(tmp_path: Path) -> None:
    """`flowers` holding `tiny`: nothing starts, and the message says how to put it right."""
    folder = tiny_model_dir(tmp_path / "flowers", name="tiny")
    code, err = _dev(tmp_path / "data", folder)
    assert code == 1
    assert f"Cannot publish {folder}:" in err
    assert "rename the folder to 'tiny'" in err


def test_a_folder_that_fails_the_checks_lists_every_problem(tmp_path: Path) -> None:
    """Hand-written metadata with two mistakes: both listed, nothing published."""
    folder = tiny_model_dir(tmp_path / "tiny")
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["outputs"].append("scores")
    metadata["input"]["dtype"] = "float64"
    (folder / "metadata.json").write_text(json.dumps(metadata))
    code, err = _dev(tmp_path / "data", folder)
    assert code == 1
    assert "input 'x' is tensor(float) in the graph, but the metadata says float64" in err
    assert "the model lacks the outputs ['scores']" in err
    assert not (tmp_path / "data" / "models" / "tiny").exists()


def test_a_users_folder_is_published_under_its_name(tmp_path: Path) -> None:
    """publish_model, as make dev calls it for each MODEL_DIRS folder."""
    folder = tiny_model_dir(tmp_path / "tiny", version="3")
    dev.publish_model(folder, tmp_path / "data")
    assert read_latest(tmp_path / "data" / "models" / "tiny") == "3"
    assert dev.is_published(folder, tmp_path / "data")
