"""scripts/train_model.py: deterministic, and the committed models/digits is its output."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.models.metadata import METADATA_FILE, MODEL_FILE
from scripts.train_model import main
from tests.models.factory import DIGITS_DIR


def test_training_reproduces_the_committed_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Running the script gives byte-identical files to models/digits, small, and prints the accuracy."""
    assert main(["--out", str(tmp_path)]) == 0
    for filename in (MODEL_FILE, METADATA_FILE):
        assert (tmp_path / filename).read_bytes() == (DIGITS_DIR / filename).read_bytes(), filename
    assert (tmp_path / MODEL_FILE).stat().st_size < 1_000_000
    assert "held-out accuracy 0.97" in capsys.readouterr().out
    assert sorted(path.name for path in tmp_path.iterdir()) == [METADATA_FILE, MODEL_FILE]
