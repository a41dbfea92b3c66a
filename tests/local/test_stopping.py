"""Stopping the local stack: SIGINT (Ctrl-C) or SIGTERM ends the server or `make dev` with no process left behind."""

from __future__ import annotations

import contextlib
import http.client
import re
import signal
import threading
import time
from pathlib import Path

import pytest

from testing.local_stack import (
    REPO,
    call,
    descendants,
    free_port,
    spawn,
    start_server,
    stop,
    wait_for_line,
    wait_until_gone,
)

EXAMPLE_MODEL = REPO / "models" / "digits"
# What `make dev`'s terminal may show: its banner, the API's own start and stop lines, one access line per request.
_TERMINAL_LINES = re.compile(
    r"|Model (already )?published.*|Async jobs: .*|Local API on .*|Function log .*|Local stack is up:"
    r"|  (API|UI)  .*|  Function log .*|  Other logs: .*|One line per API request below.*"
    r'|127\.0\.0\.1 "[A-Z]+ \S+" \d{3} \d+B [\d.]+ms worker=\S+ requestId=\S+'
    r"|Stopping the local stack\.|stopping the local API"
)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_server_stops_with_its_workers(tmp_path: Path, signum: signal.Signals) -> None:
    """The server exits 0 on SIGINT or SIGTERM and every worker process it started is gone."""
    # GIVEN a server whose three workers have all served a request
    server = start_server(tmp_path / "data", tmp_path / "server.log", "--workers", "3")
    pids = {call(server.url, "GET", "/").header("x-local-worker-pid") for _ in range(3)}
    children = descendants(server.process.pid)
    assert {int(pid) for pid in pids if pid} <= children and len(pids) == 3
    # WHEN it is signalled
    assert stop(server, signum) == 0
    # THEN nothing it started is left running
    assert wait_until_gone(children) == set()


def test_server_stops_while_a_request_is_running(tmp_path: Path) -> None:
    """Stopping does not wait for a long-running function: its worker is stopped with the rest."""
    # GIVEN a request held inside the function
    server = start_server(tmp_path / "data", tmp_path / "server.log", "--workers", "1", "--timeout", "60")
    threading.Thread(target=_hold, args=(server.url,), daemon=True).start()
    deadline = time.monotonic() + 30
    while not any((tmp_path / "data").glob("started-*")):
        assert time.monotonic() < deadline, "the held request never reached the function"
        time.sleep(0.05)
    children = descendants(server.process.pid)
    # WHEN the server is stopped
    assert stop(server) == 0
    # THEN the busy worker is gone too
    assert children and wait_until_gone(children) == set()


def _hold(url: str) -> None:
    with contextlib.suppress(OSError, http.client.HTTPException):  # the server goes away mid-request
        call(url, "GET", "/toy/hold?seconds=60", timeout=60)


@pytest.mark.slow
@pytest.mark.skipif(not (EXAMPLE_MODEL / "model.onnx").exists(), reason="models/digits is not built (make model)")
@pytest.mark.skipif(not (REPO / "ui_image" / "app.py").exists(), reason="the Streamlit UI is not written yet")
def test_make_dev_serves_both_and_stops_cleanly(tmp_path: Path) -> None:
    """`python -m local.dev` publishes the model, serves the API and the UI, prints both URLs, and Ctrl-C stops all."""
    # GIVEN the command `make dev` runs, on free ports and a fresh data folder
    api_port, ui_port = free_port(), free_port()
    dev = spawn(
        [
            "local.dev",
            "--host",
            "127.0.0.1",
            "--api-port",
            str(api_port),
            "--ui-port",
            str(ui_port),
            "--data-dir",
            str(tmp_path / "data"),
            "--workers",
            "2",
            "--model-dir",
            str(EXAMPLE_MODEL),
            "--function-log",
            str(tmp_path / "function.log"),
            "--aws-port",
            str(free_port()),
        ],
        tmp_path / "dev.log",
    )
    try:
        # WHEN it is up
        wait_for_line(dev, "Local stack is up", timeout=120)
        # THEN both URLs are printed and answer, and the model was published into the data folder
        assert f"API  http://127.0.0.1:{api_port}" in dev.log()
        assert f"UI   http://127.0.0.1:{ui_port}" in dev.log()
        assert f"Function log (START/END/REPORT, logs, metrics): {tmp_path / 'function.log'}" in dev.log()
        assert "Model published: " in dev.log()
        assert (tmp_path / "data" / "models" / "digits" / "LATEST").exists()
        api = f"http://127.0.0.1:{api_port}"
        assert call(api, "GET", "/models").status == 200
        assert call(f"http://127.0.0.1:{ui_port}", "GET", "/").status == 200
        children = descendants(dev.process.pid)
        assert len(children) >= 4, "the API server, its two workers and Streamlit"
    finally:
        # WHEN Ctrl-C reaches it
        code = stop(dev, signal.SIGINT)
    # THEN it exits 0 and nothing it started is left running
    assert code == 0, dev.log()
    assert wait_until_gone(children) == set()
    # AND its terminal held only the banner and access lines, from start to stop; the rest is in the log files
    noise = [line for line in dev.log().splitlines() if not _TERMINAL_LINES.fullmatch(line)]
    assert noise == [], dev.log()
    assert dev.log().count('"GET /models" 200') == 1
    logs = {path.name: path.read_text() for path in tmp_path.glob("*.log") if path.name != "dev.log"}
    assert set(logs) == {"function.log", "ui.log", "s3-sqs-server-moto.log", "job-worker.log"}
    assert "GET /moto-api/data.json" in logs["s3-sqs-server-moto.log"]  # the S3/SQS server's access log
    assert "botocore" in logs["job-worker.log"] and "INIT_START" in logs["job-worker.log"]
    assert "receive failed" not in logs["job-worker.log"], "the poller outlived the S3/SQS server"
    assert "Traceback" not in "".join(logs.values())
