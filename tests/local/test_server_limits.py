"""Lambda's and API Gateway's limits as the local API enforces them: payload size, timeouts, crashes, throttling."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from local.events import REQUEST_PAYLOAD_LIMIT, RESPONSE_PAYLOAD_LIMIT
from testing.local_stack import Reply, Running, call, start_server, stop, wait_for_line, wait_until_gone

ENTITY_TOO_LARGE = {"message": "Request Entity Too Large"}
# 4.5 MB of "€" in UTF-8: under Lambda's 6 MB limits, but 9 MB if each were counted as the 6 bytes of \\u20ac.
EUROS_UNDER_LIMIT = 1536 * 1024


def data_dir(server: Running) -> Path:
    return server.log_path.parent / "data"


def test_body_over_6_mb_gets_413(toy_server: Running) -> None:
    """A body one byte over Lambda's 6 MB invocation limit is refused with 413 before the function runs."""
    body = b"a" * (REQUEST_PAYLOAD_LIMIT + 1)
    reply = call(toy_server.url, "POST", "/", body, headers=[("Content-Type", "text/plain")])
    assert reply.status == 413
    assert json.loads(reply.body) == ENTITY_TOO_LARGE


def test_binary_body_over_limit_once_base64_encoded_gets_413(toy_server: Running) -> None:
    """The limit applies to the event: a 5 MB binary body grows past 6 MB as base64, so it is refused too."""
    body = b"\x00" * (5 * 1024 * 1024)
    reply = call(toy_server.url, "POST", "/", body, headers=[("Content-Type", "application/octet-stream")])
    assert reply.status == 413
    assert json.loads(reply.body) == ENTITY_TOO_LARGE


def test_non_ascii_body_is_measured_in_utf8_bytes(toy_server: Running) -> None:
    """A 4.5 MB text body of "€" is under the 6 MB event limit (UTF-8, not \\u-escapes) and reaches the function."""
    body = "€".encode() * EUROS_UNDER_LIMIT
    reply = call(toy_server.url, "POST", "/toy/body-length", body, headers=[("Content-Type", "text/plain")])
    assert (reply.status, reply.body) == (200, str(EUROS_UNDER_LIMIT).encode())


def test_non_ascii_result_is_measured_in_utf8_bytes(toy_server: Running) -> None:
    """A 4.5 MB result of "€" is under the 6 MB response limit, as the Python 3.12 runtime sends it unescaped."""
    reply = call(toy_server.url, "GET", f"/toy/euros?n={EUROS_UNDER_LIMIT}")
    assert reply.status == 200
    assert reply.body == "€".encode() * EUROS_UNDER_LIMIT


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (f"/toy/euros?n={RESPONSE_PAYLOAD_LIMIT // 3 + 1}", "Function.ResponseSizeTooLarge: Response payload size"),
        ("/toy/unserialisable", "Runtime.MarshalError: Unable to marshal response"),
        ("/toy/fail", "ValueError: the toy handler failed on purpose"),
        ("/toy/crash", "Runtime.ExitError: Runtime exited with error: exit status 3"),
    ],
)
def test_refused_result_is_logged_with_its_worker(toy_server: Running, path: str, logged: str) -> None:
    """A function error gives 500, and the log says why (Lambda's errorType and message) and which worker ran it."""
    reply = call(toy_server.url, "GET", path)
    assert reply.status == 500
    worker = reply.header("x-local-worker-pid")
    assert worker, "the 500 names the worker that ran the invocation"
    request_id = reply.header("apigw-requestid")
    wait_for_line(toy_server, f"{request_id} function error on worker {worker}: {logged}")
    wait_for_line(toy_server, f"worker={worker} requestId={request_id}")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_oversized_upload_is_refused_before_it_is_sent(toy_server: Running, tmp_path: Path) -> None:
    """curl's Expect: 100-continue for a large body is answered with 413 straight away."""
    upload = tmp_path / "big.bin"
    upload.write_bytes(b"b" * (REQUEST_PAYLOAD_LIMIT + 1))
    result = subprocess.run(
        ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--data-binary", f"@{upload}", toy_server.url + "/"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    body, status = result.stdout.rsplit("\n", 1)
    assert status == "413"
    assert json.loads(body) == ENTITY_TOO_LARGE


def test_function_timeout_gives_500_and_a_fresh_worker(toy_server: Running) -> None:
    """A function running past --timeout (1 s) is stopped, the client gets 500, and the next request works."""
    before = {json.loads(call(toy_server.url, "GET", "/").body)["pid"] for _ in range(2)}
    reply = call(toy_server.url, "GET", "/toy/hold?seconds=30")
    assert reply.status == 500
    assert json.loads(reply.body) == {"message": "Internal Server Error"}
    assert "Task timed out after 1.00 seconds" in toy_server.log()
    after = {json.loads(call(toy_server.url, "GET", "/").body)["pid"] for _ in range(2)}
    assert len(before - after) == 1, "exactly one worker, the timed-out one, was replaced"
    assert wait_until_gone(before - after) == set()


def test_crashed_worker_gives_500_and_is_replaced(toy_server: Running) -> None:
    """A worker process that dies mid-request gives 500; it is replaced and later requests succeed."""
    reply = call(toy_server.url, "GET", "/toy/crash")
    assert reply.status == 500
    assert json.loads(reply.body) == {"message": "Internal Server Error"}
    assert "Runtime exited with error: exit status 3" in toy_server.log()
    for _ in range(4):
        assert call(toy_server.url, "GET", "/").status == 200


def test_integration_timeout_gives_503(tight_server: Running) -> None:
    """When API Gateway's integration timeout (3 s) passes before the function's (10 s), the client gets 503."""
    reply = call(tight_server.url, "GET", "/toy/hold?seconds=30")
    assert reply.status == 503
    assert json.loads(reply.body) == {"message": "Service Unavailable"}
    assert call(tight_server.url, "GET", "/toy/string").status == 200


def test_requests_beyond_pool_and_queue_get_429(tight_server: Running) -> None:
    """With the only worker busy and no queue allowed, another request is throttled with 429."""
    # GIVEN the only worker is held inside the function
    folder = data_dir(tight_server)
    for marker in folder.glob("started-*"):
        marker.unlink()
    held: list[Reply] = []
    holder = threading.Thread(target=lambda: held.append(call(tight_server.url, "GET", "/toy/hold?seconds=30")))
    holder.start()
    try:
        _wait_for_marker(folder)
        # WHEN another request arrives
        reply = call(tight_server.url, "GET", "/toy/string")
        # THEN it is throttled
        assert reply.status == 429
        assert json.loads(reply.body) == {"message": "Too Many Requests"}
    finally:
        (folder / "release").touch()
        holder.join(30)
        (folder / "release").unlink()
    # AND the held request still completes
    assert [reply.status for reply in held] == [200]


def test_failed_init_gives_500(tmp_path: Path) -> None:
    """A handler whose import fails answers 500 on every request, as a Lambda with a broken cold start."""
    server = start_server(
        tmp_path / "data", tmp_path / "server.log", "--workers", "1", handler="tests.local.broken_handler.handle"
    )
    try:
        for _ in range(2):
            reply = call(server.url, "GET", "/")
            assert (reply.status, json.loads(reply.body)) == (500, {"message": "Internal Server Error"})
    finally:
        assert stop(server) == 0
    assert "this module fails on import on purpose" in server.log()


def _wait_for_marker(folder: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(folder.glob("started-*")):
        assert time.monotonic() < deadline, "the held request never reached the function"
        time.sleep(0.05)
