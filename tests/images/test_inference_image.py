"""The inference image without Docker: its requirements in a fresh virtualenv, its CMD invoked as Lambda would.

The Lambda runtime imports the module named by ``CMD ["<module>.<function>"]`` from LAMBDA_TASK_ROOT
(where the Dockerfile copies the ``inference`` package) and calls the function with (event, context).
A wrong module path, or a runtime dependency missing from requirements.txt, fails here."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

from inference.models.publishing import publish_version
from infra.jobs.dead_letters import DEAD_LETTERS_COMMAND
from infra.jobs.worker import WORKER_COMMAND
from infra.models.publisher import PUBLISHER_COMMAND
from infra.retention.schedule import RETENTION_HANDLER
from scripts.dockerfile import exec_form_cmd, pip_install_args
from scripts.lock_requirements import pins

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT / "inference_image"

# Runs inside the fresh venv, with only the task root on sys.path, like the Lambda runtime: the CMD's handler
# (argv[2]) for the old curl line, a tensor, a text and an image prediction and a bad request; then every other
# handler the stack runs from this image (argv[4:]), the job worker's and the dead-letter consumer's with a message
# each must drop.
INVOKE = """
import base64, importlib, io, json, sys
sys.path.insert(0, sys.argv[1])

def handler(path):
    module_name, _, function_name = path.rpartition(".")
    return getattr(importlib.import_module(module_name), function_name)

function = handler(sys.argv[2])
sys.path.insert(0, sys.argv[3])
from lambda_context import FakeLambdaContext
from api_events import http_event, json_event
from PIL import Image, ImageDraw
png = io.BytesIO()
digit = Image.new("L", (28, 28), color=255)
ImageDraw.Draw(digit).line([(14, 4), (14, 24)], fill=0, width=3)  # a "1"
digit.save(png, format="PNG")
results = {
    "post": function(http_event("POST", "/", "Hello World", headers={"content-type": "application/json"}),
                     FakeLambdaContext()),
    "predict": function(json_event("POST", "/predict", {"inputs": [[0.0] * 64]}), FakeLambdaContext()),
    "text": function(json_event("POST", "/models/minilm/predict", {"inputs": ["A man is eating food."]}),
                     FakeLambdaContext()),
    "image": function(http_event("POST", "/models/digits/predict", png.getvalue(),
                                 headers={"content-type": "image/png"}), FakeLambdaContext()),
    "bad": function(json_event("POST", "/messages", {"text": 1}), FakeLambdaContext()),
}
results = {key: [value["statusCode"], value["body"]] for key, value in results.items()}
others = {path: handler(path) for path in sys.argv[4:]}
worker = others["inference.jobs.worker.handler"]
results["worker"] = worker({"Records": [{"messageId": "m-1", "body": "not a shard message"}]}, FakeLambdaContext())
dead_letters = others["inference.jobs.dead_letters.handler"]
results["dead_letters"] = dead_letters({"Records": [{"messageId": "m-2", "body": "{}"}]}, FakeLambdaContext())
results["retention"] = others["inference.retention.lambda_handler"]({"source": "aws.events"}, FakeLambdaContext())
from inference.models import publisher
publisher.logger().info("Powertools' Logger runs in this image")  # the publisher's one use of Powertools
try:
    others["inference.models.publisher.handler"]({"bucket": "b"}, FakeLambdaContext())
except publisher.PublishError as error:
    results["publisher"] = str(error)
print("RESULT" + json.dumps(results))
"""
# What the Lambda base image ships and the image's code imports (the publisher and the jobs functions): boto3,
# at the version requirements-dev.txt pins.
BASE_IMAGE_PACKAGES = [
    line for line in (ROOT / "requirements-dev.txt").read_text().splitlines() if line.startswith("boto3==")
]
NOT_INSTALLED = re.compile(r"^# not-installed: (.+?) \(", re.MULTILINE)
MISSING = re.compile(r"^\S+ \S+ requires (\S+), which is not installed\.$", re.MULTILINE)


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding what the Dockerfile's `pip install` installs, with its flags (--no-deps)."""
    home = tmp_path_factory.mktemp("inference-image-venv")
    venv.EnvBuilder(with_pip=True).create(home)
    python = home / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*install, *pip_install_args(IMAGE / "Dockerfile")], check=True, timeout=600)
    subprocess.run([*install, *BASE_IMAGE_PACKAGES], check=True, timeout=600)
    return python


@pytest.mark.slow
def test_the_image_installs_every_dependency_but_the_ones_it_names(image_venv: Path) -> None:
    """With --no-deps, requirements.txt is the whole closure: the only declared dependencies missing are the
    ones its `not-installed:` lines name, so a new import-time dependency cannot slip through unlisted."""
    done = subprocess.run([image_venv, "-m", "pip", "check"], capture_output=True, text=True, timeout=120, check=False)
    named = {
        name.strip().lower()
        for line in NOT_INSTALLED.findall((IMAGE / "requirements.txt").read_text())
        for name in line.split(",")
    }
    assert named, "requirements.txt names what it leaves out"
    assert {name.lower() for name in MISSING.findall(done.stdout)} == named, done.stdout
    assert all(MISSING.match(line) for line in done.stdout.splitlines() if line), done.stdout  # no version conflicts


@pytest.mark.slow
def test_every_handler_serves_from_a_fresh_venv(image_venv: Path, tmp_path: Path) -> None:
    """The handler named by CMD answers tensor, text and image requests, and every other function the stack
    runs from this image imports and runs, with only the image's requirements (and the base image's boto3)."""
    # GIVEN a task root laid out as the Dockerfile copies it, and both example models
    task_root = tmp_path / "task"
    shutil.copytree(IMAGE / "inference", task_root / "inference", ignore=shutil.ignore_patterns("__pycache__"))
    data_dir = tmp_path / "data"
    for name in ("digits", "minilm"):
        publish_version(ROOT / "models" / name, data_dir / "models", name)
    (handler_path,) = exec_form_cmd(IMAGE / "Dockerfile")
    others = [*PUBLISHER_COMMAND, RETENTION_HANDLER, *WORKER_COMMAND, *DEAD_LETTERS_COMMAND]
    # WHEN the handlers are invoked in the fresh venv
    done = subprocess.run(
        [image_venv, "-c", INVOKE, task_root, handler_path, ROOT / "testing", *others],
        env={
            "DATA_DIR": str(data_dir),
            "PATH": "/usr/bin:/bin",
            "POWERTOOLS_METRICS_NAMESPACE": "Test",
            "JOBS_BUCKET": "jobs-bucket",
            "AWS_DEFAULT_REGION": "eu-central-1",
        },
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.split("RESULT", 1)[1])
    # THEN the old curl line, the predictions and a bad request all answer as specified
    assert results["post"][0] == 200 and results["post"][1].rstrip().endswith(": Hello World")
    assert results["predict"][0] == 200 and json.loads(results["predict"][1])["model"] == "digits"
    assert results["text"][0] == 200, results["text"]
    assert json.loads(results["text"][1])["dimension"] == 384
    assert results["image"][0] == 200, results["image"]
    assert results["bad"][0] == 400
    # AND the worker drops a message that no retry can fix, rather than failing the batch
    assert results["worker"] == {"batchItemFailures": []}
    # AND so does the dead-letter consumer, with a dead letter that names no job
    assert results["dead_letters"] == {"batchItemFailures": []}
    # AND retention runs on the (empty) store, and the publisher refuses an incomplete event by name
    assert results["retention"]["dropped"] is False
    assert "'prefix'" in results["publisher"]


def test_dockerfile_uses_the_lambda_base_and_exec_form_cmd() -> None:
    """The image builds on the Lambda Python 3.12 base and names the handler in exec form."""
    text = (IMAGE / "Dockerfile").read_text()
    assert "FROM public.ecr.aws/lambda/python:3.12" in text
    assert exec_form_cmd(IMAGE / "Dockerfile") == ["inference.api.handler.lambda_handler"]


def test_image_requirements_are_pinned_and_carry_no_test_tools() -> None:
    """Runtime dependencies are pinned exactly (each with its hashes), and no test or build tool is in the image."""
    text = (IMAGE / "requirements.txt").read_text()
    requirements = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith(("#", "--hash"))
    ]
    locked = pins(text)
    assert locked and len(locked) == len(requirements)
    names = {name.lower() for name, _ in locked}
    assert not names & {"pytest", "scikit-learn", "skl2onnx", "onnx", "ruff", "mypy", "boto3"}
