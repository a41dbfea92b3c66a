"""Requests that run while new versions are published always get an answer from one complete version."""

from __future__ import annotations

import threading
from pathlib import Path

from inference.models.registry import ModelRegistry
from tests.models.conftest import PublishTiny
from tests.models.factory import FIRST_WINS, SECOND_WINS

VERSIONS = 8


def _labels_of(version: int) -> tuple[str, str]:
    return (f"v{version}-first", f"v{version}-second")


def test_concurrent_requests_during_publishing_see_whole_versions(publish_tiny: PublishTiny, models_dir: Path) -> None:
    """While versions 2..8 are published, every answer matches the version it reports, which only moves forward."""
    publish_tiny("1", labels=_labels_of(1))
    registry = ModelRegistry(models_dir, "tiny", refresh_seconds=1e-9)
    stop = threading.Event()
    problems: list[str] = []
    seen: list[set[int]] = [set() for _ in range(4)]

    def client(index: int) -> None:
        last = 0
        while not stop.is_set() or last < VERSIONS:
            answer = registry.predict(None, [FIRST_WINS, SECOND_WINS])
            version = int(answer["version"])
            first, second = _labels_of(version)
            if [output["label"] for output in answer["outputs"]] != [second, first]:
                problems.append(f"version {version} answered {answer['outputs']}")
            if any(set(output["probabilities"]) != {first, second} for output in answer["outputs"]):
                problems.append(f"version {version} mixed labels: {answer['outputs']}")
            if version < last:
                problems.append(f"went back from {last} to {version}")
            last = version
            seen[index].add(version)

    threads = [threading.Thread(target=client, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    try:
        for version in range(2, VERSIONS + 1):
            publish_tiny(str(version), variant=str(version), labels=_labels_of(version))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert problems == []
    assert all(VERSIONS in versions for versions in seen)
