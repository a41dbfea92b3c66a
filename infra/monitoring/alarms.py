"""The stack's alarms, and the SNS topic they notify (with an email subscription when an address is given).

Only what calls for a person: the API failing or slow for its clients, any function error or throttle, a job
shard out of attempts, the file system running out of burst credits, fewer healthy UI tasks than wanted. Each
notifies the topic when it fires and when it recovers. What each means and what to do: docs/DEPLOY.md, "Alarms".
Alarm settings: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.config.names import StackNames
from infra.monitoring.metrics import (
    API_5XX_RATE_PERCENT,
    API_P99_LATENCY_MS,
    EFS_LOW_BURST_CREDITS_BYTES,
    Expression,
    Metric,
    api_5xx_rate,
    api_metric,
    file_system_metric,
    function_metric,
    queue_metric,
    target_group_metric,
)
from infra.monitoring.watched import WatchedStack, validate_watched_stack

MINUTE = 60
ABOVE, BELOW = "GreaterThanThreshold", "LessThanThreshold"
DESCRIPTION_MAX = 1024  # characters, PutMetricAlarm's AlarmDescription
SEE_ALSO = " What to do: docs/DEPLOY.md, 'Alarms'."


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: a metric (or an expression over metrics) against a threshold, over ``datapoints_to_alarm`` of
    the last ``evaluation_periods`` periods."""

    key: str  # names the alarm, <project>-<stack>-<key>, and its resource
    description: str  # what it means, for the person it wakes
    threshold: float
    comparison: str
    period: int = MINUTE
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1
    # A quiet metric (no requests, no jobs) is no trouble, except for the UI's targets: the load balancer always
    # reports them, so no data means no load balancer to ask.
    treat_missing_data: str = "notBreaching"
    metric: Metric | None = None  # with stat
    stat: str = "Sum"  # Sum, Minimum, Maximum, or a percentile such as p99
    expression: Expression | None = None  # instead of a metric


def alarm_specs(watched: WatchedStack) -> list[AlarmSpec]:
    """Every alarm the stack's parts call for: the API's, two per function, and the jobs', EFS's and UI's when the
    stack has them (and bursting throughput, for EFS)."""
    api_id = watched.api_id
    specs = [
        AlarmSpec(
            "api-5xx-rate",
            f"More than {API_5XX_RATE_PERCENT:g} % of the API's requests got a 5xx in 3 of the last 5 minutes: "
            "clients see errors. Check the API function's errors and log group.",
            API_5XX_RATE_PERCENT,
            ABOVE,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            expression=api_5xx_rate(api_id),
        ),
        AlarmSpec(
            "api-p99-latency",
            f"The API's p99 latency was above {API_P99_LATENCY_MS / 1000:g} s (80 % of the 30 s integration timeout) "
            "in 3 of the last 5 minutes: the slowest requests are about to get 503s.",
            API_P99_LATENCY_MS,
            ABOVE,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            metric=api_metric("Latency", api_id),
            stat="p99",
        ),
    ]
    for function in watched.functions:
        specs += [
            AlarmSpec(
                f"{function.role}-errors",
                f"The {function.role} function failed (an exception, a timeout, out of memory, a failed start) in "
                "the last minute. Its log group says why.",
                0,
                ABOVE,
                metric=function_metric("Errors", function.function_name),
            ),
            AlarmSpec(
                f"{function.role}-throttles",
                f"Lambda refused to run the {function.role} function in the last minute: it was at its reserved "
                "concurrency, or the account at its concurrency quota.",
                0,
                ABOVE,
                metric=function_metric("Throttles", function.function_name),
            ),
        ]
    if watched.queues is not None:
        specs.append(
            AlarmSpec(
                "jobs-dead-letters",
                "A job shard used up its attempts and reached the dead-letter queue: its job has failed. Its "
                "error says why, the message is kept beside the job (dead-letters/), the worker's log group has "
                "the rest.",
                0,
                ABOVE,
                period=5 * MINUTE,
                # Received, not visible: the dead-letter consumer takes each message within seconds (copying it
                # beside its job and failing the job), so the queue's depth stays 0 at CloudWatch's minutely samples.
                metric=queue_metric("NumberOfMessagesReceived", watched.queues.dead_letter_queue_name),
                stat="Sum",
            )
        )
    if watched.file_system.bursting:
        specs.append(
            AlarmSpec(
                "efs-burst-credits",
                "The file system has less than an hour of burst credits left: reads of models and messages will be "
                "throttled to its baseline throughput. Consider efsThroughputMode elastic.",
                EFS_LOW_BURST_CREDITS_BYTES,
                BELOW,
                period=5 * MINUTE,
                metric=file_system_metric("BurstCreditBalance", watched.file_system.file_system_id),
                stat="Minimum",
            )
        )
    if watched.ui is not None:
        ui = watched.ui
        specs.append(
            AlarmSpec(
                "ui-healthy-tasks",
                f"Fewer than {ui.desired_count} UI task(s) passed the load balancer's health check in 3 of the last 5 "
                "minutes. Look at the ECS service's events and the UI's log group.",
                ui.desired_count,
                BELOW,
                evaluation_periods=5,
                datapoints_to_alarm=3,
                treat_missing_data="breaching",
                metric=target_group_metric("HealthyHostCount", ui.target_group_arn_suffix, ui.load_balancer_arn_suffix),
                stat="Minimum",
            )
        )
    return specs


@dataclass
class StackAlarmsArgs:
    names: StackNames
    watched: WatchedStack
    email: str | None = None  # subscribed to the topic; AWS mails it a confirmation link first


def validate_stack_alarms_args(args: StackAlarmsArgs) -> None:
    validate_watched_stack(args.watched)
    for spec in alarm_specs(args.watched):
        if len(spec.description) + len(SEE_ALSO) > DESCRIPTION_MAX:
            raise ValueError(f"the {spec.key} alarm's description is over {DESCRIPTION_MAX} characters")
        if (spec.metric is None) == (spec.expression is None):
            raise ValueError(f"the {spec.key} alarm needs a metric or an expression, not both")


class StackAlarms(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    alarm_arns: list[pulumi.Output[str]]

    def __init__(self, name: str, args: StackAlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate_stack_alarms_args(args)
        super().__init__("efs-inference:alarms:StackAlarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(name, name=args.names.alarm_topic, opts=child)
        self.subscription = None
        if args.email:
            # Pending until the address follows the link AWS mails it; unconfirmed, nothing is delivered.
            self.subscription = aws.sns.TopicSubscription(
                f"{name}-email", topic=self.topic.arn, protocol="email", endpoint=args.email, opts=child
            )
        self.alarms = [
            self._alarm(f"{name}-{spec.key}", args.names.alarm(spec.key), spec) for spec in alarm_specs(args.watched)
        ]
        self.topic_arn = self.topic.arn
        self.alarm_arns = [alarm.arn for alarm in self.alarms]
        self.register_outputs({"topic_arn": self.topic_arn, "alarm_arns": self.alarm_arns})

    def _alarm(self, resource_name: str, alarm_name: str, spec: AlarmSpec) -> aws.cloudwatch.MetricAlarm:
        percentile = spec.stat.startswith("p")
        single = spec.metric
        return aws.cloudwatch.MetricAlarm(
            resource_name,
            name=alarm_name,
            alarm_description=spec.description + SEE_ALSO,
            comparison_operator=spec.comparison,
            threshold=spec.threshold,
            evaluation_periods=spec.evaluation_periods,
            datapoints_to_alarm=spec.datapoints_to_alarm,
            treat_missing_data=spec.treat_missing_data,
            namespace=single.namespace if single else None,
            metric_name=single.name if single else None,
            dimensions=dict(single.dimensions) if single else None,
            period=spec.period if single else None,
            statistic=None if not single or percentile else spec.stat,
            extended_statistic=spec.stat if single and percentile else None,
            metric_queries=None if single else self._queries(spec),
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
            opts=pulumi.ResourceOptions(parent=self),
        )

    @staticmethod
    def _queries(spec: AlarmSpec) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgs]:
        assert spec.expression is not None
        queries = [
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=query_id,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace=metric.namespace,
                    metric_name=metric.name,
                    dimensions=dict(metric.dimensions),
                    period=spec.period,
                    stat=stat,
                ),
                return_data=False,
            )
            for query_id, (metric, stat) in spec.expression.inputs.items()
        ]
        alarmed = aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id="alarmed", expression=spec.expression.expression, return_data=True
        )
        return [*queries, alarmed]
