"""The job queue and its dead-letter queue. The visibility timeout is six times the worker's timeout
(AWS's advice for a queue behind an event source mapping); after the configured attempts, SQS moves a
shard's message to the dead-letter queue, which keeps it for 14 days for a look or a redrive."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from inference.jobs.settings import LAMBDA_MAX_TIMEOUT_SECONDS, visibility_timeout_seconds
from infra.config.schema import StackConfig

MAX_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's longest


@dataclass
class JobQueueArgs:
    worker_timeout_seconds: int = 900
    max_attempts: int = 3
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
            f"{name}-dlq", message_retention_seconds=MAX_RETENTION_SECONDS, sqs_managed_sse_enabled=True, opts=child
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
