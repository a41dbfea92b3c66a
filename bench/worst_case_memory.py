"""Benchmark 11, worst-case memory (issue 19): what the worst input of each kind costs a fresh worker, against the
largest honest input of the same kind and against the memory the function (or the UI task) has, before and
after issue 19's bounds.

    python -m bench.worst_case_memory [--before GIT_REF | --no-before] [--kinds image,text,upload]

Each input is served once in a fresh process (``testing.peak_child``: warmed up by an honest request first),
whose peak resident set the kernel reports (``ru_maxrss``); nothing here is timed. "Before" serves the same
inputs with the inference and UI packages of GIT_REF (default: the commit before issue 19), extracted with
``git archive``; its address space is capped at BEFORE_LIMIT_MB, so an input that once took gigabytes fails
there as a MemoryError instead of taking the machine's memory."""

from __future__ import annotations

import argparse
import subprocess
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from bench.report import REPO, publish, table, target_line
from infra.config.schema import FunctionConfig, UiConfig
from testing.peak_memory import Peak, measure
from testing.worst_inputs import IMAGE, KINDS, PREDICT_JSON, REFERENCE, TEXT, UPLOAD, Case, cases

BEFORE_ISSUE_19 = "06c105143a59f3d78af27e213aa298059641d1ca"
BEFORE_LIMIT_MB = 6144
AFTER_LIMIT_MB = 3072
TOLERANCE = 1.10  # a worst input may cost 10 % more than the largest honest one (the machine's noise is ~2 %)
WHERE = {
    IMAGE: ("the API function", FunctionConfig().memory_mb),
    TEXT: ("the API function", FunctionConfig().memory_mb),
    UPLOAD: ("a UI task", UiConfig().memory_mb),
    PREDICT_JSON: ("the API function", FunctionConfig().memory_mb),
}


def checkout(ref: str, folder: Path) -> Path:
    """The inference and UI packages as they were at ``ref``."""
    archive = subprocess.run(
        ["git", "archive", ref, "inference_image", "ui_image"], cwd=REPO, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def shown(peak: Peak | None) -> str:
    if peak is None:
        return "not measured"
    if peak.status == "MemoryError":
        return f"MemoryError at the {BEFORE_LIMIT_MB:,} MB cap"
    own = f" (+{peak.request_mb:,.0f})" if peak.request_mb is not None else ""
    return f"{peak.status}: {peak.peak_mb:,.0f}{own}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default=BEFORE_ISSUE_19, help="git ref of the code before (default: %(default)s)")
    parser.add_argument("--no-before", action="store_true", help="measure this checkout only")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated kinds (default: all)")
    args = parser.parse_args()
    kinds = [kind for kind in args.kinds.split(",") if kind]
    chosen: list[Case] = [item for item in cases() if item.kind in kinds]
    with tempfile.TemporaryDirectory(prefix="bench-worst-") as folder:
        work = Path(folder)
        before_code = None if args.no_before else checkout(args.before, work / "before")
        after = {(item.kind, item.name): measure(item, work / "run", limit_mb=AFTER_LIMIT_MB) for item in chosen}
        before = {
            (item.kind, item.name): measure(item, work / "run", limit_mb=BEFORE_LIMIT_MB, code_root=before_code)
            for item in chosen
            if before_code is not None
        }
    rows, targets = [], []
    for kind in kinds:
        where, memory_mb = WHERE[kind]
        reference = after[(kind, REFERENCE[kind])]
        worst = max((peak for (k, _), peak in after.items() if k == kind), key=lambda peak: peak.peak_mb)
        for item in (item for item in chosen if item.kind == kind):
            now = after[(kind, item.name)]
            rows.append(
                [
                    kind,
                    item.description + (" (honest)" if item.honest else ""),
                    f"{memory_mb:,} ({where})",
                    shown(before.get((kind, item.name))),
                    shown(now),
                    f"{now.peak_mb / memory_mb:.0%}",
                ]
            )
        bound = reference.peak_mb * TOLERANCE
        targets.append(
            target_line(
                f"{kind}: the worst input's peak ≤ {TOLERANCE:.2f}x the largest honest input's",
                worst.peak_mb <= bound,
                f"{worst.case.name}: {worst.peak_mb:,.0f} MB against {reference.peak_mb:,.0f} MB; "
                f"{where} has {memory_mb:,} MB",
            )
        )
    body = "\n\n".join(
        [
            "Each input served once by a fresh worker that has already served an honest request of its kind: "
            "the answer, then the process's peak resident set in MB (`ru_maxrss`) and, in brackets, the input's "
            "own peak above the warm worker (the kernel's high-water mark, reset just before it). Images go to "
            "the digits model as the raw body of `POST /models/digits/predict`, texts to MiniLM in one request, "
            "uploads to the UI's Predictions page (AppTest, calling the local API), JSON bodies to the digits "
            "model's predict route (6 MB is what Lambda's synchronous payload leaves for one). "
            + ("" if args.no_before else f"Before: the code at `{args.before[:12]}`. "),
            table(
                [
                    "kind",
                    "input",
                    "memory MB (of)",
                    "before: answer, peak MB",
                    "after: answer, peak MB",
                    "after/memory",
                ],
                rows,
            ),
            "\n".join(targets),
        ]
    )
    publish("worst_case_memory", "11. Worst-case memory per input kind (issue 19)", body)


if __name__ == "__main__":
    main()
