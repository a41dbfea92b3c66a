"""The local stack with auth on (`--auth iam`, as `make dev AUTH=iam` runs it): the README's signed curl lines
pass with the key pair the server prints; its unsigned lines, a wrong key and a tampered request get 403."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.dev import publish_model
from local.sigv4 import DEFAULT_REGION, KeyPair, signed_headers
from testing.local_stack import REPO, Running, call, free_port, json_objects, spawn, start_server, stop, wait_for_line
from tests.local.conftest import EXAMPLE_MODEL

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
_KEYS = re.compile(r"export AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+)")


@pytest.fixture(scope="module")
def iam_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, KeyPair]]:
    """The real handler behind `--auth iam`, the example model published; the key pair read from what it prints."""
    folder = tmp_path_factory.mktemp("iam")
    if (EXAMPLE_MODEL / "model.onnx").exists():
        publish_model(EXAMPLE_MODEL, folder / "data")
    running = start_server(
        folder / "data",
        folder / "server.log",
        "--workers",
        "2",
        "--auth",
        "iam",
        handler="inference.api.handler.lambda_handler",
    )
    try:
        found = _KEYS.search(running.log())
        assert found, f"the server did not print its key pair:\n{running.log()}"
        yield running, KeyPair(found.group(1), found.group(2))
    finally:
        stop(running)


def readme_block(heading: str) -> str:
    """The first bash block after ``heading`` in the README."""
    readme = (REPO / "README.md").read_text()
    found = re.search(r"```bash\n(.*?)```", readme[readme.index(heading) :], re.DOTALL)
    assert found, f"README has no bash block after {heading!r}"
    return found.group(1)


def run_block(block: str, url: str, keys: KeyPair | None, curl_wrapper: str) -> subprocess.CompletedProcess[str]:
    script = re.sub(r"^URL=.*$", f"URL={url}", block, count=1, flags=re.MULTILINE)
    script = re.sub(r"^REGION=.*$", f"REGION={DEFAULT_REGION}", script, count=1, flags=re.MULTILINE)
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    if keys:
        env |= {"AWS_ACCESS_KEY_ID": keys.access_key_id, "AWS_SECRET_ACCESS_KEY": keys.secret_access_key}
    wrapper = f"set -euo pipefail\ncurl() {{ {curl_wrapper}; }}\n"
    return subprocess.run(
        ["bash", "-c", wrapper + script], capture_output=True, text=True, timeout=120, check=False, env=env
    )


def signed_get(server: Running, keys: KeyPair, target: str) -> bytes:
    reply = call(
        server.url,
        "GET",
        target,
        headers=list(signed_headers(keys, DEFAULT_REGION, "GET", server.url + target).items()),
    )
    assert reply.status == 200, reply.body
    return reply.body


def test_signed_readme_lines_pass(iam_server: tuple[Running, KeyPair]) -> None:
    """Every curl line of the README's signed block answers 2xx, signed with the printed key pair."""
    server, keys = iam_server
    block = readme_block("### With auth on")
    assert block.count('curl "${SIGN[@]}"') + block.count('curl -s "${SIGN[@]}"') >= 8
    done = run_block(block, server.url, keys, 'command curl --fail --silent --show-error "$@"')
    assert done.returncode == 0, done.stderr
    assert "Hello World" in done.stdout
    if (EXAMPLE_MODEL / "model.onnx").exists():
        assert any(answer.get("model") == "digits" for answer in json_objects(done.stdout))


def test_unsigned_readme_lines_are_refused_and_store_nothing(iam_server: tuple[Running, KeyPair]) -> None:
    """The unsigned block's every line gets 403 {"message":"Forbidden"}; the store is unchanged afterwards."""
    server, keys = iam_server
    before = signed_get(server, keys, "/")
    done = run_block(
        readme_block("## Try it"), server.url, None, 'command curl --silent --write-out " %{http_code}\\n" "$@"'
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) >= 8
    assert all(line == '{"message":"Forbidden"} 403' for line in lines), done.stdout
    assert signed_get(server, keys, "/") == before


def test_curl_with_a_wrong_key_is_refused(iam_server: tuple[Running, KeyPair]) -> None:
    """curl signing with another secret, or another key id, gets API Gateway's 403 messages."""
    server, keys = iam_server
    for user, expected in [
        (f"{keys.access_key_id}:not-the-secret", "The request signature we calculated does not match"),
        (f"AKIAOTHER00000000000:{keys.secret_access_key}", "The security token included in the request is invalid."),
    ]:
        done = subprocess.run(
            [
                "curl",
                "-s",
                "-w",
                " %{http_code}",
                "--aws-sigv4",
                f"aws:amz:{DEFAULT_REGION}:execute-api",
                "--user",
                user,
                f"{server.url}/health",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        body, status = done.stdout.rsplit(" ", 1)
        assert status == "403" and json.loads(body)["message"].startswith(expected), done.stdout


def test_tampered_body_and_path_are_refused_over_http(iam_server: tuple[Running, KeyPair]) -> None:
    """Headers signed for one body and path, sent with another body or to another path, get 403; the original passes."""
    server, keys = iam_server
    body = b'{"text": "signed"}'
    headers = signed_headers(keys, DEFAULT_REGION, "POST", f"{server.url}/messages", body)
    as_sent = [*headers.items(), ("Content-Type", "application/json")]
    assert call(server.url, "POST", "/messages", b'{"text": "forged"}', headers=as_sent).status == 403
    assert call(server.url, "POST", "/models/digits/predict", body, headers=as_sent).status == 403
    assert call(server.url, "POST", "/messages", body, headers=as_sent).status == 201
    assert b"forged" not in signed_get(server, keys, "/messages?limit=500")


@pytest.mark.parametrize("replayed", ["/health#x", "/x/../health", "/./health", "/health/.", "/messages/../health"])
def test_a_signed_request_replayed_onto_a_path_that_normalises_to_it_is_refused(
    iam_server: tuple[Running, KeyPair], replayed: str
) -> None:
    """A captured, signed GET /health resent with a fragment or dot segments (which botocore's signer normalises
    away) gets 403 before the function runs, never the old app's listing of every message."""
    server, keys = iam_server
    headers = signed_headers(keys, DEFAULT_REGION, "GET", f"{server.url}/health")
    assert call(server.url, "GET", "/health", headers=list(headers.items())).status == 200
    refused = call(server.url, "GET", replayed, headers=list(headers.items()))
    assert refused.status == 403, refused.body
    assert json.loads(refused.body)["message"].startswith("The request path is not in canonical form")


@pytest.mark.skipif(not (EXAMPLE_MODEL / "model.onnx").exists(), reason="models/digits is not built (make model)")
def test_make_dev_with_auth_prints_its_key_pair_and_refuses_unsigned_calls(tmp_path: Path) -> None:
    """`make dev AUTH=iam`: it comes up (its own readiness probe signs), prints the pair, and the API it serves
    answers a signed call and refuses an unsigned one."""
    api_port, ui_port = free_port(), free_port()
    dev = spawn(
        [
            *(
                "local.dev",
                "--api-port",
                str(api_port),
                "--ui-port",
                str(ui_port),
                "--data-dir",
                str(tmp_path / "data"),
            ),
            *("--workers", "1", "--model-dir", str(EXAMPLE_MODEL), "--auth", "iam"),
        ],
        tmp_path / "dev.log",
    )
    try:
        wait_for_line(dev, "Local stack is up", timeout=120)
        found = _KEYS.search(dev.log())
        assert found, dev.log()
        keys = KeyPair(found.group(1), found.group(2))
        api = Running(dev.process, dev.log_path, f"http://127.0.0.1:{api_port}")
        assert b'"digits"' in signed_get(api, keys, "/models")
        assert call(api.url, "GET", "/models").status == 403
    finally:
        assert stop(dev, signal.SIGINT) == 0, dev.log()
