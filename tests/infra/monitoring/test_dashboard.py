"""The dashboard of every variant: valid JSON whose every metric AWS publishes, in its namespace, under the
dimensions given; the functions' own metrics exactly as the handler writes them; a row for every function and
widgets only for the parts the stack has; laid out on the grid; its console URL an output."""

from __future__ import annotations

import re

import pytest

from inference.metrics import CUSTOM_METRICS, INFERENCE_TIME, MODEL_LOAD_TIME, CustomMetric
from testing.pulumi_mocks import PROJECT, REGION, StackRun, autoname
from tests.infra.monitoring.aws_metrics import ARN_SUFFIX_PREFIXES, AWS_METRICS, published_with
from tests.infra.monitoring.conftest import variant_setting
from tests.infra.monitoring.dashboard_body import dashboard_of, expressions, graphed, is_statistic, metric_widgets
from tests.infra.monitoring.dashboard_body import searches as search_expressions
from tests.infra.registered import FUNCTION

CUSTOM = {metric.name: metric for metric in CUSTOM_METRICS}
_IDENTIFIER = re.compile(r"\b[a-z][a-zA-Z0-9_]*\b")
_DASHBOARD_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")  # PutDashboard's DashboardName


def handler_metrics_scope(run: StackRun) -> tuple[str, str]:
    """The namespace and service dimension the API function is told to write its metrics with."""
    variables = run.one(FUNCTION, "api").inputs["environment"]["variables"]
    return variables["POWERTOOLS_METRICS_NAMESPACE"], variables["POWERTOOLS_SERVICE_NAME"]


def test_every_graphed_metric_exists_with_its_dimensions(variant_run: StackRun) -> None:
    """Each metric is AWS's, in its namespace, under a dimension set AWS publishes it with, with non-empty values
    (load balancers by ARN suffix); or one of the handler's own, with exactly its declared dimensions."""
    _, body = dashboard_of(variant_run)
    namespace, service = handler_metrics_scope(variant_run)
    for metric in graphed(body):
        where = f"{variant_run.variant}: {metric.widget}: {metric.namespace} {metric.name} {metric.dimensions}"
        assert all(isinstance(value, str) and value for value in metric.dimensions.values()), where
        if metric.namespace == namespace:
            custom = CUSTOM[metric.name]
            assert tuple(metric.dimensions) == custom.dimensions and metric.dimensions["service"] == service, where
        else:
            assert published_with(metric.namespace, metric.name, frozenset(metric.dimensions)), where
            documentation, _ = AWS_METRICS[metric.namespace]
            assert documentation.startswith("https://docs.aws.amazon.com/")
        for dimension, prefix in ARN_SUFFIX_PREFIXES.items():
            if dimension in metric.dimensions:
                assert metric.dimensions[dimension].startswith(prefix), where
        assert is_statistic(metric.options.get("stat", "Average")), where


def test_every_widget_is_a_valid_graph(variant_run: StackRun) -> None:
    """Each graph has a title, the stack's region, a statistic and a period; its expressions use only ids of its
    own metrics."""
    _, body = dashboard_of(variant_run)
    for widget in metric_widgets(body):
        properties = widget["properties"]
        assert properties["title"] and properties["region"] == REGION, widget
        assert is_statistic(properties["stat"]) and properties["period"] % 60 == 0, widget
        ids = {entry[-1]["id"] for entry in properties["metrics"] if isinstance(entry[-1], dict) and "id" in entry[-1]}
        for entry in properties["metrics"]:
            options = entry[-1] if isinstance(entry[-1], dict) else {}
            if "expression" in options and not options["expression"].startswith("SEARCH("):
                used = set(_IDENTIFIER.findall(options["expression"]))  # metric math's functions are upper case
                assert used and used <= ids, f"{properties['title']}: {options['expression']} uses {used - ids}"
    for _, options in expressions(body):
        assert re.fullmatch(r"[a-z][a-zA-Z0-9_]*", options["id"]), options  # GetMetricData's id rule


def test_the_models_widgets_read_what_the_handler_writes(variant_run: StackRun) -> None:
    """Inference and load time are searched per model and version in the namespace and with the service the API
    function is given, by the names and dimensions of inference/metrics.py; cold starts are graphed likewise."""
    _, body = dashboard_of(variant_run)
    namespace, service = handler_metrics_scope(variant_run)
    assert (namespace, service) == (PROJECT, f"{PROJECT}-{variant_run.stack}")
    found = search_expressions(body)
    assert {search.terms["MetricName"] for search in found} == {INFERENCE_TIME.name, MODEL_LOAD_TIME.name}
    for search in found:
        metric: CustomMetric = CUSTOM[search.terms["MetricName"]]
        assert search.namespace == namespace and search.dimension_names == frozenset(metric.dimensions), search
        assert search.terms["service"] == service and is_statistic(search.stat), search
    cold_starts = [metric for metric in graphed(body) if metric.name == "ColdStart"]
    assert [(metric.namespace, metric.dimensions) for metric in cold_starts] == [(namespace, {"service": service})]


def test_every_function_of_the_stack_has_its_row(variant_run: StackRun) -> None:
    """Every Lambda function the stack registers is graphed: invocations, errors, throttles, duration against its
    own timeout, concurrency. A function added to the stack but not to the watched list fails here."""
    _, body = dashboard_of(variant_run)
    by_function: dict[str, set[str]] = {}
    for metric in graphed(body):
        if metric.namespace == "AWS/Lambda":
            by_function.setdefault(metric.dimensions["FunctionName"], set()).add(metric.name)
    functions = {function.inputs["name"]: function for function in variant_run.of_type(FUNCTION)}
    assert set(by_function) == set(functions), variant_run.variant
    expected = {"Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions"}
    assert all(names == expected for names in by_function.values()), by_function
    for widget in metric_widgets(body):
        properties = widget["properties"]
        if properties["title"].endswith(": duration (ms)"):
            function = functions[properties["metrics"][0][3]]
            lines = {line["label"]: line["value"] for line in properties["annotations"]["horizontal"]}
            assert lines["timeout"] == function.inputs["timeout"] * 1000, properties["title"]


def test_widgets_only_for_what_the_stack_has(variant_run: StackRun) -> None:
    """The jobs' queues with jobs on (by their names), the UI's load balancer and tasks with the UI on, burst credits
    in bursting mode: none of them otherwise."""
    _, body = dashboard_of(variant_run)
    namespaces = {metric.namespace for metric in graphed(body)}
    names = {metric.name for metric in graphed(body)}
    jobs = variant_setting(variant_run, "jobsEnabled", "false") == "true"
    ui = variant_setting(variant_run, "uiEnabled", "false") == "true"
    bursting = variant_setting(variant_run, "efsThroughputMode", "elastic") == "bursting"
    assert ("AWS/SQS" in namespaces) == jobs
    assert ("AWS/ApplicationELB" in namespaces) == ui and ("AWS/ECS" in namespaces) == ui
    assert ("BurstCreditBalance" in names) == bursting
    assert {"AWS/ApiGateway", "AWS/Lambda", "AWS/EFS", PROJECT} <= namespaces
    if jobs:
        queues = {autoname(queue.name) for queue in variant_run.of_type("aws:sqs/queue:Queue")}
        graphed_queues = {metric.dimensions["QueueName"] for metric in graphed(body) if metric.namespace == "AWS/SQS"}
        assert graphed_queues == queues


def test_widgets_fit_the_grid_without_overlapping(variant_run: StackRun) -> None:
    """Every widget lies inside the 24 columns, and no two share a cell."""
    _, body = dashboard_of(variant_run)
    cells: set[tuple[int, int]] = set()
    for widget in body["widgets"]:
        assert widget["x"] >= 0 and widget["x"] + widget["width"] <= 24, widget
        covered = {
            (x, y)
            for x in range(widget["x"], widget["x"] + widget["width"])
            for y in range(widget["y"], widget["y"] + widget["height"])
        }
        assert not covered & cells, widget
        cells |= covered


def test_the_dashboard_is_named_for_the_stack_and_its_url_is_an_output(variant_run: StackRun) -> None:
    """Named <project>-<stack>, within CloudWatch's characters; dashboard_url opens it in the stack's region."""
    dashboard, _ = dashboard_of(variant_run)
    name = dashboard.inputs["dashboardName"]
    assert name == f"{PROJECT}-{variant_run.stack}" and _DASHBOARD_NAME.fullmatch(name)
    assert variant_run.outputs["dashboard_url"] == (
        f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}#dashboards/dashboard/{name}"
    )


@pytest.mark.parametrize("name", ["", "a" * 256, "with space", "dotted.name"])
def test_a_dashboard_name_cloudwatch_refuses_is_refused_first(name: str) -> None:
    """The component checks its name before registering anything."""
    from infra.monitoring.dashboard import StackDashboardArgs, validate_stack_dashboard_args
    from infra.monitoring.watched import WatchedFileSystem, WatchedFunction, WatchedStack

    watched = WatchedStack("api", [WatchedFunction("api", "f", 30)], WatchedFileSystem("fs", "elastic"), "ns", "svc")
    with pytest.raises(ValueError, match="dashboard_name"):
        validate_stack_dashboard_args(StackDashboardArgs(name, "eu-central-1", watched))
