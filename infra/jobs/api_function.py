"""The jobs function: the API's /jobs routes, from the inference image, outside the VPC. It never
needs EFS (model checks read the model bucket), so it reaches S3 and SQS directly: no NAT gateway and
no interface endpoint. Its role may put and read job objects, read model metadata and send to the queue."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from inference.jobs.settings import JobSettings
from infra.config.limits import HTTP_API_TIMEOUT_SECONDS
from infra.config.model_dirs import ModelBundle
from infra.config.names import StackNames
from infra.config.schema import JobsConfig, StackConfig
from infra.functions.efs_function import common_environment
from infra.functions.lambda_function import (
    FunctionCode,
    FunctionComponent,
    function_problems,
    lambda_function,
    raise_first_problem,
)
from infra.images.container_image import ContainerImage
from infra.jobs.bucket import JobBucket
from infra.jobs.policies import job_api_statements
from infra.jobs.queue import JobQueue


def job_environment(config: JobsConfig) -> dict[str, str]:
    """The JOBS_* settings both job functions read (inference.jobs.settings), bar the resource names."""
    settings = JobSettings(
        bucket="-",
        max_attempts=config.max_attempts,
        worker_timeout_seconds=config.worker_timeout_seconds,
        shard_size=config.shard_size,
        max_inputs=config.max_inputs,
        max_upload_bytes=config.max_upload_bytes,
        inline_result_bytes=config.inline_result_bytes,
        url_expiry_seconds=config.url_expiry_seconds,
        retention_days=config.retention_days,
    )
    return {key: value for key, value in settings.to_env().items() if key != "JOBS_BUCKET"}


@dataclass
class JobApiFunctionArgs:
    function_name: str
    image_uri: pulumi.Input[str]
    job_bucket_name: pulumi.Input[str]
    job_bucket_arn: pulumi.Input[str]
    model_bucket_name: pulumi.Input[str]
    model_bucket_arn: pulumi.Input[str]
    queue_url: pulumi.Input[str]
    queue_arn: pulumi.Input[str]
    architecture: str = "x86_64"
    memory_mb: int = 1024
    timeout_seconds: int = HTTP_API_TIMEOUT_SECONDS
    log_retention_days: int = 14
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)

    @classmethod
    def from_config(
        cls,
        config: StackConfig,
        names: StackNames,
        image: ContainerImage,
        model: ModelBundle,
        *,
        bucket: JobBucket,
        queue: JobQueue,
        model_bucket_name: pulumi.Input[str],
        model_bucket_arn: pulumi.Input[str],
    ) -> JobApiFunctionArgs:
        """Sized like the API function, whose limits (the HTTP API's 30 s) it shares."""
        return cls(
            function_name=names.jobs_function,
            image_uri=image.image_uri,
            job_bucket_name=bucket.bucket_name,
            job_bucket_arn=bucket.bucket_arn,
            model_bucket_name=model_bucket_name,
            model_bucket_arn=model_bucket_arn,
            queue_url=queue.queue_url,
            queue_arn=queue.queue_arn,
            architecture=config.function.architecture,
            memory_mb=config.function.memory_mb,
            timeout_seconds=config.function.timeout_seconds,
            log_retention_days=config.observability.log_retention_days,
            environment={
                **common_environment(config.observability),
                **job_environment(config.jobs),
                "DEFAULT_MODEL": config.model.default_model or model.name,
            },
        )


def validate_job_api_function_args(args: JobApiFunctionArgs) -> None:
    problems = [
        *function_problems(args.function_name, args.architecture, args.memory_mb, args.log_retention_days),
        (not 1 <= args.timeout_seconds <= HTTP_API_TIMEOUT_SECONDS, "timeout_seconds must be from 1 to 30"),
    ]
    raise_first_problem("JobApiFunctionArgs", problems)


class JobApiFunction(FunctionComponent):
    def __init__(self, name: str, args: JobApiFunctionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate_job_api_function_args(args)
        super().__init__("efs-inference:job_api_function:JobApiFunction", name, None, opts)

        code = FunctionCode(
            function_name=args.function_name,
            image_uri=args.image_uri,
            architecture=args.architecture,
            memory_mb=args.memory_mb,
            timeout_seconds=args.timeout_seconds,
            log_retention_days=args.log_retention_days,
            environment={
                **args.environment,
                "JOBS_BUCKET": args.job_bucket_name,
                "JOBS_QUEUE_URL": args.queue_url,
                "MODEL_BUCKET": args.model_bucket_name,
            },
        )
        # No vpc_config: outside the VPC, S3 and SQS are reachable without NAT or endpoints.
        made = lambda_function(
            name,
            code,
            policy_inputs=[args.job_bucket_arn, args.model_bucket_arn, args.queue_arn],
            statements=lambda arns: job_api_statements(arns[0], arns[1], arns[2]),
            parent=self,
        )
        self._hold(made)
