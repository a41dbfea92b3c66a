"""docs/MODELS.md's "Bring your own model" worked examples, run as written (but for the URL and the working folder)
against the local stack with the real handler, as the README's commands are: every command must succeed, with no
hand-written JSON, and each model must answer; then `make smoke`'s checks run each model's samples."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testing.local_stack import REPO, Running, json_objects, start_server, stop

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
DOC = (REPO / "docs" / "MODELS.md").read_text(encoding="utf-8")
_BLOCK = re.compile(r"```(bash|python)\n(.*?)```", re.DOTALL)


def examples() -> str:
    """The section's commands as one script: bash blocks in order, python blocks written to the file their first
    line names (``# iris_export.py: ...``)."""
    section = DOC[DOC.index("## Bring your own model") : DOC.index("### Publishing to a deployed stack")]
    script = []
    for language, body in _BLOCK.findall(section):
        if language == "bash":
            script.append(body)
            continue
        name = re.match(r"# ([\w.]+\.py):", body)
        assert name, f"a python block of the worked examples names its file on its first line: {body[:60]}"
        script.append(f"cat > {name.group(1)} <<'PYTHON'\n{body}PYTHON\n")
    return "\n".join(script)


@pytest.fixture
def local_stack(tmp_path: Path) -> Iterator[Running]:
    """The local API with the real handler, serving the working folder's .local/data, as `make dev` would."""
    (tmp_path / ".local" / "data").mkdir(parents=True)
    running = start_server(
        tmp_path / ".local" / "data", tmp_path / "server.log", handler="inference.api.handler.lambda_handler"
    )
    yield running
    stop(running)


def _answers(output: str) -> dict[str, dict[str, Any]]:
    """The API's answers among what the commands printed, by model."""
    return {answer["model"]: answer for answer in json_objects(output) if {"model", "outputs"} <= set(answer)}


def test_the_four_worked_examples_run_as_written(tmp_path: Path, local_stack: Running) -> None:
    """init, publish and curl for a scikit-learn classifier, an image classifier, a sentence embedding and a text
    classifier: every command succeeds, and each model answers as the docs say."""
    script = examples()
    assert script.count("efs-models init") == 4 and script.count("efs-models publish") == 4
    script = re.sub(r"^URL=.*$", f"URL={local_stack.url}", script, count=1, flags=re.MULTILINE)
    wrapper = 'set -euo pipefail\ncurl() { command curl --fail --silent --show-error "$@"; }\n'
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # .venv/bin: efs-models, python
        "PYTHONPATH": str(REPO),  # `python -m scripts.example_exports`, as from the repository's root
    }
    done = subprocess.run(
        ["bash", "-c", wrapper + script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stdout + done.stderr
    answers = _answers(done.stdout)
    assert set(answers) == {"iris", "pets", "embedder", "sentiment"}
    (iris,) = answers["iris"]["outputs"]
    assert iris["label"] == "setosa" and list(iris["probabilities"]) == ["setosa", "versicolor", "virginica"]
    (pet,) = answers["pets"]["outputs"]
    assert set(pet["probabilities"]) == {"cat", "dog", "bird", "fish", "horse"}
    assert sum(pet["probabilities"].values()) == pytest.approx(1, abs=1e-5)
    assert answers["embedder"]["dimension"] == 32 and len(answers["embedder"]["outputs"]) == 2
    assert all(
        set(output["probabilities"]) == {"negative", "neutral", "positive"}
        for output in answers["sentiment"]["outputs"]
    )
    assert all(answer["version"] == "1" for answer in answers.values())
    # init wrote each model's probe inputs as samples (but the picture model's, too large): `make smoke` runs them.
    smoke = subprocess.run(
        [sys.executable, "-m", "scripts.smoke", "--url", local_stack.url, "--auth", "none"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = {" ".join(line.split()[:3]): line for line in smoke.stdout.splitlines()}
    for name in ("iris", "embedder", "sentiment"):
        assert "2 samples answered by version 1" in lines.get(f"PASS predict {name}", ""), smoke.stdout
    assert "the model's metadata has no samples" in lines.get("SKIP predict pets", ""), smoke.stdout
