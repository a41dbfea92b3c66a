"""Each example stack is run once per session under mocks; the tests then read the recorded resources."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.infra.harness import PROJECT, StackRun, run_program, stack_file_config
from tests.infra.variants import VARIANTS, VARIANTS_BY_NAME
from tests.models.factory import tiny_model_dir

MODEL_NAME = "digits"
MODEL_VERSION = "1"
SECOND_MODEL = ("second", "3")  # the second folder of modelDirs: name, version

StackConfigFactory = Callable[..., dict[str, str]]


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two small, valid model folders, so these tests never depend on `make model` or `make minilm`."""
    root = tmp_path_factory.mktemp("models")
    first = tiny_model_dir(root / "first", name=MODEL_NAME, version=MODEL_VERSION)
    (first / "samples.json").write_text("[]")
    second = tiny_model_dir(root / "second", variant="b", name=SECOND_MODEL[0], version=SECOND_MODEL[1])
    return [first, second]


@pytest.fixture(scope="session")
def stack_config(model_dirs: list[Path]) -> StackConfigFactory:
    """A stack file's config with the test model folder, plus overrides given as un-namespaced keys."""

    def build(stack: str, **overrides: str) -> dict[str, str]:
        config = stack_file_config(stack)
        config[f"{PROJECT}:modelDirs"] = json.dumps([str(directory) for directory in model_dirs])
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


@pytest.fixture(scope="session", params=[variant.name for variant in VARIANTS])
def variant_run(request: pytest.FixtureRequest, model_dirs: list[Path]) -> StackRun:
    """Each stack of tests/infra/variants.py in turn, run once per session."""
    return VARIANTS_BY_NAME[request.param].run(model_dirs)
