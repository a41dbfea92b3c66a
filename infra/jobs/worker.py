"""The job worker: the inference image's ``inference.jobs.worker.handler`` as an EfsFunction in the
private subnets (models from EFS, through the same registry as the API), its own timeout, HTTPS out to S3
only (the VPC's free gateway endpoint), and an event source mapping: the Lambda service polls the queue for
it, at most `max_concurrency` shards at once, so the worker needs no way to SQS and reserves no concurrency."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pulumi

from infra.config.limits import SQS_MAPPING_CONCURRENCY
from infra.config.model_dirs import ModelBundle
from infra.config.names import StackNames
from infra.config.schema import StackConfig
from infra.functions.efs_function import EfsFunction, EfsFunctionArgs, FunctionPlacement, common_environment
from infra.images.container_image import ContainerImage
from infra.jobs.api_function import job_environment
from infra.jobs.bucket import JobBucket
from infra.jobs.policies import job_worker_statements
from infra.jobs.queue import JobQueue, queue_trigger
from infra.network.network import Network

WORKER_COMMAND = ("inference.jobs.worker.handler",)
# Shards are long: one per invocation, so a failure retries only its own shard.
BATCH_SIZE = 1


@dataclass
class JobWorkerArgs:
    function: EfsFunctionArgs
    vpc_id: pulumi.Input[str]
    s3_prefix_list_id: pulumi.Input[str]
    job_bucket_name: pulumi.Input[str]
    job_bucket_arn: pulumi.Input[str]
    queue_arn: pulumi.Input[str]
    # At most this many shards at once, by the event source mapping's cap: reserving concurrency instead would
    # need that many + 100 of the account's quota, which new accounts do not have.
    max_concurrency: int = 4

    @classmethod
    def from_config(
        cls,
        config: StackConfig,
        names: StackNames,
        image: ContainerImage,
        placement: FunctionPlacement,
        model: ModelBundle,
        *,
        network: Network,
        bucket: JobBucket,
        queue: JobQueue,
    ) -> JobWorkerArgs:
        jobs = config.jobs
        return cls(
            function=EfsFunctionArgs(
                function_name=names.job_worker_function,
                image_uri=image.image_uri,
                placement=placement,
                architecture=config.function.architecture,
                memory_mb=jobs.worker_memory_mb,
                timeout_seconds=jobs.worker_timeout_seconds,
                log_retention_days=config.observability.log_retention_days,
                environment={
                    **common_environment(config.observability),
                    **job_environment(jobs),
                    "DEFAULT_MODEL": config.model.default_model or model.name,
                },
                command=WORKER_COMMAND,
            ),
            vpc_id=network.vpc_id,
            s3_prefix_list_id=network.s3_prefix_list_id,
            job_bucket_name=bucket.bucket_name,
            job_bucket_arn=bucket.bucket_arn,
            queue_arn=queue.queue_arn,
            max_concurrency=jobs.worker_concurrency,
        )


def validate_job_worker_args(args: JobWorkerArgs) -> None:
    low, high = SQS_MAPPING_CONCURRENCY
    if not low <= args.max_concurrency <= high:
        raise ValueError(
            f"JobWorkerArgs.max_concurrency must be from {low} to {high} (an SQS event source mapping's cap), "
            f"not {args.max_concurrency}"
        )


class JobWorker(pulumi.ComponentResource):
    function_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: JobWorkerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate_job_worker_args(args)
        super().__init__("efs-inference:job_worker:JobWorker", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # The worker also reads and writes S3, through the gateway endpoint.
        s3_access = args.function.placement.with_https_to_s3(
            f"{name}-worker",
            vpc_id=args.vpc_id,
            s3_prefix_list_id=args.s3_prefix_list_id,
            description="Job worker: HTTPS out to S3",
            parent=self,
        )
        self.security_group, self.https_egress = s3_access.security_group, s3_access.https_egress
        function_args = replace(
            args.function,
            placement=s3_access.placement,
            environment={**args.function.environment, "JOBS_BUCKET": args.job_bucket_name},
            extra_statements=pulumi.Output.all(args.job_bucket_arn, args.queue_arn).apply(
                lambda arns: job_worker_statements(arns[0], arns[1])
            ),
        )
        self.worker = EfsFunction(f"{name}-worker", function_args, opts=child)
        # The cap on the worker, without reserving concurrency.
        self.mapping = queue_trigger(
            name,
            queue_arn=args.queue_arn,
            function_arn=self.worker.function_arn,
            batch_size=BATCH_SIZE,
            max_concurrency=args.max_concurrency,
            parent=self,
            depends_on=[self.worker, self.https_egress],
        )
        self.function_name = self.worker.function_name
        self.log_group_name = self.worker.log_group_name
        self.register_outputs({"function_name": self.function_name, "log_group_name": self.log_group_name})
