"""An in-memory stand-in for the UI's job client: jobs off, or a scripted sequence of job states."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ui.job_client import Job


@dataclass
class FakeJobs:
    enabled: bool = False
    states: list[Job] = field(default_factory=list)  # what status() answers, one after the other (the last sticks)
    submitted: list[tuple[str, list[Any]]] = field(default_factory=list)
    status_calls: int = 0

    def available(self) -> bool:
        return self.enabled

    def submit(self, model: str, inputs: list[Any], version: str | None = None) -> Job:
        self.submitted.append((model, inputs))
        return Job(job_id="j" * 32, status="queued", done=0, total=len(inputs), model=model, version="2")

    def status(self, job_id: str) -> Job:
        self.status_calls += 1
        return self.states[min(self.status_calls, len(self.states)) - 1]
