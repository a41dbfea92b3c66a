"""What `make dev` says before it starts anything: whether publishing the model changed the data folder, and
where the function's output goes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from local.dev import API, Starter, api_command, is_published, log_file, parse_args, publish_model
from testing.local_stack import REPO

EXAMPLE_MODEL = REPO / "models" / "digits"
pytestmark = pytest.mark.skipif(not (EXAMPLE_MODEL / "model.onnx").exists(), reason="models/digits is not built")


def test_republishing_the_same_model_is_reported_as_unchanged(tmp_path: Path) -> None:
    """Before the first publication the model is not there; after it, publishing again changes nothing."""
    data_dir = tmp_path / "data"
    assert not is_published(EXAMPLE_MODEL, data_dir)
    publish_model(EXAMPLE_MODEL, data_dir)
    assert is_published(EXAMPLE_MODEL, data_dir)


def test_a_moved_latest_pointer_is_not_unchanged(tmp_path: Path) -> None:
    """If LATEST names another version, publishing moves it back: that is a change."""
    data_dir = tmp_path / "data"
    version_dir = publish_model(EXAMPLE_MODEL, data_dir)
    (version_dir.parent / "LATEST").unlink()
    assert not is_published(EXAMPLE_MODEL, data_dir)


def test_function_output_goes_to_a_log_file_unless_verbose() -> None:
    """By default the API is started with a function log; --verbose keeps the function's output in the terminal."""
    quiet = api_command(parse_args([]), Path("/data"))
    assert quiet[quiet.index("--function-log") + 1] == ".local/logs/function.log"
    assert "--function-log" not in api_command(parse_args(["--verbose"]), Path("/data"))


def test_every_child_but_the_api_writes_to_its_own_log(tmp_path: Path) -> None:
    """With a log folder, a child's output goes to a file named after it, emptied first; the API's stays in the
    terminal (it is the access log), and with none (--verbose) every child writes to the terminal."""
    say = [sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr)"]
    (tmp_path / "job-worker.log").write_text("an older run\n")
    quiet = Starter(tmp_path)
    ui, job_worker, api = (quiet(name, 0, say, {}) for name in ("UI", "job worker", API))
    for child in (ui, job_worker, api):
        child.process.wait(30)
    assert (ui.log_path, job_worker.log_path, api.log_path) == (tmp_path / "ui.log", tmp_path / "job-worker.log", None)
    assert sorted((tmp_path / "job-worker.log").read_text().split()) == ["err", "out"]
    assert log_file(tmp_path, "S3/SQS server (moto)").name == "s3-sqs-server-moto.log"
    verbose = Starter(None)("UI", 0, say, {})
    verbose.process.wait(30)
    assert verbose.log_path is None
