"""The UI's shipped digit samples are real rows of scikit-learn's digits data set.

Regenerate them (the UI image has no scikit-learn) with:
    .venv/bin/python -m tests.ui.test_digit_samples
"""

from __future__ import annotations

import json
from typing import Any

from sklearn.datasets import load_digits

from ui.digit_input import SAMPLES_FILE, SIDE, load_samples


def expected_samples() -> dict[str, Any]:
    """The first image of each digit 0-9 in load_digits(), as 8x8 integer grids."""
    digits = load_digits()
    samples = []
    for digit in range(10):
        index = int(list(digits.target).index(digit))
        pixels = digits.images[index].astype(int).tolist()
        samples.append({"label": str(digit), "index": index, "pixels": pixels})
    return {"source": "sklearn.datasets.load_digits()", "samples": samples}


def test_shipped_samples_match_sklearn_digits() -> None:
    """digit_samples.json holds exactly the first image of each digit from load_digits()."""
    assert json.loads(SAMPLES_FILE.read_text(encoding="utf-8")) == expected_samples()


def test_samples_load_as_8x8_grids_labelled_0_to_9() -> None:
    """load_samples() gives ten 8x8 samples labelled 0..9."""
    samples = load_samples()
    assert [sample.label for sample in samples] == [str(digit) for digit in range(10)]
    assert all(len(sample.pixels) == SIDE and all(len(row) == SIDE for row in sample.pixels) for sample in samples)


if __name__ == "__main__":
    SAMPLES_FILE.write_text(json.dumps(expected_samples()) + "\n", encoding="utf-8")
    print(f"wrote {SAMPLES_FILE}")
