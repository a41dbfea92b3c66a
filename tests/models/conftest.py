"""Fixtures for the model tests: an empty models folder, a hand-driven clock, and a publisher of tiny models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from inference.models.publishing import publish_version
from tests.models.factory import FakeClock, tiny_model_dir

PublishTiny = Callable[..., Path]


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def publish_tiny(tmp_path: Path, models_dir: Path) -> PublishTiny:
    """Publish a tiny classifier as ``name``/``version``; its labels tell answers from different versions apart."""

    def publish(version: str, *, name: str = "tiny", variant: str = "a", labels: tuple[str, str] = ("a", "b")) -> Path:
        source = tiny_model_dir(
            tmp_path / "sources" / name / version, variant=variant, name=name, version=version, labels=labels
        )
        return publish_version(source, models_dir, name)

    return publish
