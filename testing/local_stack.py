"""Helpers to run the local stack as real subprocesses and talk to it over real HTTP, with a bound on every wait."""

from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# The old CDK app's README, verbatim but for the port.
OLD_README_POST = (
    "curl --location --request POST 'http://127.0.0.1:8080/' --header 'Content-Type: application/json' "
    "--data-raw 'Hello World'"
)
OLD_README_GET = "curl --location --request GET 'http://127.0.0.1:8080/' --data-raw ''"
TOY_HANDLER = "tests.local.toy_handler.handle"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
_URL = re.compile(rb"Local API on (http://[\d.]+:\d+)")


@dataclass(frozen=True)
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    log_path: Path
    url: str = ""

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def spawn(args: list[str], log_path: Path, env: dict[str, str] | None = None) -> Running:
    """``python -m <args>`` from the repository root, its output going to ``log_path``."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", *args], cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env or dict(os.environ)
        )
    return Running(process, log_path)


def start_server(
    data_dir: Path, log_path: Path, *options: str, handler: str = TOY_HANDLER, env: dict[str, str] | None = None
) -> Running:
    """``python -m local.server`` on a free port, with ``env`` added to ours; returns once it prints its URL."""
    running = spawn(
        ["local.server", "--port", "0", "--data-dir", str(data_dir), "--handler", handler, *options],
        log_path,
        {**os.environ, **(env or {})},
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and running.process.poll() is None:
        found = _URL.search(log_path.read_bytes())
        if found:
            running.url = found.group(1).decode()
            return running
        time.sleep(0.05)
    stop(running)
    raise AssertionError(f"the server did not start:\n{running.log()}")


def wait_for_line(running: Running, text: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in running.log():
            return
        if running.process.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared:\n{running.log()}")


def stop(running: Running, signum: signal.Signals = signal.SIGINT) -> int:
    """Signal the process and wait for it; a process that does not stop is killed and the test fails."""
    if running.process.poll() is None:
        running.process.send_signal(signum)
    try:
        return running.process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        running.process.kill()
        running.process.wait(STOP_TIMEOUT)
        raise AssertionError(f"the process did not stop on {signum.name}:\n{running.log()}") from None


def call(
    url: str,
    method: str,
    target: str,
    body: bytes = b"",
    *,
    headers: list[tuple[str, str]] | None = None,
    timeout: float = 30.0,
) -> Reply:
    """One request over a fresh connection; repeated header names are sent as separate lines."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers or []:
            connection.putheader(name, value)
        if body or method in ("POST", "PUT", "PATCH"):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        return Reply(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


def run_curl(line: str, port: int) -> str:
    """Run one of the README's curl lines against ``port``; returns what curl printed."""
    args = shlex.split(line.replace("127.0.0.1:8080", f"127.0.0.1:{port}"))
    return subprocess.run(args, capture_output=True, text=True, timeout=30, check=True).stdout


def json_objects(output: str) -> list[dict[str, Any]]:
    """The JSON objects in a command's output, in order (curl prints answers without a newline after them)."""
    decoder, found, position = json.JSONDecoder(), [], output.find("{")
    while position != -1:
        try:
            value, end = decoder.raw_decode(output, position)
        except ValueError:
            end = position + 1
        else:
            if isinstance(value, dict):
                found.append(value)
        position = output.find("{", end)
    return found


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid``, read from /proc (zombies count as gone)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[0] != "Z":
                children.setdefault(stat[1], []).append(int(entry.name))
    found: set[int] = set()
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()  # the command name in parentheses may contain spaces
    return fields[0], int(fields[1])


def wait_until_gone(pids: set[int], timeout: float = STOP_TIMEOUT) -> set[int]:
    """The pids still alive after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = {pid for pid in pids if alive(pid)}
        if not left:
            return set()
        time.sleep(0.1)
    return {pid for pid in pids if alive(pid)}
