"""Tables for the terminal and for BENCHMARKS.md: each benchmark owns one section of that file, between
``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``, rewritten whole on every run (with the machine and date)."""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "BENCHMARKS.md"
RECORD_ENV = "BENCH_RECORD"  # "0": print the tables only (quick runs), leaving BENCHMARKS.md as it is
TABLES_ENV = "BENCH_TABLES"  # a file that each printed section is appended to too (run_all shows only those)

Row = Sequence[object]


def machine() -> str:
    """``nproc`` cores, the CPU model from /proc/cpuinfo, and the Python version."""
    model = "unknown CPU"
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        model = found.group(1).strip() if found else model
    except OSError:
        pass
    return f"{len(os.sched_getaffinity(0))} x {model}, Python {platform.python_version()}"


def table(headers: Sequence[str], rows: Sequence[Row]) -> str:
    """A Markdown table (readable as plain text too)."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(header), *(len(row[i]) for row in cells)) for i, header in enumerate(headers)]
    lines = [
        "| " + " | ".join(header.ljust(width) for header, width in zip(headers, widths, strict=True)) + " |",
        "|" + "|".join("-" * (width + 2) for width in widths) + "|",
    ]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    return "\n".join(lines)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f}"


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base else "n/a"


def target_line(name: str, met: bool, measured: str) -> str:
    verdict = "met" if met else "missed (a measured result to report, not a failed run)"
    return f"**Target — {name}: {verdict}** ({measured})."


def publish(name: str, title: str, body: str, *, path: Path = BENCHMARKS) -> None:
    """Print the section and write it into BENCHMARKS.md in place of its previous version (or at the end),
    unless BENCH_RECORD=0."""
    stamp = f"_{machine()} · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC_"
    section = f"<!-- bench:{name} -->\n## {title}\n\n{stamp}\n\n{body.strip()}\n<!-- /bench:{name} -->"
    printed = f"\n## {title}\n{stamp}\n\n{body.strip()}\n"
    print(printed, flush=True)
    tables = os.environ.get(TABLES_ENV)
    if tables:
        with open(tables, "a", encoding="utf-8") as file:
            file.write(printed)
    if os.environ.get(RECORD_ENV) == "0":
        print(f"(not recorded in {path.name}: {RECORD_ENV}=0)", flush=True)
        return
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.DOTALL)
    if not pattern.search(text):
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    text = pattern.sub(lambda _: section, text)
    path.write_text(text, encoding="utf-8")
