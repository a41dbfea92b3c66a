"""No input of a kind costs a worker more memory than the largest honest input of that kind: each is served by a
fresh child process (warmed up by an honest request first), and the children's peaks (``ru_maxrss``) are
compared. The children's address space is capped, so a regression fails here instead of taking the machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.peak_memory import Peak, measure
from testing.worst_inputs import KINDS, Case, reference_case, worst_cases

TOLERANCE = 1.10  # the machine's noise between two children is ~2 %
LIMIT_MB = 3072
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("peaks")


_references: dict[str, Peak] = {}


def reference_peak(kind: str, folder: Path) -> Peak:
    if kind not in _references:
        _references[kind] = measure(reference_case(kind), folder, limit_mb=LIMIT_MB)
    return _references[kind]


@pytest.mark.parametrize("case", [item for kind in KINDS for item in worst_cases(kind)], ids=lambda item: item.name)
def test_the_worst_input_of_a_kind_costs_no_more_than_an_honest_one(case: Case, folder: Path) -> None:
    """Its peak is at most 1.1x that of the largest honest input of its kind, and it is answered (never a 5xx)."""
    reference = reference_peak(case.kind, folder)
    worst = measure(case, folder, limit_mb=LIMIT_MB)
    assert worst.status not in ("MemoryError", "exception") and not (
        isinstance(worst.status, int) and worst.status >= 500
    )
    assert worst.peak_mb <= reference.peak_mb * TOLERANCE, (
        f"{case.description}: {worst.peak_mb:.0f} MB peak against {reference.peak_mb:.0f} MB for "
        f"{reference.case.description} ({worst.status}; its own peak +{worst.request_mb} MB)"
    )
