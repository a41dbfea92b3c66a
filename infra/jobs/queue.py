"""The job queue and its dead-letter queue. The visibility timeout is six times the worker's timeout
(AWS's advice for a queue behind an event source mapping); after the configured attempts, SQS moves a
shard's message to the dead-letter queue. Its consumer (infra/jobs/dead_letters.py) fails the job and
keeps a copy of the message in the job bucket; a message it cannot settle stays for 14 days, and comes back
after six times the consumer's timeout."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from inference.jobs.settings import (
    DEAD_LETTER_TIMEOUT_SECONDS,
    LAMBDA_MAX_TIMEOUT_SECONDS,
    JobSettings,
    visibility_timeout_seconds,
)
from infra.config.schema import StackConfig

MAX_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's longest


@dataclass
class JobQueueArgs:
    worker_timeout_seconds: int = JobSettings.worker_timeout_seconds
    max_attempts: int = JobSettings.max_attempts
    retention_days: int = 7  # a message never outlives its job's objects

    @classmethod
    def from_config(cls, config: StackConfig) -> JobQueueArgs:
        return cls(
            worker_timeout_seconds=config.jobs.worker_timeout_seconds,
            max_attempts=config.jobs.max_attempts,
            retention_days=config.jobs.retention_days,
        )


def validate_job_queue_args(args: JobQueueArgs) -> None:
    if not 1 <= args.worker_timeout_seconds <= LAMBDA_MAX_TIMEOUT_SECONDS:
        raise ValueError(
            f"JobQueueArgs.worker_timeout_seconds must be from 1 to 900, not {args.worker_timeout_seconds}"
        )
    if args.max_attempts < 1:
        raise ValueError(f"JobQueueArgs.max_attempts must be at least 1, not {args.max_attempts}")


class JobQueue(pulumi.ComponentResource):
    queue_url: pulumi.Output[str]
    queue_arn: pulumi.Output[str]
    dead_letter_queue_url: pulumi.Output[str]
    dead_letter_queue_arn: pulumi.Output[str]
    queue_name: pulumi.Output[str]  # the dimension of SQS's metrics, for the dashboard and the dead-letter alarm
    dead_letter_queue_name: pulumi.Output[str]

    def __init__(self, name: str, args: JobQueueArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate_job_queue_args(args)
        super().__init__("efs-inference:job_queue:JobQueue", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.dead_letter_queue = aws.sqs.Queue(
            f"{name}-dlq",
            visibility_timeout_seconds=visibility_timeout_seconds(DEAD_LETTER_TIMEOUT_SECONDS),
            message_retention_seconds=MAX_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            opts=child,
        )
        self.queue = aws.sqs.Queue(
            name,
            visibility_timeout_seconds=visibility_timeout_seconds(args.worker_timeout_seconds),
            message_retention_seconds=min(MAX_RETENTION_SECONDS, args.retention_days * 24 * 3600),
            sqs_managed_sse_enabled=True,
            redrive_policy=self.dead_letter_queue.arn.apply(
                lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": args.max_attempts})
            ),
            opts=child,
        )
        # Only this queue may dead-letter into the DLQ.
        self.redrive_allow = aws.sqs.RedriveAllowPolicy(
            f"{name}-dlq",
            queue_url=self.dead_letter_queue.url,
            redrive_allow_policy=self.queue.arn.apply(
                lambda arn: json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [arn]})
            ),
            opts=child,
        )
        self.queue_url = self.queue.url
        self.queue_arn = self.queue.arn
        self.dead_letter_queue_url = self.dead_letter_queue.url
        self.dead_letter_queue_arn = self.dead_letter_queue.arn
        self.queue_name = self.queue.name
        self.dead_letter_queue_name = self.dead_letter_queue.name
        self.register_outputs(
            {
                "queue_url": self.queue_url,
                "queue_arn": self.queue_arn,
                "dead_letter_queue_url": self.dead_letter_queue_url,
                "dead_letter_queue_arn": self.dead_letter_queue_arn,
                "queue_name": self.queue_name,
                "dead_letter_queue_name": self.dead_letter_queue_name,
            }
        )


def queue_trigger(
    name: str,
    *,
    queue_arn: pulumi.Input[str],
    function_arn: pulumi.Input[str],
    batch_size: int,
    max_concurrency: int,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource],
) -> aws.lambda_.EventSourceMapping:
    """The event source mapping by which Lambda polls a queue for a function: a message reported in the answer's
    ``batchItemFailures`` comes back, the others are deleted; at most ``max_concurrency`` invocations at once, so
    that none is throttled by the cap (a throttled delivery would use up one of the message's receives)."""
    return aws.lambda_.EventSourceMapping(
        name,
        event_source_arn=queue_arn,
        function_name=function_arn,
        batch_size=batch_size,
        function_response_types=["ReportBatchItemFailures"],
        scaling_config=aws.lambda_.EventSourceMappingScalingConfigArgs(maximum_concurrency=max_concurrency),
        # The role must allow consuming the queue (and the function reach what it needs) before messages flow.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )
