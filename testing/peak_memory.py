"""Measure what one input costs a fresh worker: ``python -m testing.peak_child`` in its own process, its peak
read from the kernel (``ru_maxrss``), never from timing. Shared by the tests and ``bench.worst_case_memory``."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from inference.models.publishing import publish_version
from testing.local_stack import REPO, start_server, stop
from testing.peak_child import UI_DIR_ENV
from testing.worst_inputs import UPLOAD, Case, input_file

EXAMPLE_MODELS = ("digits", "minilm")


@dataclass(frozen=True)
class Peak:
    case: Case
    status: object  # the HTTP status, or what the UI did ("shown", "not shown"), or "MemoryError"
    peak_mb: float  # the child's lifetime peak resident set (ru_maxrss)
    warm_mb: float | None  # its resident set just before the input
    request_mb: float | None  # the input's own peak above warm_mb


def work_dir(folder: Path) -> Path:
    """``folder`` with both example models published under data/models (once)."""
    models = folder / "data" / "models"
    for name in EXAMPLE_MODELS:
        if not (models / name).exists():
            publish_version(REPO / "models" / name, models, name)
    return folder


def measure(case: Case, folder: Path, *, limit_mb: int | None = None, code_root: Path | None = None) -> Peak:
    """Serve ``case`` in a fresh child; ``limit_mb`` caps its address space (a runaway allocation then fails
    there, as a MemoryError, instead of taking the machine's memory); ``code_root`` serves another checkout's
    inference and ui packages (the "before" of a benchmark)."""
    work = work_dir(folder)
    data = input_file(folder / "inputs", case)
    env = dict(os.environ)
    if code_root is not None:
        env["PYTHONPATH"] = os.pathsep.join(str(code_root / part) for part in ("inference_image", "ui_image"))
        env[UI_DIR_ENV] = str(code_root / "ui_image")

    def limit() -> None:
        if limit_mb is not None:
            size = limit_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    api = None
    if case.kind == UPLOAD:  # the page calls the API: the local one, serving the same models
        api = start_server(work / "data", folder / "api.log", handler="inference.api.handler.lambda_handler")
        env["API_URL"] = api.url
    try:
        done = subprocess.run(
            [sys.executable, "-m", "testing.peak_child", case.kind, str(data), str(work)],
            cwd=REPO,
            env=env,
            preexec_fn=limit,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        if api is not None:
            stop(api)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{case.kind}/{case.name}: the child failed ({done.returncode}): {done.stderr[-3000:]}")
    result = json.loads(lines[-1][len("RESULT ") :])
    return Peak(case, result["status"], result["peak_mb"], result.get("warm_mb"), result.get("request_mb"))
