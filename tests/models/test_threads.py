"""ONNX Runtime's intra-op threads follow the CPUs the process may use, unless MODEL_THREADS says otherwise, in
the API's sessions and the job worker's."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

import pytest

from inference.api import handler
from inference.models.publishing import publish_version
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


def test_the_api_and_the_job_worker_both_build_their_registry_with_model_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MODEL_THREADS reaches the sessions of the API's registry and of the job worker's (which once ignored it)."""
    publish_version(tiny_model_dir(tmp_path / "tiny"), tmp_path / "data" / "models", "tiny")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MODEL_THREADS", "3")
    monkeypatch.setenv("JOBS_BUCKET", "jobs-bucket")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    from inference.jobs import worker  # builds a shard run at import too: the environment is set

    worker_registry = cast(Any, worker.build_shard_run().predict).__self__  # its predict: the registry's method
    monkeypatch.setattr(handler, "settings", Settings.from_env())
    handler.model_registry.cache_clear()
    registries = [handler.model_registry(), worker_registry]
    for registry in registries:
        registry.predict("tiny", [[0.0, 0.0]])
        assert registry._loaded("tiny", "1").session.get_session_options().intra_op_num_threads == 3
    handler.model_registry.cache_clear()  # the next test's handler builds its own
