"""Shared steps of the jobs tests: sample batches, the synchronous answer to compare with, polling."""

from __future__ import annotations

import json
import random
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import requests

from inference.jobs.service import JobService
from inference.models.registry import ModelRegistry

POLL_SECONDS = 0.1
T = TypeVar("T")


def digit_batch(count: int, seed: int = 0) -> list[list[int]]:
    """``count`` valid digits inputs: 64 pixels from 0 to 16."""
    rng = random.Random(seed)
    return [[rng.randint(0, 16) for _ in range(64)] for _ in range(count)]


def sync_outputs(data_dir: Path, inputs: list[Any], batch: int = 256) -> list[Any]:
    """What POST /predict answers for the same inputs, batch by batch."""
    registry = ModelRegistry(data_dir / "models", "digits", max_batch=batch)
    outputs: list[Any] = []
    for start in range(0, len(inputs), batch):
        outputs.extend(registry.predict("digits", inputs[start : start + batch])["outputs"])
    return outputs


def wait_for(service: JobService, job_id: str, states: tuple[str, ...], timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        view = service.describe(job_id)
        if view["status"] in states:
            return view
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {view['status']} after {timeout} s: {view}")
        time.sleep(POLL_SECONDS)


def wait_until(probe: Callable[[], T], done: Callable[[T], bool], timeout: float = 60.0) -> T:
    """The first value of ``probe()`` that ``done`` accepts, polling until ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(POLL_SECONDS)


def post_upload(upload: dict[str, Any], body: bytes) -> int:
    """POST ``body`` through a presigned upload form as a client would (the fields, then the file); the status."""
    response = requests.post(upload["url"], data=upload["fields"], files={"file": ("inputs.json", body)}, timeout=30)
    return int(response.status_code)


def fetch(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())
