"""The jobs part of `make dev` end to end: moto's server, the job resources and the poller started by
local.job_stack (as dev.py starts them), the real handler behind local.server, and the README's jobs
commands run verbatim (but for the URL) with curl."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.job_stack import local_jobs
from testing.local_stack import REPO, Running, call, free_port, start_server, stop
from tests.jobs.conftest import EXAMPLE_MODEL
from tests.jobs.helpers import wait_until
from ui.api_client import ApiClient
from ui.job_client import INLINE_INPUT_BYTES, JobClient

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")]


@pytest.fixture
def jobs_server(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    jobs = local_jobs(
        host="127.0.0.1",
        aws_port=free_port(),
        workers=2,
        worker_timeout=30,
        data_dir=data_dir,
        model=("digits", EXAMPLE_MODEL),
    )
    with jobs as env:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        server = start_server(data_dir, tmp_path / "server.log", handler="inference.api.handler.lambda_handler")
        try:
            yield server
        finally:
            stop(server)


def readme_jobs_block() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### Async jobs") :]
    found = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert found, "README's jobs section has no bash block"
    return found.group(1)


def test_readme_jobs_commands_succeed_against_the_local_stack(jobs_server: Running) -> None:
    """The README's jobs curl lines all answer 2xx; the inline job succeeds, the uploaded one is accepted."""
    script = re.sub(r"^URL=.*$", f"URL={jobs_server.url}", readme_jobs_block(), count=1, flags=re.MULTILINE)
    wrapper = (
        'set -euo pipefail\ncurl() { command curl --fail --silent --show-error "$@"; }\n'
        'sleep() { echo POLLED >&2; command sleep "$@"; }\n'  # counts the polling loop's rounds
    )
    done = subprocess.run(["bash", "-c", wrapper + script], capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    assert "succeeded {'done': 1000, 'total': 1000}" in done.stdout
    # AND the polling loop saw the job finish, rather than running out of rounds and falling through
    assert done.stderr.count("POLLED") < 60, done.stderr
    accepted = json.loads(done.stdout.strip().splitlines()[-1])
    assert accepted["status"] == "queued"
    assert accepted["progress"]["total"] == 10000


def test_the_http_layer_answers_jobs_errors_as_json(jobs_server: Running) -> None:
    """Over real HTTP: 202 with a Location, 400 for bad input, 415 for a wrong type, 404 for an unknown job."""
    body = json.dumps({"inputs": [[1] * 64]}).encode()
    accepted = call(jobs_server.url, "POST", "/jobs", body, headers=[("content-type", "application/json")])
    assert accepted.status == 202
    assert accepted.header("location") == json.loads(accepted.body)["status_url"]
    bad = json.dumps({"inputs": [[1] * 64, [99] * 64]}).encode()
    refused = call(jobs_server.url, "POST", "/jobs", bad, headers=[("content-type", "application/json")])
    assert refused.status == 400
    assert json.loads(refused.body)["error"]["code"] == "invalid_input"
    wrong_type = call(jobs_server.url, "POST", "/jobs", body, headers=[("content-type", "text/plain")])
    assert wrong_type.status == 415
    unknown = call(jobs_server.url, "GET", f"/jobs/{'0' * 32}")
    assert unknown.status == 404
    assert json.loads(unknown.body)["error"]["code"] == "job_not_found"


def test_the_ui_job_client_uploads_a_batch_over_6_mb_and_gets_its_result(jobs_server: Running) -> None:
    """The UI's client sends a batch too big for a request through the presigned upload, then polls to the end."""
    client = JobClient(ApiClient(jobs_server.url))
    assert client.available()
    inputs = [[(index % 160) / 10 + 0.0123456] * 64 for index in range(10_000)]
    assert len(json.dumps(inputs)) > INLINE_INPUT_BYTES
    submitted = client.submit("digits", inputs)
    job = wait_until(lambda: client.status(submitted.job_id), lambda job: job.finished, timeout=120)
    assert job.status == "succeeded", job.error
    assert job.done == job.total == 10_000
    assert job.result_url is not None  # too big to come inline
