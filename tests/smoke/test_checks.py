"""The smoke check against a fake stack: what passes, fails and is skipped, how it signs, where it finds the stack."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts import smoke
from tests.smoke.fake_stack import FakeStack, fake_stack, healthy

TOKEN = "session-token-of-an-assumed-role"


@pytest.fixture
def stack() -> Iterator[FakeStack]:
    with fake_stack() as running:
        healthy(running)
        yield running


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Temporary credentials in the environment, and no profile of this machine's in the way."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIATEMPORARY0000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)


def lines(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """Each check's printed line, by check name."""
    found = {}
    for line in capsys.readouterr().out.splitlines():
        outcome, _, rest = line.partition("  ")
        if outcome in ("PASS", "FAIL", "SKIP"):
            found[rest.split("  ")[0].strip()] = line
    return found


def test_every_check_passes_on_a_healthy_stack(stack: FakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    """Health, a message, each model's samples, a job (polled until it ends) and the UI: one PASS line each with its
    time, exit 0."""
    stack.job_states.insert(0, {"status": "running", "progress": {"done": 0, "total": 2}})
    code = smoke.main(["--url", stack.url, "--auth", "none", "--ui-url", f"{stack.url}/ui"])
    printed = lines(capsys)
    assert code == 0, printed
    expected = ["health", "message round trip", "models", "predict digits", "predict minilm", "job round trip", "ui"]
    assert list(printed) == expected
    assert all(line.startswith("PASS") and " s  " in line for line in printed.values())
    assert "2 samples answered by version 2, 1/2 given their sample's label" in printed["predict digits"]
    assert "1 samples" in printed["predict minilm"]  # the listing's malformed sample is left out
    # The message says where it comes from; the job ran the default model's samples, inline.
    assert "smoke check" in stack.messages[0]["text"]
    job = next(seen for seen in stack.seen if (seen.method, seen.path) == ("POST", "/jobs"))
    assert b'"model": "digits"' in job.body and b'"inputs": [[0' in job.body
    assert sum(seen.path == "/jobs/j1" for seen in stack.seen) == 2


def test_calls_are_signed_with_the_callers_credentials_session_token_included(
    stack: FakeStack, credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """With IAM every API call carries a SigV4 signature for execute-api in the region, over the session token;
    the presigned result URL is fetched as it is, without our signature."""
    assert smoke.main(["--url", stack.url, "--region", "eu-west-1"]) == 0  # iam: credentials were found
    api_calls = [seen for seen in stack.seen if not seen.path.startswith("/result")]
    for seen in api_calls:
        authorization = seen.headers["Authorization"]
        assert authorization.startswith("AWS4-HMAC-SHA256 Credential=ASIATEMPORARY0000000/"), seen.path
        assert "/eu-west-1/execute-api/aws4_request" in authorization
        assert "x-amz-security-token" in authorization.split("SignedHeaders=")[1].split(",")[0]
        assert seen.headers["X-Amz-Security-Token"] == TOKEN
    download = next(seen for seen in stack.seen if seen.path.startswith("/result"))
    assert "Authorization" not in download.headers
    assert "signed (SigV4, eu-west-1)" in capsys.readouterr().out


def test_a_refused_signature_fails_and_exits_non_zero(stack: FakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    """API Gateway's 403 fails every API check with its message; the checks that need the models are skipped."""
    forbidden: tuple[int, dict[str, str], object] = (
        403,
        {},
        {"message": "The request signature we calculated does not match"},
    )
    for route in [("GET", "/health"), ("POST", "/messages"), ("GET", "/models")]:
        stack.answers[route] = forbidden
    assert smoke.main(["--url", stack.url, "--auth", "none"]) == 1
    printed = lines(capsys)
    assert printed["health"].startswith("FAIL") and "403 The request signature" in printed["health"]
    assert printed["models"].startswith("FAIL")
    assert printed["job round trip"].startswith("SKIP")
    assert printed["ui"].startswith("SKIP")


def test_a_stack_without_jobs_skips_the_job_check(stack: FakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    """POST /jobs answering 404 jobs_disabled is a skip, not a failure."""
    stack.answers[("POST", "/jobs")] = (404, {}, {"error": {"code": "jobs_disabled", "message": "off"}})
    assert smoke.main(["--url", stack.url, "--auth", "none"]) == 0
    assert "SKIP  job round trip" in capsys.readouterr().out


def test_a_failed_job_fails_with_its_reason(stack: FakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    """A job that ends failed fails the check, with the job's own error."""
    stack.job_states[:] = [{"status": "failed", "error": {"code": "attempts_exhausted", "message": "shard 0"}}]
    assert smoke.main(["--url", stack.url, "--auth", "none"]) == 1
    assert "job j1 failed: attempts_exhausted: shard 0" in lines(capsys)["job round trip"]


def test_a_job_that_never_ends_fails_after_the_timeout(stack: FakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    """A job still queued when --job-timeout runs out fails the check, saying how far it got."""
    stack.job_states[:] = [{"status": "queued", "progress": {"done": 0, "total": 2}}]
    assert smoke.main(["--url", stack.url, "--auth", "none", "--job-timeout", "0"]) == 1
    assert "still queued" in lines(capsys)["job round trip"]


def test_a_wrong_prediction_count_fails(stack: FakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    """A 200 whose outputs do not match the inputs one for one is a failure."""
    stack.answers[("POST", "/models/minilm/predict")] = (200, {}, {"outputs": []})
    assert smoke.main(["--url", stack.url, "--auth", "none"]) == 1
    assert lines(capsys)["predict minilm"].startswith("FAIL")


@pytest.mark.parametrize(
    ("status", "location", "expected"),
    [
        (302, "https://login.auth.eu-west-1.amazoncognito.com/oauth2/authorize?client_id=x", "PASS"),
        (302, "https://elsewhere.example.com/", "FAIL"),
        (502, None, "FAIL"),
    ],
)
def test_the_ui_answers_or_redirects_to_its_sign_in(
    stack: FakeStack, capsys: pytest.CaptureFixture[str], status: int, location: str | None, expected: str
) -> None:
    """A redirect to Cognito's sign-in page passes; a redirect elsewhere or an error fails."""
    stack.answers[("GET", "/ui")] = (status, {"Location": location} if location else {}, {})
    smoke.main(["--url", stack.url, "--auth", "none", "--ui-url", f"{stack.url}/ui"])
    assert lines(capsys)["ui"].startswith(expected)


def test_a_redirect_within_the_ui_host_is_followed(stack: FakeStack) -> None:
    """HTTP to HTTPS (here: to another path of the same host) is followed before judging the answer."""
    stack.answers[("GET", "/ui")] = (301, {"Location": "/ui-moved"}, {})
    stack.answers[("GET", "/ui-moved")] = (200, {}, {})
    assert smoke.check_ui(f"{stack.url}/ui") == "200"


def test_the_region_is_read_from_the_api_url() -> None:
    """An execute-api URL names its region; any other host does not."""
    assert smoke.region_of("https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com") == "eu-west-1"
    assert smoke.region_of("https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/") == "cn-north-1"
    assert smoke.region_of("http://127.0.0.1:8080") is None


def test_without_a_url_it_reads_the_pulumi_stack_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the Pulumi CLI on PATH, the URL, auth mode and UI URL come from `pulumi stack output --json`."""
    pulumi = tmp_path / "pulumi"
    pulumi.write_text(
        "#!/bin/sh\n"
        'test "$*" = "stack output --json --stack prod" || exit 3\n'
        'echo \'{"api_url": "https://abc.execute-api.eu-west-1.amazonaws.com", "api_auth": "iam",'
        ' "ui_url": "https://ui.example.com", "dashboard_url": "https://console.example.com/d"}\'\n'
    )
    pulumi.chmod(pulumi.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    target = smoke.target_from(smoke.parse_args(["--stack", "prod"]), {})
    assert (target.api_url, target.auth, target.region, target.ui_url, target.dashboard_url) == (
        "https://abc.execute-api.eu-west-1.amazonaws.com",
        "iam",
        "eu-west-1",
        "https://ui.example.com",
        "https://console.example.com/d",
    )


def test_samples_are_read_defensively() -> None:
    """Only objects with an input count as samples; a listing without samples gives none."""
    assert smoke.samples_of({"samples": [{"input": 1}, {"label": "x"}, 3, None]}) == [{"input": 1}]
    assert smoke.samples_of({"samples": {"input": 1}}) == []
    assert smoke.samples_of({}) == []
