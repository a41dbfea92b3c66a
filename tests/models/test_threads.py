"""ONNX Runtime's intra-op threads follow the CPUs the process may use, unless MODEL_THREADS says otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inference.models.runtime import intra_op_threads, load_model
from inference.settings import Settings
from tests.models.factory import tiny_model_dir


def test_threads_default_to_the_affinity_mask() -> None:
    """Unset, the session gets one thread per CPU in os.sched_getaffinity (Lambda's vCPUs grow with memory)."""
    assert intra_op_threads() == len(os.sched_getaffinity(0))
    assert intra_op_threads(3) == 3


def test_model_threads_setting_is_read_and_checked() -> None:
    """MODEL_THREADS overrides the default; zero or garbage fails the cold start naming the variable."""
    assert Settings.from_env({}).model_threads is None
    assert Settings.from_env({"MODEL_THREADS": "3"}).model_threads == 3
    for bad in ("0", "-1", "two"):
        with pytest.raises(ValueError, match="MODEL_THREADS"):
            Settings.from_env({"MODEL_THREADS": bad})


def test_a_loaded_session_uses_the_configured_threads(tmp_path: Path) -> None:
    """The session is built with the requested intra-op thread count."""
    model = load_model(tiny_model_dir(tmp_path / "tiny"), "tiny", "1", threads=3)
    assert model.session.get_session_options().intra_op_num_threads == 3
