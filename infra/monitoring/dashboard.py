"""The stack's CloudWatch dashboard: one page with a section for each part the stack has (the HTTP API, each
function, the models, the file system, the jobs' queues, the UI), and the state of its alarms on top.

Widgets hold only metrics (infra/monitoring/metrics.py); the thresholds the alarms fire on are drawn as lines.
Body format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from inference.metrics import COLD_START, INFERENCE_TIME, MODEL_LOAD_TIME
from infra.config.limits import HTTP_API_TIMEOUT_SECONDS
from infra.monitoring.metrics import (
    API_5XX_RATE_PERCENT,
    API_P99_LATENCY_MS,
    EFS_LOW_BURST_CREDITS_BYTES,
    api_5xx_rate,
    api_metric,
    custom_metric,
    file_system_metric,
    function_metric,
    load_balancer_metric,
    per_model_search,
    queue_metric,
    service_metric,
    target_group_metric,
)
from infra.monitoring.watched import (
    WatchedFileSystem,
    WatchedFunction,
    WatchedStack,
    WatchedUi,
    validate_watched_stack,
)

GRID_WIDTH = 24  # the dashboard's columns
WIDTH, HEIGHT = 8, 6  # three graphs a row
PERIOD = 60  # seconds: the finest the services' own metrics have
MODEL_PERIOD = 300  # the models' figures come per request, often sparse: five-minute points read better
Widget = dict[str, Any]


@dataclass
class StackDashboardArgs:
    dashboard_name: str
    region: pulumi.Input[str]
    watched: WatchedStack
    alarm_arns: Sequence[pulumi.Input[str]] = ()  # shown in one widget at the top, with their states


def validate_stack_dashboard_args(args: StackDashboardArgs) -> None:
    name = args.dashboard_name
    if not 1 <= len(name) <= 255 or not name.replace("-", "").replace("_", "").isalnum() or not name.isascii():
        raise ValueError(f"StackDashboardArgs.dashboard_name must be 1-255 of A-Za-z0-9, '-' and '_', not {name!r}")
    validate_watched_stack(args.watched)


def dashboard_url(region: str, name: str) -> str:
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{name}"


class StackDashboard(pulumi.ComponentResource):
    dashboard_name: pulumi.Output[str]
    url: pulumi.Output[str]  # the dashboard in the CloudWatch console

    def __init__(self, name: str, args: StackDashboardArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate_stack_dashboard_args(args)
        super().__init__("efs-inference:dashboard:StackDashboard", name, None, opts)
        region = pulumi.Output.from_input(args.region)
        sections = dashboard_sections(args.watched, args.alarm_arns)
        body = region.apply(lambda resolved: {"widgets": laid_out(sections, resolved)})
        self.dashboard = aws.cloudwatch.Dashboard(
            name,
            dashboard_name=args.dashboard_name,
            dashboard_body=pulumi.Output.json_dumps(body),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.dashboard_name = self.dashboard.dashboard_name
        self.url = pulumi.Output.all(region, self.dashboard.dashboard_name).apply(lambda both: dashboard_url(*both))
        self.register_outputs({"dashboard_name": self.dashboard_name, "url": self.url})


# --------------------------------------------------------------------------- the page, section by section


def dashboard_sections(watched: WatchedStack, alarm_arns: Sequence[pulumi.Input[str]]) -> list[list[Widget]]:
    """The rows of widgets, top to bottom: alarms, API, functions, models, file system, jobs, UI."""
    sections: list[list[Widget]] = []
    if alarm_arns:
        sections.append([_alarms_widget(alarm_arns)])
    sections += [_heading("HTTP API", "requests, errors and latency as clients see them"), _api_row(watched.api_id)]
    sections.append(_heading("Functions", "one row each: invocations, errors, throttles; duration; concurrency"))
    sections += [_function_row(function) for function in watched.functions]
    sections += [_heading("Models", "per model and version, from the API function's embedded metrics")]
    sections.append(_models_row(watched.metrics_namespace, watched.metrics_service))
    sections += [_heading("File system (EFS)", "models and messages"), _file_system_row(watched.file_system)]
    if watched.queues is not None:
        queues = watched.queues
        sections += [_heading("Jobs", "the queue the worker drains, and its dead letters")]
        sections.append(_jobs_row(queues.queue_name, queues.dead_letter_queue_name))
    if watched.ui is not None:
        sections += [_heading("UI", "load balancer and Fargate tasks"), _ui_row(watched.ui)]
    return sections


def _api_row(api_id: pulumi.Input[str]) -> list[Widget]:
    count, errors_4xx, errors_5xx = (api_metric(name, api_id) for name in ("Count", "4xx", "5xx"))
    rate = api_5xx_rate(api_id)
    return [
        _graph(
            "Requests and errors",
            [count.graphed(label="requests"), errors_4xx.graphed(label="4xx"), errors_5xx.graphed(label="5xx")],
            stat="Sum",
        ),
        _graph(
            "5xx rate (%)",
            [
                *(
                    metric.graphed(id=query_id, stat=stat, visible=False)
                    for query_id, (metric, stat) in rate.inputs.items()
                ),
                [{"expression": rate.expression, "label": "5xx %", "id": "rate"}],
            ],
            lines={"alarm": API_5XX_RATE_PERCENT},
        ),
        _graph(
            "Latency (ms)",
            [
                api_metric("Latency", api_id).graphed(stat="p50", label="p50"),
                api_metric("Latency", api_id).graphed(stat="p99", label="p99"),
                api_metric("IntegrationLatency", api_id).graphed(stat="p99", label="p99 in the function"),
            ],
            lines={"alarm": API_P99_LATENCY_MS, "integration timeout": HTTP_API_TIMEOUT_SECONDS * 1000},
        ),
    ]


def _function_row(function: WatchedFunction) -> list[Widget]:
    def metric(name: str) -> Any:
        return function_metric(name, function.function_name)

    return [
        _graph(
            f"{function.role}: invocations, errors, throttles",
            [metric(name).graphed(label=name.lower()) for name in ("Invocations", "Errors", "Throttles")],
            stat="Sum",
        ),
        _graph(
            f"{function.role}: duration (ms)",
            [metric("Duration").graphed(stat=stat, label=stat) for stat in ("p50", "p99")],
            lines={"timeout": function.timeout_seconds * 1000},
        ),
        _graph(f"{function.role}: concurrent executions", [metric("ConcurrentExecutions").graphed()], stat="Maximum"),
    ]


def _models_row(namespace: str, service: str) -> list[Widget]:
    def search(metric: Any, stat: str, label: str) -> list[Any]:
        expression = per_model_search(metric, namespace, service, stat, MODEL_PERIOD)
        return [{"expression": expression, "label": label, "id": f"{metric.name.lower()}_{stat}"}]

    cold_starts = custom_metric(COLD_START, namespace, service)
    return [
        _graph(
            "Inference time (ms), per model and version",
            [search(INFERENCE_TIME, "p50", "p50"), search(INFERENCE_TIME, "p99", "p99")],
            period=MODEL_PERIOD,
        ),
        _graph(
            "Model load time (ms), per model and version",
            [search(MODEL_LOAD_TIME, "Maximum", "max")],
            period=MODEL_PERIOD,
        ),
        _graph(
            "Cold starts (API function)", [cold_starts.graphed(label="cold starts")], stat="Sum", period=MODEL_PERIOD
        ),
    ]


def _file_system_row(file_system: WatchedFileSystem) -> list[Widget]:
    def metric(name: str) -> Any:
        return file_system_metric(name, file_system.file_system_id)

    row = [
        _graph(
            "Throughput (bytes/s)",
            [
                metric("TotalIOBytes").graphed(id="total", visible=False, stat="Sum"),
                [{"expression": "total / PERIOD(total)", "label": "used", "id": "throughput"}],
                metric("PermittedThroughput").graphed(label="permitted", stat="Average"),
            ],
        ),
        _graph("I/O limit used (%)", [metric("PercentIOLimit").graphed(label="PercentIOLimit")], stat="Maximum"),
        _graph("Client connections", [metric("ClientConnections").graphed(label="connections")], stat="Sum"),
    ]
    if file_system.bursting:
        row.append(
            _graph(
                "Burst credit balance (bytes)",
                [metric("BurstCreditBalance").graphed(label="credits")],
                stat="Minimum",
                lines={"alarm": EFS_LOW_BURST_CREDITS_BYTES},
            )
        )
    return row


def _jobs_row(queue_name: pulumi.Input[str], dead_letter_queue_name: pulumi.Input[str]) -> list[Widget]:
    return [
        _graph(
            "Job queue depth (shards)",
            [
                queue_metric("ApproximateNumberOfMessagesVisible", queue_name).graphed(label="waiting"),
                queue_metric("ApproximateNumberOfMessagesNotVisible", queue_name).graphed(label="running"),
            ],
            stat="Maximum",
        ),
        _graph(
            "Age of the oldest shard (s)",
            [queue_metric("ApproximateAgeOfOldestMessage", queue_name).graphed(label="oldest")],
            stat="Maximum",
        ),
        _graph(
            "Dead letters (shards out of attempts, each failing its job)",
            [queue_metric("NumberOfMessagesReceived", dead_letter_queue_name).graphed(label="dead letters")],
            stat="Sum",  # received by the dead-letter consumer, which empties the queue within seconds
            lines={"alarm": 0},
        ),
    ]


def _ui_row(ui: WatchedUi) -> list[Widget]:
    balancer, group = ui.load_balancer_arn_suffix, ui.target_group_arn_suffix
    return [
        _graph(
            "Load balancer 5xx",
            [
                load_balancer_metric("HTTPCode_ELB_5XX_Count", balancer).graphed(label="from the load balancer"),
                load_balancer_metric("HTTPCode_Target_5XX_Count", balancer).graphed(label="from the UI"),
            ],
            stat="Sum",
        ),
        _graph(
            "Target response time (s)",
            [
                load_balancer_metric("TargetResponseTime", balancer).graphed(stat=stat, label=stat)
                for stat in ("p50", "p99")
            ],
        ),
        _graph(
            "Healthy UI tasks",
            [
                target_group_metric("HealthyHostCount", group, balancer).graphed(label="healthy", stat="Minimum"),
                target_group_metric("UnHealthyHostCount", group, balancer).graphed(label="unhealthy", stat="Maximum"),
            ],
            lines={"desired": ui.desired_count},
        ),
        _graph(
            "UI tasks' CPU and memory (%)",
            [
                service_metric(name, ui.cluster_name, ui.service_name).graphed(label=label)
                for name, label in (("CPUUtilization", "CPU"), ("MemoryUtilization", "memory"))
            ],
            stat="Average",
        ),
    ]


# --------------------------------------------------------------------------- widgets and layout


def _graph(
    title: str,
    metrics: list[Any],
    *,
    stat: str = "Average",
    period: int = PERIOD,
    lines: dict[str, float] | None = None,
) -> Widget:
    """A time-series graph; ``lines`` are horizontal lines (an alarm's threshold, a timeout) by label."""
    properties: dict[str, Any] = {
        "title": title,
        "view": "timeSeries",
        "stacked": False,
        "metrics": metrics,
        "stat": stat,
        "period": period,
        "yAxis": {"left": {"min": 0}},
    }
    if lines:
        properties["annotations"] = {"horizontal": [{"label": label, "value": value} for label, value in lines.items()]}
    return {"type": "metric", "width": WIDTH, "height": HEIGHT, "properties": properties}


def _heading(title: str, subtitle: str) -> list[Widget]:
    return [{"type": "text", "width": GRID_WIDTH, "height": 1, "properties": {"markdown": f"## {title}: {subtitle}"}}]


def _alarms_widget(alarm_arns: Sequence[pulumi.Input[str]]) -> Widget:
    return {
        "type": "alarm",
        "width": GRID_WIDTH,
        "height": 3,
        "properties": {"title": "Alarms", "alarms": list(alarm_arns), "sortBy": "stateUpdatedTimestamp"},
    }


def laid_out(sections: list[list[Widget]], region: str) -> list[Widget]:
    """The widgets with their grid positions, left to right and each section on new rows; metric widgets are told
    the region (the body requires it)."""
    placed: list[Widget] = []
    y = 0
    for row in sections:
        x, row_height = 0, 0
        for widget in row:
            if x + widget["width"] > GRID_WIDTH:
                x, y, row_height = 0, y + row_height, 0
            properties = {**widget["properties"], **({"region": region} if widget["type"] == "metric" else {})}
            placed.append({**widget, "x": x, "y": y, "properties": properties})
            x += widget["width"]
            row_height = max(row_height, widget["height"])
        y += row_height
    return placed
