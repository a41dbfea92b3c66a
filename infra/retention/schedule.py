"""Message retention on a schedule: an EventBridge rule that invokes, once a day, a function running the
inference image's retention handler (``inference.retention.lambda_handler``), which drops the message
store's whole segments older than the retention period. Created only when the stack sets
messageRetentionDays; the store itself keeps messages forever otherwise."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.config.names import StackNames
from infra.config.schema import StackConfig
from infra.functions.efs_function import EfsFunction, EfsFunctionArgs, FunctionPlacement, common_environment
from infra.images.container_image import ContainerImage

RETENTION_HANDLER = "inference.retention.lambda_handler"
DAILY = "rate(1 day)"
# Dropping a segment is a few small file operations; even years of segments on EFS take seconds.
RETENTION_TIMEOUT_SECONDS = 300
RETENTION_MEMORY_MB = 256


@dataclass
class RetentionScheduleArgs:
    retention_days: int
    function: EfsFunctionArgs
    schedule_expression: str = DAILY

    @classmethod
    def from_config(
        cls, config: StackConfig, names: StackNames, image: ContainerImage, placement: FunctionPlacement
    ) -> RetentionScheduleArgs:
        days = config.storage.message_retention_days
        return cls(
            retention_days=days,
            function=EfsFunctionArgs(
                function_name=names.retention_function,
                image_uri=image.image_uri,
                placement=placement,
                architecture=config.function.architecture,
                memory_mb=RETENTION_MEMORY_MB,
                timeout_seconds=RETENTION_TIMEOUT_SECONDS,
                log_retention_days=config.observability.log_retention_days,
                environment={**common_environment(config.observability), "MESSAGE_RETENTION_DAYS": str(days)},
                command=[RETENTION_HANDLER],
            ),
        )


def validate_retention_schedule_args(args: RetentionScheduleArgs) -> None:
    if args.retention_days < 1:
        raise ValueError("RetentionScheduleArgs.retention_days must be 1 or more (without retention, create none)")
    if args.function.environment.get("MESSAGE_RETENTION_DAYS") != str(args.retention_days):
        raise ValueError("RetentionScheduleArgs.function must be told MESSAGE_RETENTION_DAYS = retention_days")


class RetentionSchedule(pulumi.ComponentResource):
    function_name: pulumi.Output[str]
    rule_arn: pulumi.Output[str]

    def __init__(self, name: str, args: RetentionScheduleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate_retention_schedule_args(args)
        super().__init__("efs-inference:retention_schedule:RetentionSchedule", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.function = EfsFunction(name, args.function, child)
        self.rule = aws.cloudwatch.EventRule(
            name,
            name=args.function.function_name,  # <project>-<stack>-retention, like the function it runs
            schedule_expression=args.schedule_expression,
            description=f"Drop messages older than {args.retention_days} days",
            opts=child,
        )
        # Only this rule may invoke the function.
        self.permission = aws.lambda_.Permission(
            name,
            action="lambda:InvokeFunction",
            function=self.function.function_name,
            principal="events.amazonaws.com",
            source_arn=self.rule.arn,
            opts=child,
        )
        self.target = aws.cloudwatch.EventTarget(
            name,
            rule=self.rule.name,
            arn=self.function.function_arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.permission]),
        )
        self.function_name = self.function.function_name
        self.rule_arn = self.rule.arn
        self.register_outputs({"function_name": self.function_name, "rule_arn": self.rule_arn})
