"""CloudWatch embedded metric format (EMF): one JSON line on stdout that CloudWatch Logs turns into metrics.

Written here rather than through Powertools' Metrics, whose decorator printed a line on every request and
cost a noticeable share of both the cold start and each warm request; this prints only when a request
recorded something (a cold start, a model load, an inference)."""

from __future__ import annotations

import json
import sys
import time
from typing import TextIO


class MetricsBuffer:
    """Metrics recorded during one request, written as one EMF line by ``flush``."""

    def __init__(self, namespace: str, service: str, stream: TextIO | None = None) -> None:
        self.namespace = namespace
        self.service = service
        self._stream = stream
        self._values: dict[str, tuple[float, str]] = {}

    def add(self, name: str, value: float, unit: str = "Milliseconds") -> None:
        self._values[name] = (value, unit)

    def flush(self) -> None:
        if not self._values:
            return
        record = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": [["service"]],
                        "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in self._values.items()],
                    }
                ],
            },
            "service": self.service,
            **{name: value for name, (value, _) in self._values.items()},
        }
        self._values.clear()
        stream = self._stream or sys.stdout  # looked up late, so that a captured stdout is honoured
        stream.write(json.dumps(record, separators=(",", ":")) + "\n")
        stream.flush()
