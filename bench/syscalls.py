"""Benchmark 7, file-system calls per request, counted by strace: what each POST /messages and GET /messages
page costs in calls that reach the file system (on EFS each is an NFS round trip of ~1-3 ms), at growing
store sizes, through the real handler; format 1 (the previous code, run as a store) beside it.

    python -m bench.syscalls [--sizes 1000,100000,1000000] [--requests 20]

Needs strace (``apt-get install strace``); without it the script says so and exits. Each case runs in a
fresh process under ``strace -f``; after a warm-up, the process brackets every request with a marker
(a stat of a path that does not exist) and the calls between two markers are that request's. Counted:
every call on a file or file descriptor (open, close, read/pread, write/pwrite, fsync, flock, fcntl, stat,
lseek, ftruncate, mkdir, unlink, ...) except those on stdin/stdout/stderr (the logs)."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench.report import REPO, publish, table, target_line
from bench.store_builder import build_store

POST_TARGET = 8
PAGE_TARGET = 6
MARKER = "/bench-syscalls-marker"
# strace's classes: %desc (calls on file descriptors) and %file (calls naming a path)
TRACE = "trace=%desc,%file"
_CALL = re.compile(r"^(?:\d+\s+)?(\w+)\((\d+)?")
_NOT_FILES = {"epoll_wait", "epoll_ctl", "poll", "select", "pselect6", "epoll_create1", "eventfd2", "pipe2"}

PROBE = """
import json, os, sys
from pathlib import Path
kind, data_dir, requests = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
if kind == "format 1 store":
    from testing.format1_store import MessageStore
    store = MessageStore(data_dir / "messages")
    calls = {"POST /messages": lambda: store.append("a new benchmark message"), "GET /messages": lambda: store.page(50)}
else:
    os.environ["DATA_DIR"] = str(data_dir)
    from inference.api.handler import lambda_handler
    from testing.api_events import http_event, json_event
    from testing.lambda_context import FakeLambdaContext
    context = FakeLambdaContext()
    post = json_event("POST", "/messages", {"text": "a new benchmark message"})
    page = http_event("GET", "/messages", query="limit=50")
    calls = {
        "POST /messages": lambda: lambda_handler(post, context),
        "GET /messages": lambda: lambda_handler(page, context),
    }
for call in calls.values():  # warm-up: lazy imports, the store's first open
    call(); call()
for name, call in calls.items():
    for _ in range(requests):
        try:
            os.stat("MARKER " + name)
        except FileNotFoundError:
            pass
        call()
try:
    os.stat("MARKER end")
except FileNotFoundError:
    pass
""".replace("MARKER", MARKER)


def count_calls(trace: str) -> dict[str, list[Counter[str]]]:
    """Per request kind, the file-system calls of each request (by syscall name)."""
    requests: dict[str, list[Counter[str]]] = {}
    current: Counter[str] | None = None
    for line in trace.splitlines():
        if MARKER in line:
            name = line.split(MARKER, 1)[1].split('"', 1)[0].strip()
            current = None if name == "end" else Counter()
            if current is not None:
                requests.setdefault(name, []).append(current)
            continue
        found = _CALL.match(line)
        if current is None or not found or found.group(1) in _NOT_FILES:
            continue
        if found.group(2) is not None and int(found.group(2)) <= 2 and found.group(1) != "openat":
            continue  # stdin, stdout, stderr: the logs and metrics, not the file system
        current[found.group(1)] += 1
    return requests


def trace_case(kind: str, data_dir: Path, requests: int) -> dict[str, list[Counter[str]]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "inference_image")])}
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as out:
        command = ["strace", "-f", "-qq", "-e", TRACE, "-o", out.name, sys.executable, "-c", PROBE]
        result = subprocess.run(
            [*command, kind, str(data_dir), str(requests)], env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise SystemExit(f"{kind} probe failed:\n{result.stderr[-3000:]}")
        return count_calls(Path(out.name).read_text())


def summarise(samples: list[Counter[str]]) -> tuple[float, int, Counter[str]]:
    """(mean calls per request, max, the most common request's breakdown)."""
    totals = [sum(sample.values()) for sample in samples]
    typical = Counter(json.dumps(dict(sorted(sample.items()))) for sample in samples).most_common(1)[0][0]
    return sum(totals) / len(totals), max(totals), Counter(json.loads(typical))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000,1000000", help="stored messages, comma-separated")
    parser.add_argument("--requests", type=int, default=20, help="traced requests per kind and size")
    args = parser.parse_args()
    if shutil.which("strace") is None:
        raise SystemExit("strace is not installed (apt-get install strace): this benchmark needs it")
    sizes = [int(size) for size in args.sizes.split(",")]
    rows, worst = [], {"POST /messages": 0, "GET /messages": 0}
    flat: dict[str, set[int]] = {"POST /messages": set(), "GET /messages": set()}
    with tempfile.TemporaryDirectory(prefix="bench-syscalls-") as folder:
        for size in sizes:
            data_dir = Path(folder) / f"v2-{size}"
            build_store(data_dir / "messages", size)
            for name, samples in trace_case("format 2, handler", data_dir, args.requests).items():
                mean, most, typical = summarise(samples)
                worst[name] = max(worst[name], most)
                flat[name].add(sum(typical.values()))
                rows.append(["format 2 (handler)", f"{size:,}", name, f"{mean:.1f}", most, _breakdown(typical)])
            shutil.rmtree(data_dir)
        data_dir = Path(folder) / "v1"
        _format1_store(data_dir / "messages", sizes[0])
        for name, samples in trace_case("format 1 store", data_dir, args.requests).items():
            mean, most, typical = summarise(samples)
            rows.append(["format 1 (store)", f"{sizes[0]:,}", name, f"{mean:.1f}", most, _breakdown(typical)])
    body = "\n\n".join(
        [
            f"strace -f, {args.requests} requests per kind after a warm-up, each bracketed by a marker call; "
            "calls on stdin/stdout/stderr (logs) left out. Format 2 through the real handler on a store built to "
            "each size; format 1 through its store (the previous code) at the smallest size.",
            table(["store", "messages", "request", "calls (mean)", "max", "typical request"], rows),
            "\n".join(
                [
                    "- "
                    + target_line(
                        f"POST /messages ≤ {POST_TARGET} file-system calls, flat from {sizes[0]:,} to {sizes[-1]:,}",
                        worst["POST /messages"] <= POST_TARGET and len(flat["POST /messages"]) == 1,
                        f"max {worst['POST /messages']}; typical {sorted(flat['POST /messages'])} at every size",
                    ),
                    "- "
                    + target_line(
                        f"GET /messages page ≤ {PAGE_TARGET} file-system calls, flat",
                        worst["GET /messages"] <= PAGE_TARGET and len(flat["GET /messages"]) == 1,
                        f"max {worst['GET /messages']}; typical {sorted(flat['GET /messages'])} at every size",
                    ),
                ]
            ),
        ]
    )
    publish("syscalls", "7. File-system calls per request (strace)", body)


def _breakdown(calls: Counter[str]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(calls.items()))


def _format1_store(messages_dir: Path, count: int) -> None:
    sys.path.insert(0, str(REPO))
    from testing.format1_store import MessageStore

    store = MessageStore(messages_dir)
    for number in range(count):
        store.append(f"benchmark message {number}")


if __name__ == "__main__":
    main()
