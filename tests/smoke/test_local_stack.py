"""`make smoke` for real, against the local stack as `make dev AUTH=iam` runs it (jobs on, both example models, the
UI): it passes with the key pair the stack prints, and fails with a wrong secret or unsigned."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from local.sigv4 import DEFAULT_REGION, KeyPair
from testing.local_stack import REPO, Running, free_port, spawn, stop, wait_for_line
from tests.models.factory import minilm_dir

EXAMPLE_MODEL = REPO / "models" / "digits"
_KEYS = re.compile(r"export AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+)")
CHECKS = ["health", "message round trip", "models", "predict digits", "predict minilm", "job round trip", "ui"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed"),
    pytest.mark.skipif(not (EXAMPLE_MODEL / "model.onnx").exists(), reason="models/digits is not built (make model)"),
]


@dataclass
class LocalStack:
    dev: Running
    api_url: str
    ui_url: str
    keys: KeyPair


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """`python -m local.dev --auth iam` with jobs, both example models and the UI, on free ports."""
    folder = tmp_path_factory.mktemp("smoke")
    api_port, ui_port = free_port(), free_port()
    dev = spawn(
        [
            *("local.dev", "--api-port", str(api_port), "--ui-port", str(ui_port), "--aws-port", str(free_port())),
            *("--data-dir", str(folder / "data"), "--function-log", str(folder / "logs" / "function.log")),
            *("--workers", "2", "--model-dir", str(EXAMPLE_MODEL), "--model-dir", str(minilm_dir())),
            *("--auth", "iam"),
        ],
        folder / "dev.log",
    )
    try:
        wait_for_line(dev, "Local stack is up", timeout=180)
        found = _KEYS.search(dev.log())
        assert found, dev.log()
        yield LocalStack(
            dev, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{ui_port}", KeyPair(found[1], found[2])
        )
    finally:
        assert stop(dev, signal.SIGINT) == 0, dev.log()


def make_smoke(stack: LocalStack, home: Path, *extra: str, keys: KeyPair | None) -> subprocess.CompletedProcess[str]:
    """`make smoke URL=... REGION=... UI_URL=...` with only ``keys`` as AWS credentials (no profile of this machine)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env |= {"AWS_CONFIG_FILE": str(home / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(home / "none")}
    if keys:
        env |= {"AWS_ACCESS_KEY_ID": keys.access_key_id, "AWS_SECRET_ACCESS_KEY": keys.secret_access_key}
    command = ["make", "-s", "smoke", f"URL={stack.api_url}", f"REGION={DEFAULT_REGION}", f"UI_URL={stack.ui_url}"]
    return subprocess.run(
        [*command, *extra], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def outcomes(output: str) -> dict[str, str]:
    return {
        match[2]: match[1] for match in re.finditer(r"^(PASS|FAIL|SKIP)  (.+?)\s+\d+\.\d\d s  ", output, re.MULTILINE)
    }


def test_smoke_passes_with_the_printed_key_pair(local_stack: LocalStack, tmp_path: Path) -> None:
    """Signed with the pair `make dev AUTH=iam` prints: every check passes, the job round trip included."""
    done = make_smoke(local_stack, tmp_path, keys=local_stack.keys)
    assert done.returncode == 0, done.stdout + done.stderr
    assert outcomes(done.stdout) == dict.fromkeys(CHECKS, "PASS"), done.stdout
    assert f"signed (SigV4, {DEFAULT_REGION})" in done.stdout
    assert '"POST /jobs" 202' in local_stack.dev.log()  # the checks reached the API, signed
    assert '"GET /health" 403' not in local_stack.dev.log()


def test_smoke_fails_with_a_wrong_secret(local_stack: LocalStack, tmp_path: Path) -> None:
    """Another secret for the same key id: the API refuses every call with 403 and `make smoke` exits non-zero."""
    wrong = KeyPair(local_stack.keys.access_key_id, "not-the-secret")
    done = make_smoke(local_stack, tmp_path, keys=wrong)
    assert done.returncode != 0, done.stdout
    found = outcomes(done.stdout)
    assert found["health"] == found["message round trip"] == found["models"] == "FAIL", done.stdout
    assert "403 The request signature we calculated does not match" in done.stdout
    assert "FAILED: health, message round trip, models" in done.stdout


def test_smoke_fails_unsigned(local_stack: LocalStack, tmp_path: Path) -> None:
    """AUTH=none against a stack with IAM auth: 403 Forbidden, non-zero exit."""
    done = make_smoke(local_stack, tmp_path, "AUTH=none", keys=None)
    assert done.returncode != 0, done.stdout
    assert "unsigned" in done.stdout and "FAIL  health" in done.stdout and "403 Forbidden" in done.stdout
