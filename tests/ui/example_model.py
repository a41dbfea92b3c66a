"""The example digits model's own metadata: where the UI tests take their digit samples from,
as the UI takes them from GET /models."""

from __future__ import annotations

import json
from typing import Any

from testing.local_stack import REPO
from ui.api_client import Sample
from ui.digit_input import Pixels, from_sample

EXAMPLE_MODEL_DIR = REPO / "models" / "digits"
METADATA: dict[str, Any] = json.loads((EXAMPLE_MODEL_DIR / "metadata.json").read_text(encoding="utf-8"))
SAMPLES = [Sample(label=str(sample["label"]), input=sample["input"]) for sample in METADATA["samples"]]
VALUE_RANGE = (float(METADATA["input"]["range"][0]), float(METADATA["input"]["range"][1]))


def sample(label: str) -> Sample:
    """The example model's held-out sample with this label."""
    return next(sample for sample in SAMPLES if sample.label == label)


def pixels(label: str) -> Pixels:
    """That sample as 8x8 pixels."""
    return from_sample(sample(label), (8, 8))
