"""The alarms, their SNS topic and its email subscription, on every variant with alarms on: each alarm watches a
metric AWS publishes under the dimensions given, notifies the topic when it fires and when it recovers, and there
is one for each thing the issue names, for every function and only for the parts the stack has. Off by default."""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.config.limits import HTTP_API_TIMEOUT_SECONDS
from infra.monitoring.alarms import alarm_specs
from infra.monitoring.watched import WatchedFileSystem, WatchedFunction, WatchedStack, validate_watched_stack
from testing.pulumi_mocks import PROJECT, Registered, StackRun, autoname
from tests.infra.aws_rules import violations
from tests.infra.monitoring.aws_metrics import ARN_SUFFIX_PREFIXES, published_with
from tests.infra.monitoring.conftest import ALARM_EMAIL, variant_setting
from tests.infra.monitoring.dashboard_body import dashboard_of, is_statistic
from tests.infra.registered import FUNCTION

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # CreateTopic's Name (not FIFO)
_COMPARISONS = {"GreaterThanThreshold", "LessThanThreshold", "GreaterThanOrEqualToThreshold"}


def alarms_by_key(run: StackRun) -> dict[str, Registered]:
    prefix = f"{PROJECT}-{run.stack}-"
    found = {alarm.inputs["name"].removeprefix(prefix): alarm for alarm in run.of_type(ALARM)}
    assert all(alarm.inputs["name"].startswith(prefix) for alarm in found.values())
    return found


def watched_metrics(alarm: Registered) -> list[tuple[dict[str, Any], str]]:
    """(namespace, name, dimensions) of each metric the alarm reads, with its statistic."""
    inputs = alarm.inputs
    if "metricName" in inputs:
        stat = inputs.get("statistic") or inputs["extendedStatistic"]
        return [({"namespace": inputs["namespace"], "name": inputs["metricName"], **inputs["dimensions"]}, stat)]
    return [
        (
            {
                "namespace": query["metric"]["namespace"],
                "name": query["metric"]["metricName"],
                **query["metric"]["dimensions"],
            },
            query["metric"]["stat"],
        )
        for query in inputs["metricQueries"]
        if "metric" in query
    ]


def test_the_topic_mails_the_configured_address(alarmed_run: StackRun) -> None:
    """One topic named for the stack; one email subscription of alarmEmail to it (AWS mails it a confirmation)."""
    topic = alarmed_run.one(TOPIC)
    assert topic.inputs["name"] == f"{PROJECT}-{alarmed_run.stack}-alarms" and _TOPIC_NAME.fullmatch(
        topic.inputs["name"]
    )
    subscription = alarmed_run.one(SUBSCRIPTION)
    assert (subscription.inputs["protocol"], subscription.inputs["endpoint"]) == ("email", ALARM_EMAIL)
    assert subscription.inputs["topic"] == alarmed_run.outputs["alarm_topic_arn"]


def test_every_alarm_watches_a_published_metric_and_notifies_the_topic(alarmed_run: StackRun) -> None:
    """Each alarm reads metrics AWS publishes under the dimensions it gives, with a valid statistic, and notifies
    the topic on alarm and on recovery; names and descriptions stay within PutMetricAlarm's limits."""
    topic_arn = alarmed_run.outputs["alarm_topic_arn"]
    for key, alarm in alarms_by_key(alarmed_run).items():
        inputs = alarm.inputs
        assert len(inputs["name"]) <= 255 and len(inputs["alarmDescription"]) <= 1024, key
        assert "docs/DEPLOY.md" in inputs["alarmDescription"], key
        assert inputs["alarmActions"] == [topic_arn] and inputs["okActions"] == [topic_arn], key
        assert inputs["comparisonOperator"] in _COMPARISONS, key
        assert 1 <= inputs["datapointsToAlarm"] <= inputs["evaluationPeriods"], key
        for metric, stat in watched_metrics(alarm):
            namespace, name = metric.pop("namespace"), metric.pop("name")
            assert published_with(namespace, name, frozenset(metric)), f"{key}: {namespace} {name} {metric}"
            assert all(isinstance(value, str) and value for value in metric.values()), key
            for dimension, prefix in ARN_SUFFIX_PREFIXES.items():
                assert metric.get(dimension, prefix).startswith(prefix), key
            assert is_statistic(stat), key


def test_the_api_alarms_on_its_5xx_rate_and_p99_latency(alarmed_run: StackRun) -> None:
    """5xx above 1 % of requests (metric math over Count and 5xx) in 3 of 5 minutes; p99 latency above 80 % of the
    30 s integration timeout in 3 of 5 minutes."""
    alarms = alarms_by_key(alarmed_run)
    api_id = f"{alarmed_run.one('aws:apigatewayv2/api:Api').name}-id"
    rate = alarms["api-5xx-rate"].inputs
    (returned,) = [query for query in rate["metricQueries"] if query.get("returnData")]
    assert returned["expression"] == "IF(requests > 0, 100 * errors / requests, 0)"
    assert {query["id"]: query["metric"]["metricName"] for query in rate["metricQueries"] if "metric" in query} == {
        "requests": "Count",
        "errors": "5xx",
    }
    assert all(
        query["metric"]["dimensions"] == {"ApiId": api_id} for query in rate["metricQueries"] if "metric" in query
    )
    assert (rate["threshold"], rate["comparisonOperator"]) == (1.0, "GreaterThanThreshold")
    latency = alarms["api-p99-latency"].inputs
    assert (latency["metricName"], latency["extendedStatistic"], latency["dimensions"]) == (
        "Latency",
        "p99",
        {"ApiId": api_id},
    )
    assert latency["threshold"] == 0.8 * HTTP_API_TIMEOUT_SECONDS * 1000
    for inputs in (rate, latency):
        assert (inputs["evaluationPeriods"], inputs["datapointsToAlarm"]) == (5, 3)
        assert inputs.get("period", 60) == 60 and all(
            q.get("metric", {}).get("period", 60) == 60 for q in inputs.get("metricQueries", [])
        )


def test_any_error_or_throttle_of_any_function_alarms(alarmed_run: StackRun) -> None:
    """Every function the stack registers has an error alarm and a throttle alarm: a Sum above 0 in one minute."""
    alarms = alarms_by_key(alarmed_run)
    watched = {
        (alarm.inputs["metricName"], alarm.inputs["dimensions"]["FunctionName"])
        for alarm in alarms.values()
        if alarm.inputs.get("namespace") == "AWS/Lambda"
    }
    functions = {function.inputs["name"] for function in alarmed_run.of_type(FUNCTION)}
    assert watched == {(metric, name) for name in functions for metric in ("Errors", "Throttles")}
    for alarm in alarms.values():
        if alarm.inputs.get("namespace") == "AWS/Lambda":
            inputs = alarm.inputs
            assert (inputs["statistic"], inputs["threshold"], inputs["period"]) == ("Sum", 0.0, 60)
            assert (inputs["comparisonOperator"], inputs["treatMissingData"]) == (
                "GreaterThanThreshold",
                "notBreaching",
            )


def test_the_parts_alarms_exist_only_with_the_parts(alarmed_run: StackRun) -> None:
    """Dead letters above 0 with jobs (on the dead-letter queue); burst credits low in bursting mode; healthy UI tasks
    below the desired count with the UI (no data counting as none healthy)."""
    alarms = alarms_by_key(alarmed_run)
    jobs = variant_setting(alarmed_run, "jobsEnabled", "false") == "true"
    ui = variant_setting(alarmed_run, "uiEnabled", "false") == "true"
    bursting = variant_setting(alarmed_run, "efsThroughputMode", "elastic") == "bursting"
    assert ("jobs-dead-letters" in alarms) == jobs
    assert ("efs-burst-credits" in alarms) == bursting
    assert ("ui-healthy-tasks" in alarms) == ui
    if jobs:
        dead_letters = alarms["jobs-dead-letters"].inputs
        dead_letter_queue = alarmed_run.one("aws:sqs/queue:Queue", "jobs-dlq")
        assert dead_letters["dimensions"] == {"QueueName": autoname(dead_letter_queue.name)}
        # received: the dead-letter consumer empties the queue within seconds, so its depth would stay 0
        assert (dead_letters["metricName"], dead_letters["statistic"], dead_letters["threshold"]) == (
            "NumberOfMessagesReceived",
            "Sum",
            0.0,
        )
    if bursting:
        credits = alarms["efs-burst-credits"].inputs
        assert (credits["metricName"], credits["statistic"], credits["comparisonOperator"]) == (
            "BurstCreditBalance",
            "Minimum",
            "LessThanThreshold",
        )
    if ui:
        healthy = alarms["ui-healthy-tasks"].inputs
        desired = int(variant_setting(alarmed_run, "uiDesiredCount", "1"))
        assert (healthy["threshold"], healthy["comparisonOperator"]) == (desired, "LessThanThreshold")
        assert (healthy["treatMissingData"], healthy["statistic"]) == ("breaching", "Minimum")


def test_the_dashboard_shows_every_alarm(alarmed_run: StackRun) -> None:
    """The dashboard's alarm widget lists exactly the stack's alarms."""
    _, body = dashboard_of(alarmed_run)
    (widget,) = [widget for widget in body["widgets"] if widget["type"] == "alarm"]
    assert sorted(widget["properties"]["alarms"]) == sorted(
        f"arn:aws:mock:eu-central-1:123456789012:{ALARM}/{alarm.name}" for alarm in alarmed_run.of_type(ALARM)
    )


def test_alarms_are_off_by_default_and_on_in_the_prod_example(dev_run: StackRun, prod_run: StackRun) -> None:
    """Dev: no topic, no alarm, no alarm widget, no alarm_topic_arn. Prod: alarms, and no subscription without an
    address."""
    assert not dev_run.of_type(ALARM) and not dev_run.of_type(TOPIC) and "alarm_topic_arn" not in dev_run.outputs
    assert not [widget for widget in dashboard_of(dev_run)[1]["widgets"] if widget["type"] == "alarm"]
    assert prod_run.of_type(ALARM) and prod_run.one(TOPIC) and not prod_run.of_type(SUBSCRIPTION)
    assert "alarm_topic_arn" in prod_run.outputs


def test_alarm_specs_follow_the_watched_parts() -> None:
    """Without jobs, UI or bursting: the API's two alarms and two per function, nothing else."""
    functions = [WatchedFunction("api", "f1", 30), WatchedFunction("model-publisher", "f2", 900)]
    watched = WatchedStack("api-id", functions, WatchedFileSystem("fs-1", "elastic"), "ns", "svc")
    keys = [spec.key for spec in alarm_specs(watched)]
    assert keys == [
        "api-5xx-rate",
        "api-p99-latency",
        "api-errors",
        "api-throttles",
        "model-publisher-errors",
        "model-publisher-throttles",
    ]


@pytest.mark.parametrize(
    ("functions", "message"),
    [
        ([], "must list the stack's functions"),
        ([WatchedFunction("api", "a", 30), WatchedFunction("api", "b", 30)], "distinct roles"),
        ([WatchedFunction("Job Worker", "a", 30)], "lowercase letters"),
        ([WatchedFunction("api", "a", 0)], "timeout_seconds"),
    ],
)
def test_watched_functions_are_checked_first(functions: list[WatchedFunction], message: str) -> None:
    """A list the alarms could not name, or a function without a timeout, is refused before anything exists."""
    with pytest.raises(ValueError, match=message):
        validate_watched_stack(WatchedStack("api-id", functions, WatchedFileSystem("fs-1", "elastic"), "ns", "svc"))


def test_alarmed_variants_keep_aws_rules(alarmed_run: StackRun) -> None:
    """With alarms and a subscription on, every variant still passes the AWS-rules layer (topic, subscription and
    alarm names, alarm periods and queries) that the plain variants pass."""
    found = violations(alarmed_run.resources)
    assert not found, f"{alarmed_run.variant}:\n" + "\n".join(map(str, found))
