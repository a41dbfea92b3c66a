"""The benchmark runner shows tables and a summary only; everything else a benchmark prints goes to its log."""

from __future__ import annotations

from pathlib import Path

from bench.run_all import run_benchmark, summary

NOISY = "tests.bench.noisy_benchmark"


def test_only_the_tables_come_back_and_the_rest_is_logged(tmp_path: Path) -> None:
    """The metric lines and progress land in the log; the outcome carries the table and its targets."""
    outcome = run_benchmark(NOISY, [], record=False, log_dir=tmp_path)
    assert outcome.returncode == 0
    assert "| fast | 1  |" in outcome.tables
    assert '"_aws"' not in outcome.tables and "progress" not in outcome.tables
    logged = outcome.log.read_text()
    assert logged.count('"_aws"') == 50 and "progress: halfway" in logged
    assert outcome.targets == [("fast enough", True), ("slow enough", False)]


def test_a_failing_benchmark_is_reported_with_its_exit_status(tmp_path: Path) -> None:
    """A benchmark that exits non-zero is a failure; its tables still come back."""
    outcome = run_benchmark(NOISY, ["3"], record=False, log_dir=tmp_path)
    assert outcome.returncode == 3
    assert outcome.targets


def test_the_summary_says_a_missed_target_is_not_a_failure() -> None:
    """The summary counts met and missed targets, names the missed ones, and says they do not fail the run."""
    text = summary(["a", "b"], [], [("fast enough", True), ("slow enough", False)], quick=True, seconds=12)
    assert "Benchmarks: 2/2 ran to the end in 12 s." in text
    assert "Targets: 1 met, 1 missed (slow enough)" in text
    assert "not a failure" in text
    assert "not recorded (quick run)" in text
