"""Reading a dashboard body as CloudWatch would: its widgets, the metrics they graph (namespace, name, dimensions)
and the expressions over them. Body format:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from testing.pulumi_mocks import Registered, StackRun

DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
# SEARCH('{schema} search terms', 'stat', period): https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html
_SEARCH = re.compile(r"^SEARCH\('\{(?P<schema>[^}]*)\}(?P<terms>[^']*)', '(?P<stat>[^']+)', (?P<period>\d+)\)$")
_TERM = re.compile(r'(\w+)="([^"]*)"')
_STATISTICS = re.compile(r"^(SampleCount|Average|Sum|Minimum|Maximum|p\d{1,2}(\.\d+)?)$")


@dataclass(frozen=True)
class Graphed:
    widget: str  # its title
    namespace: str
    name: str
    dimensions: dict[str, str]
    options: dict[str, Any]


@dataclass(frozen=True)
class Search:
    widget: str
    namespace: str
    dimension_names: frozenset[str]
    terms: dict[str, str]
    stat: str
    period: int


def dashboard_of(run: StackRun) -> tuple[Registered, dict[str, Any]]:
    dashboard = run.one(DASHBOARD)
    body: dict[str, Any] = json.loads(dashboard.inputs["dashboardBody"])
    return dashboard, body


def metric_widgets(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [widget for widget in body["widgets"] if widget["type"] == "metric"]


def graphed(body: dict[str, Any]) -> list[Graphed]:
    """Every metric the widgets name, in the array form: namespace, name, dimension name/value pairs, options."""
    found = []
    for widget in metric_widgets(body):
        for entry in widget["properties"]["metrics"]:
            options = entry[-1] if isinstance(entry[-1], dict) else {}
            parts = entry[:-1] if options else entry
            if not parts:
                continue  # an expression alone
            namespace, name, *pairs = parts
            assert len(pairs) % 2 == 0, f"odd dimension pairs in {entry}"
            dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
            found.append(Graphed(widget["properties"]["title"], namespace, name, dimensions, options))
    return found


def expressions(body: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(widget, the expression entry's options) for every expression of every widget."""
    return [
        (widget, entry[-1])
        for widget in metric_widgets(body)
        for entry in widget["properties"]["metrics"]
        if isinstance(entry[-1], dict) and "expression" in entry[-1]
    ]


def searches(body: dict[str, Any]) -> list[Search]:
    found = []
    for widget, options in expressions(body):
        matched = _SEARCH.match(options["expression"])
        if matched is None:
            continue
        schema = [part.strip().strip('"') for part in matched["schema"].split(",")]
        found.append(
            Search(
                widget["properties"]["title"],
                schema[0],
                frozenset(schema[1:]),
                dict(_TERM.findall(matched["terms"])),
                matched["stat"],
                int(matched["period"]),
            )
        )
    return found


def is_statistic(stat: str) -> bool:
    return bool(_STATISTICS.match(stat))
