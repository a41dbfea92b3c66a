"""Each example stack is run once per session under mocks; the tests then read the recorded resources."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.infra.harness import PROJECT, StackRun, run_program, stack_file_config

MODEL_NAME = "digits"
MODEL_VERSION = "1"

StackConfigFactory = Callable[..., dict[str, str]]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small model folder, so these tests never depend on `make model` having run."""
    directory = tmp_path_factory.mktemp("model")
    (directory / "model.onnx").write_bytes(b"not really onnx, but the program only uploads it")
    (directory / "metadata.json").write_text(json.dumps({"name": MODEL_NAME, "version": MODEL_VERSION}))
    (directory / "samples.json").write_text("[]")
    return directory


@pytest.fixture(scope="session")
def stack_config(model_dir: Path) -> StackConfigFactory:
    """A stack file's config with the test model folder, plus overrides given as un-namespaced keys."""

    def build(stack: str, **overrides: str) -> dict[str, str]:
        config = stack_file_config(stack)
        config[f"{PROJECT}:modelDir"] = str(model_dir)
        config.update({f"{PROJECT}:{key}": value for key, value in overrides.items()})
        return config

    return build


@pytest.fixture(scope="session")
def dev_run(stack_config: StackConfigFactory) -> StackRun:
    return run_program(stack_config("dev"), "dev")


@pytest.fixture(scope="session")
def prod_run(stack_config: StackConfigFactory) -> StackRun:
    return run_program(stack_config("prod"), "prod")


@pytest.fixture(params=["dev", "prod"])
def any_run(request: pytest.FixtureRequest) -> StackRun:
    """Each example stack in turn."""
    run: StackRun = request.getfixturevalue(f"{request.param}_run")
    return run
