"""The dead-letter consumer: the inference image's ``inference.jobs.dead_letters.handler``, outside the VPC
(it needs S3 only, which it reaches directly), fed by an event source mapping on the job queue's dead-letter
queue. A shard whose attempts are used up, whatever ended them (an init failure, no route to S3, out of
memory), lands there; the consumer copies the message beside the job's state and fails the job with a
reason, within seconds, where the job would otherwise read ``queued`` or ``running`` until it expired."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from inference.jobs.settings import DEAD_LETTER_TIMEOUT_SECONDS
from infra.config.limits import SQS_MAPPING_CONCURRENCY
from infra.config.names import StackNames
from infra.config.schema import StackConfig
from infra.functions.efs_function import common_environment
from infra.functions.lambda_function import (
    FunctionCode,
    FunctionComponent,
    function_problems,
    lambda_function,
    raise_first_problem,
)
from infra.images.container_image import ContainerImage
from infra.jobs.api_function import job_environment
from infra.jobs.bucket import JobBucket
from infra.jobs.policies import dead_letter_statements
from infra.jobs.queue import JobQueue, queue_trigger

DEAD_LETTERS_COMMAND = ("inference.jobs.dead_letters.handler",)
# It copies a small message and writes two small objects; memory buys the import's CPU share at a cold start.
DEAD_LETTERS_MEMORY_MB = 512
BATCH_SIZE = 10  # SQS's default: messages are settled one by one, a failure reported per message


@dataclass
class JobDeadLettersArgs:
    function_name: str
    image_uri: pulumi.Input[str]
    job_bucket_name: pulumi.Input[str]
    job_bucket_arn: pulumi.Input[str]
    dead_letter_queue_arn: pulumi.Input[str]
    architecture: str = "x86_64"
    log_retention_days: int = 14
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)

    @classmethod
    def from_config(
        cls,
        config: StackConfig,
        names: StackNames,
        image: ContainerImage,
        *,
        bucket: JobBucket,
        queue: JobQueue,
    ) -> JobDeadLettersArgs:
        return cls(
            function_name=names.job_dead_letters_function,
            image_uri=image.image_uri,
            job_bucket_name=bucket.bucket_name,
            job_bucket_arn=bucket.bucket_arn,
            dead_letter_queue_arn=queue.dead_letter_queue_arn,
            architecture=config.function.architecture,
            log_retention_days=config.observability.log_retention_days,
            environment={**common_environment(config.observability), **job_environment(config.jobs)},
        )


def validate_job_dead_letters_args(args: JobDeadLettersArgs) -> None:
    problems = function_problems(args.function_name, args.architecture, DEAD_LETTERS_MEMORY_MB, args.log_retention_days)
    raise_first_problem("JobDeadLettersArgs", problems)


class JobDeadLetters(FunctionComponent):
    def __init__(self, name: str, args: JobDeadLettersArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate_job_dead_letters_args(args)
        super().__init__("efs-inference:job_dead_letters:JobDeadLetters", name, None, opts)

        code = FunctionCode(
            function_name=args.function_name,
            image_uri=args.image_uri,
            architecture=args.architecture,
            memory_mb=DEAD_LETTERS_MEMORY_MB,
            timeout_seconds=DEAD_LETTER_TIMEOUT_SECONDS,  # the dead-letter queue hides a message for 6 x this
            log_retention_days=args.log_retention_days,
            environment={**args.environment, "JOBS_BUCKET": args.job_bucket_name},
            command=DEAD_LETTERS_COMMAND,
        )
        # No vpc_config: outside the VPC, S3 is reachable without NAT or endpoints.
        made = lambda_function(
            f"{name}-dead-letters",
            code,
            policy_inputs=[args.job_bucket_arn, args.dead_letter_queue_arn],
            statements=lambda arns: dead_letter_statements(arns[0], arns[1]),
            parent=self,
        )
        # Dead letters are rare: the fewest pollers a mapping allows.
        self.mapping = queue_trigger(
            f"{name}-dead-letters",
            queue_arn=args.dead_letter_queue_arn,
            function_arn=made.function.arn,
            batch_size=BATCH_SIZE,
            max_concurrency=SQS_MAPPING_CONCURRENCY[0],
            parent=self,
            depends_on=[made.function, made.role_policy],
        )
        self._hold(made)
