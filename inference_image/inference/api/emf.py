"""CloudWatch embedded metric format (EMF): JSON lines on stdout that CloudWatch Logs turns into metrics.

Written here rather than through Powertools' Metrics, whose decorator printed a line on every request and
cost a noticeable share of both the cold start and each warm request; this prints only when a request
recorded something (a cold start, a model load, an inference). Format:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from typing import TextIO

from inference.metrics import SERVICE, CustomMetric

# The dimension values of one group of metrics, in the metrics' order: the service's, and a model's and version's.
_DimensionValues = tuple[tuple[str, str], ...]


class MetricsBuffer:
    """Metrics recorded during one request, written by ``flush``: one EMF line per set of dimension values (one,
    or two when a request both started an environment and ran a model)."""

    def __init__(self, namespace: str, service: str, stream: TextIO | None = None) -> None:
        self.namespace = namespace
        self.service = service
        self._stream = stream
        self._groups: dict[_DimensionValues, dict[str, tuple[float, str]]] = {}

    def add(self, metric: CustomMetric, value: float, dimensions: Mapping[str, str] | None = None) -> None:
        """Record ``value`` of ``metric``; ``dimensions`` gives the values of its dimensions other than service."""
        values = {SERVICE: self.service, **(dimensions or {})}
        if set(values) != set(metric.dimensions):
            raise ValueError(f"{metric.name} takes the dimensions {metric.dimensions}, got {sorted(values)}")
        group = tuple((name, values[name]) for name in metric.dimensions)
        self._groups.setdefault(group, {})[metric.name] = (value, metric.unit)

    def flush(self) -> None:
        stream = self._stream or sys.stdout  # looked up late, so that a captured stdout is honoured
        for dimension_values, metrics in self._groups.items():
            record = {
                "_aws": {
                    "Timestamp": int(time.time() * 1000),
                    "CloudWatchMetrics": [
                        {
                            "Namespace": self.namespace,
                            "Dimensions": [[name for name, _ in dimension_values]],
                            "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in metrics.items()],
                        }
                    ],
                },
                **dict(dimension_values),
                **{name: value for name, (value, _) in metrics.items()},
            }
            stream.write(json.dumps(record, separators=(",", ":")) + "\n")
        if self._groups:
            stream.flush()
        self._groups.clear()
