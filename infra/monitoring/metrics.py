"""The CloudWatch metrics the dashboard draws and the alarms watch, each named once with its namespace and the
dimensions that pick this stack's resource out of it; and the thresholds both show. The namespaces, metric
names and dimensions are AWS's (tests/infra/monitoring/aws_metrics.py keeps the table, with the documentation
of each), and the functions' own metrics are inference/metrics.py's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from inference.metrics import MODEL, SERVICE, VERSION, CustomMetric
from infra.config.limits import HTTP_API_TIMEOUT_SECONDS

API_GATEWAY = "AWS/ApiGateway"
LAMBDA = "AWS/Lambda"
EFS = "AWS/EFS"
SQS = "AWS/SQS"
ALB = "AWS/ApplicationELB"
ECS = "AWS/ECS"

# What counts as trouble: drawn on the dashboard's graphs, and what the alarms fire on.
API_5XX_RATE_PERCENT = 1.0
API_P99_LATENCY_MS = 0.8 * HTTP_API_TIMEOUT_SECONDS * 1000  # 80 % of the integration timeout: 24 s
# Burst credits low: less than an hour of bursting at 100 MiB/s, the least a bursting file system may burst to
# (new file systems start with 2.1 TiB). https://docs.aws.amazon.com/efs/latest/ug/performance.html
EFS_LOW_BURST_CREDITS_BYTES = 100 * 1024**2 * 3600


@dataclass(frozen=True)
class Metric:
    """One time series: a metric of a namespace, for one resource (its dimensions)."""

    namespace: str
    name: str
    dimensions: Mapping[str, pulumi.Input[str]]

    def graphed(self, **options: Any) -> list[Any]:
        """The metric as a dashboard widget's `metrics` entry: namespace, name, dimension pairs, options.
        https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html"""
        pairs = [part for name, value in self.dimensions.items() for part in (name, value)]
        return [self.namespace, self.name, *pairs, *([options] if options else [])]


def api_metric(name: str, api_id: pulumi.Input[str]) -> Metric:
    """An HTTP API's metric (Count, 4xx, 5xx, Latency, IntegrationLatency), over its one stage."""
    return Metric(API_GATEWAY, name, {"ApiId": api_id})


@dataclass(frozen=True)
class Expression:
    """Metric math over metrics given ids: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html"""

    expression: str
    inputs: Mapping[str, tuple[Metric, str]]  # id: (metric, statistic)


def api_5xx_rate(api_id: pulumi.Input[str]) -> Expression:
    """The percentage of the API's requests answered with a 5xx (0 while there are none)."""
    return Expression(
        "IF(requests > 0, 100 * errors / requests, 0)",
        {"requests": (api_metric("Count", api_id), "Sum"), "errors": (api_metric("5xx", api_id), "Sum")},
    )


def function_metric(name: str, function_name: pulumi.Input[str]) -> Metric:
    return Metric(LAMBDA, name, {"FunctionName": function_name})


def file_system_metric(name: str, file_system_id: pulumi.Input[str]) -> Metric:
    return Metric(EFS, name, {"FileSystemId": file_system_id})


def queue_metric(name: str, queue_name: pulumi.Input[str]) -> Metric:
    return Metric(SQS, name, {"QueueName": queue_name})


def load_balancer_metric(name: str, load_balancer: pulumi.Input[str]) -> Metric:
    return Metric(ALB, name, {"LoadBalancer": load_balancer})


def target_group_metric(name: str, target_group: pulumi.Input[str], load_balancer: pulumi.Input[str]) -> Metric:
    return Metric(ALB, name, {"TargetGroup": target_group, "LoadBalancer": load_balancer})


def service_metric(name: str, cluster_name: pulumi.Input[str], service_name: pulumi.Input[str]) -> Metric:
    return Metric(ECS, name, {"ClusterName": cluster_name, "ServiceName": service_name})


def custom_metric(metric: CustomMetric, namespace: str, service: str) -> Metric:
    """One of the functions' own metrics that has no dimension beyond the service's (ColdStart)."""
    if metric.dimensions != (SERVICE,):
        raise ValueError(f"{metric.name} has dimensions {metric.dimensions}: search it with per_model_search")
    return Metric(namespace, metric.name, {SERVICE: service})


def per_model_search(metric: CustomMetric, namespace: str, service: str, stat: str, period: int) -> str:
    """A search expression for one line per model and version of this stack's ``metric``: the models and their
    versions are published after deploy, so the dashboard cannot list them.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html"""
    if set(metric.dimensions) != {SERVICE, MODEL, VERSION}:
        raise ValueError(f"{metric.name} is not recorded per model and version")
    # Names with characters other than letters and digits (a project name's '-') are quoted in the schema.
    schema = ",".join(f'"{part}"' for part in (namespace, *metric.dimensions))
    return f"SEARCH('{{{schema}}} MetricName=\"{metric.name}\" {SERVICE}=\"{service}\"', '{stat}', {period})"
