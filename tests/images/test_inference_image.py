"""The inference image without Docker: its requirements in a fresh virtualenv, its CMD invoked as Lambda would.

The Lambda runtime imports the module named by ``CMD ["<module>.<function>"]`` from LAMBDA_TASK_ROOT
(where the Dockerfile copies the ``inference`` package) and calls the function with (event, context).
A wrong module path, or a runtime dependency missing from requirements.txt, fails here."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.images.dockerfiles import exec_form_cmd

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT / "inference_image"

# Runs inside the fresh venv, with only the task root on sys.path, like the Lambda runtime.
INVOKE = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
module_name, _, function_name = sys.argv[2].rpartition(".")
function = getattr(importlib.import_module(module_name), function_name)
sys.path.insert(0, sys.argv[3])
from lambda_context import FakeLambdaContext
from handler.events import http_event, json_event
results = {
    "post": function(http_event("POST", "/", "Hello World", headers={"content-type": "application/json"}),
                     FakeLambdaContext()),
    "predict": function(json_event("POST", "/predict", {"inputs": [[0.0] * 64]}), FakeLambdaContext()),
    "bad": function(json_event("POST", "/messages", {"text": 1}), FakeLambdaContext()),
}
print("RESULT" + json.dumps({key: [value["statusCode"], value["body"]] for key, value in results.items()}))
"""


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("inference-image-venv")
    venv.EnvBuilder(with_pip=True).create(home)
    python = home / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "-r", IMAGE / "requirements.txt"], check=True, timeout=600
    )
    return python


@pytest.mark.slow
def test_cmd_handler_serves_requests_from_a_fresh_venv(image_venv: Path, tmp_path: Path) -> None:
    """The handler named by CMD imports and answers with only the image's own requirements installed."""
    # GIVEN a task root laid out as the Dockerfile copies it, and a data folder with the example model
    task_root = tmp_path / "task"
    shutil.copytree(IMAGE / "inference", task_root / "inference", ignore=shutil.ignore_patterns("__pycache__"))
    data_dir = tmp_path / "data"
    subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path;"
         "from inference.models.publishing import publish_version;"
         "publish_version(Path(sys.argv[1]), Path(sys.argv[2]), 'digits')", ROOT / "models" / "digits",
         data_dir / "models"],
        check=True, timeout=60,
    )  # fmt: skip
    (handler_path,) = exec_form_cmd(IMAGE / "Dockerfile")
    # WHEN the CMD's handler is invoked in the fresh venv
    done = subprocess.run(
        [image_venv, "-c", INVOKE, task_root, handler_path, ROOT / "tests"],
        env={"DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin", "POWERTOOLS_METRICS_NAMESPACE": "Test"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.split("RESULT", 1)[1])
    # THEN the old curl line, a prediction and a bad request all answer as specified
    assert results["post"][0] == 200 and results["post"][1].rstrip().endswith(": Hello World")
    assert results["predict"][0] == 200 and json.loads(results["predict"][1])["model"] == "digits"
    assert results["bad"][0] == 400


def test_dockerfile_uses_the_lambda_base_and_exec_form_cmd() -> None:
    """The image builds on the Lambda Python 3.12 base and names the handler in exec form."""
    text = (IMAGE / "Dockerfile").read_text()
    assert "FROM public.ecr.aws/lambda/python:3.12" in text
    assert exec_form_cmd(IMAGE / "Dockerfile") == ["inference.api.handler.lambda_handler"]


def test_image_requirements_are_pinned_and_carry_no_test_tools() -> None:
    """Runtime dependencies are pinned exactly, and no test or build tool is in the image."""
    lines = [
        line.strip()
        for line in (IMAGE / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines and all("==" in line for line in lines)
    names = {line.split("==")[0].lower() for line in lines}
    assert not names & {"pytest", "scikit-learn", "skl2onnx", "onnx", "ruff", "mypy", "boto3"}
