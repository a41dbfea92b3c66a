"""Load generators for the local stack: wrk when installed (``apt-get install wrk``), else a small closed-loop
generator in Python (threads, one keep-alive connection each). Both report requests/s and latency
percentiles over a fixed duration, and count non-2xx answers."""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.measure import percentile

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass(frozen=True)
class Load:
    method: str
    path: str
    body: bytes = b""
    content_type: str = "application/json"


@dataclass(frozen=True)
class LoadResult:
    tool: str
    requests_per_second: float
    p50: float  # seconds
    p99: float
    requests: int
    failures: int  # non-2xx answers and socket errors


def run(url: str, load: Load, seconds: float, connections: int) -> LoadResult:
    if shutil.which("wrk"):
        return _wrk(url, load, seconds, connections)
    return _python(url, load, seconds, connections)


def _wrk(url: str, load: Load, seconds: float, connections: int) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as folder:
        script = Path(folder) / "request.lua"
        script.write_text(
            f"wrk.method = {_lua(load.method)}\nwrk.body = {_lua(load.body.decode())}\n"
            f'wrk.headers["Content-Type"] = {_lua(load.content_type)}\n'
        )
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script), url + load.path]
        output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    requests = int(_find(r"(\d+) requests in", output))
    failures = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|connect|read|write|timeout) (\d+)", output))
    return LoadResult(
        "wrk",
        float(_find(r"Requests/sec:\s+([\d.]+)", output)),
        _wrk_latency("50%", output),
        _wrk_latency("99%", output),
        requests,
        failures,
    )


def _wrk_latency(label: str, output: str) -> float:
    found = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    if not found:
        raise ValueError(f"no {label} latency in wrk's output:\n{output}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def _find(pattern: str, output: str) -> str:
    found = re.search(pattern, output)
    if not found:
        raise ValueError(f"{pattern!r} not in wrk's output:\n{output}")
    return found.group(1)


def _lua(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _python(url: str, load: Load, seconds: float, connections: int) -> LoadResult:
    host, port = url.removeprefix("http://").split(":")
    latencies: list[list[float]] = [[] for _ in range(connections)]
    failures = [0] * connections
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {"Content-Type": load.content_type} if load.body else {}
        try:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                connection.request(load.method, load.path, body=load.body or None, headers=headers)
                response = connection.getresponse()
                response.read()
                latencies[index].append(time.perf_counter() - started)
                failures[index] += not 200 <= response.status < 300
        finally:
            connection.close()

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(index,)) for index in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    samples = [latency for per_client in latencies for latency in per_client]
    return LoadResult(
        "python",
        len(samples) / elapsed,
        percentile(samples, 0.5),
        percentile(samples, 0.99),
        len(samples),
        sum(failures),
    )
