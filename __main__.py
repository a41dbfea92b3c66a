"""The stack, in the order of the architecture diagram: config → network → shared file system → images →
inference function → (message retention) → model publishing → (async jobs) → HTTP API (behind IAM auth by
default) → (UI load balancer and Streamlit UI, which signs its calls to the API, optionally behind a Cognito
sign-in) → monitoring of all of the above ((alarms) and a dashboard) → outputs.
Each piece is a component from infra/'s package for its part, whose args read their settings from the config
(`from_config`); this file only says what feeds what."""

import pulumi
import pulumi_aws as aws

from inference.jobs.settings import DEAD_LETTER_TIMEOUT_SECONDS
from inference.routes import JOBS_FUNCTION, ROUTE_KEYS
from infra.api import HttpApi, HttpApiArgs, RouteTarget
from infra.building_blocks import tagged_provider
from infra.config import StackNames, config_warnings, load_stack_config, read_model_bundles
from infra.functions import EfsFunction, EfsFunctionArgs, FunctionPlacement
from infra.images import ContainerImage, ContainerImageArgs
from infra.jobs import (
    JobApiFunction,
    JobApiFunctionArgs,
    JobBucket,
    JobBucketArgs,
    JobDeadLetters,
    JobDeadLettersArgs,
    JobQueue,
    JobQueueArgs,
    JobWorker,
    JobWorkerArgs,
)
from infra.models import ModelPublisher, ModelPublisherArgs
from infra.models.publisher import PUBLISHER_TIMEOUT_SECONDS
from infra.monitoring import (
    StackAlarms,
    StackAlarmsArgs,
    StackDashboard,
    StackDashboardArgs,
    WatchedFileSystem,
    WatchedFunction,
    WatchedQueues,
    WatchedStack,
    WatchedUi,
)
from infra.network import Network, NetworkArgs, check_existing_subnets
from infra.retention import RetentionSchedule, RetentionScheduleArgs
from infra.storage import SharedFileSystem, SharedFileSystemArgs
from infra.ui import StreamlitService, StreamlitServiceArgs, UiLoadBalancer, UiLoadBalancerArgs, UiLogin, UiLoginArgs

# Everything is read and checked before the first resource is registered, existing subnets included.
config = load_stack_config()
models = read_model_bundles(config.model.model_dirs)
names = StackNames.of_current_stack()
check_existing_subnets(config.network, config.ui.enabled)
for warning in config_warnings(config):
    pulumi.log.warn(warning)

# Every AWS resource goes through this provider, which tags it and takes the stack's aws:* settings.
provider = tagged_provider("aws")
aws_opts = pulumi.ResourceOptions(providers={"aws": provider})
region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(provider=provider)).region

network = Network("network", NetworkArgs.from_config(config.network), aws_opts)
shared_fs = SharedFileSystem("data", SharedFileSystemArgs.from_config(config.storage, network), aws_opts)
inference_image = ContainerImage("inference", ContainerImageArgs.from_config(config, "inference_image"), aws_opts)
placement = FunctionPlacement.in_private_subnets(network, shared_fs)
# One mount each, as one identity each: the API function writes messages only, the publisher owns the models.
api_args = EfsFunctionArgs.api_from_config(config, names, inference_image, placement.for_messages(), models)
api_function = EfsFunction("api", api_args, aws_opts)
# Message retention (optional): a daily schedule drops the oldest segments, writing as the API function does.
if config.storage.message_retention_days:
    retention_args = RetentionScheduleArgs.from_config(config, names, inference_image, placement.for_messages())
    retention = RetentionSchedule("retention", retention_args, aws_opts)
message_writers = [api_function, *([retention] if config.storage.message_retention_days else [])]
publisher_args = ModelPublisherArgs.from_config(
    config,
    names,
    models,
    image=inference_image,
    placement=placement,
    network=network,
    file_system=shared_fs,
    message_writers=message_writers,
)
publisher = ModelPublisher("model", publisher_args, aws_opts)
# Async jobs (optional): the jobs function outside the VPC accepts them, the worker in it runs them, and the
# dead-letter consumer fails a job whose shard has used up its attempts.
route_targets: dict[str, RouteTarget] = {}
writable_buckets: list[pulumi.Output[str]] = []
if config.jobs.enabled:
    job_bucket = JobBucket("jobs", JobBucketArgs.from_config(config), aws_opts)
    job_queue = JobQueue("jobs", JobQueueArgs.from_config(config), aws_opts)
    jobs_args = JobApiFunctionArgs.from_config(
        config,
        names,
        inference_image,
        models[0],
        bucket=job_bucket,
        queue=job_queue,
        model_bucket_name=publisher.bucket_name,
        model_bucket_arn=publisher.bucket_arn,
    )
    jobs_function = JobApiFunction("jobs", jobs_args, aws_opts)
    worker_args = JobWorkerArgs.from_config(
        config,
        names,
        inference_image,
        placement.read_only(),
        models[0],
        network=network,
        bucket=job_bucket,
        queue=job_queue,
    )
    job_worker = JobWorker("jobs", worker_args, aws_opts)
    dead_letters_args = JobDeadLettersArgs.from_config(
        config, names, inference_image, bucket=job_bucket, queue=job_queue
    )
    job_dead_letters = JobDeadLetters("jobs", dead_letters_args, aws_opts)
    route_targets[JOBS_FUNCTION] = RouteTarget(jobs_function.function_arn, jobs_function.function_name)
    writable_buckets.append(job_bucket.bucket_arn)  # the worker reaches its bucket through the VPC's endpoint
http_args = HttpApiArgs.from_config(config, names, api_function, ROUTE_KEYS, other_functions=route_targets)
http_api = HttpApi("http", http_args, aws_opts)
# The VPC's way to S3 lets through reads of the model bucket (and the publisher's writes of each model's LATEST
# object), the worker's job objects, and ECR's image layers for the UI tasks.
ecr_layers = region.apply(lambda name: f"arn:aws:s3:::prod-{name}-starport-layer-bucket/*")
network.limit_s3_endpoint(
    "network-s3",
    [publisher.bucket_arn],
    [ecr_layers] if config.ui.enabled else [],
    writable_buckets,
    [publisher.latest_objects_arn],
)
if config.ui.enabled:
    ui_login = None
    if config.ui_access.login == "cognito":
        ui_login = UiLogin("ui-login", UiLoginArgs.from_config(config.ui_access, names), aws_opts)
    ui_lb_args = UiLoadBalancerArgs.from_config(config.ui, config.ui_access, network, ui_login)
    ui_lb = UiLoadBalancer("ui", ui_lb_args, aws_opts)
    ui_image = ContainerImage("ui", ContainerImageArgs.from_config(config, "ui_image"), aws_opts)
    ui_args = StreamlitServiceArgs.from_config(
        config, names, ui_image, api=http_api, network=network, load_balancer=ui_lb, region=region
    )
    # On the whole load balancer, listeners included: ECS refuses a target group that no listener uses yet.
    ui_opts = pulumi.ResourceOptions.merge(aws_opts, pulumi.ResourceOptions(depends_on=[ui_lb]))
    ui_service = StreamlitService("ui", ui_args, ui_opts)

# Monitoring: what the stack has, as CloudWatch names it. Every function of the stack is in this one list, and
# each gets the same widgets and alarms.
watched_functions = [
    WatchedFunction("api", api_function.function_name, api_args.timeout_seconds),
    WatchedFunction("model-publisher", publisher.function_name, PUBLISHER_TIMEOUT_SECONDS),
]
watched_queues = None
if config.jobs.enabled:
    watched_functions += [
        WatchedFunction("jobs", jobs_function.function_name, jobs_args.timeout_seconds),
        WatchedFunction("job-worker", job_worker.function_name, worker_args.function.timeout_seconds),
        WatchedFunction("dead-letters", job_dead_letters.function_name, DEAD_LETTER_TIMEOUT_SECONDS),
    ]
    watched_queues = WatchedQueues(job_queue.queue_name, job_queue.dead_letter_queue_name)
if config.storage.message_retention_days:
    watched_functions.append(
        WatchedFunction("retention", retention.function_name, retention_args.function.timeout_seconds)
    )
watched_ui = None
if config.ui.enabled:
    watched_ui = WatchedUi(
        ui_lb.load_balancer_arn_suffix,
        ui_lb.target_group_arn_suffix,
        ui_service.cluster_name,
        ui_service.service_name,
        config.ui.desired_count,
    )
watched = WatchedStack(
    api_id=http_api.api_id,
    functions=watched_functions,
    file_system=WatchedFileSystem(shared_fs.file_system_id, config.storage.efs_throughput_mode),
    metrics_namespace=names.metrics_namespace,
    metrics_service=names.metrics_service,
    queues=watched_queues,
    ui=watched_ui,
)
alarms = None
if config.observability.alarms:
    alarms_args = StackAlarmsArgs(names, watched, email=config.observability.alarm_email or None)
    alarms = StackAlarms("alarms", alarms_args, aws_opts)
dashboard_args = StackDashboardArgs(names.dashboard, region, watched, alarm_arns=alarms.alarm_arns if alarms else [])
dashboard = StackDashboard("dashboard", dashboard_args, aws_opts)

pulumi.export("api_url", http_api.api_endpoint)
pulumi.export("api_auth", config.api_auth.mode)
if http_api.caller_policy_arn is not None:
    pulumi.export("api_caller_policy", http_api.caller_policy)  # attach it, or its managed copy below, to callers
    pulumi.export("api_caller_policy_arn", http_api.caller_policy_arn)
pulumi.export("function_name", api_function.function_name)
pulumi.export("function_log_group", api_function.log_group_name)
pulumi.export("publisher_log_group", publisher.log_group_name)
pulumi.export("api_access_log_group", http_api.access_log_group_name)
pulumi.export("efs_id", shared_fs.file_system_id)
pulumi.export("dashboard_url", dashboard.url)  # the stack's CloudWatch dashboard (docs/DEPLOY.md, "Operate it")
if alarms:
    pulumi.export("alarm_topic_arn", alarms.topic_arn)  # subscribe more endpoints (chat, paging) here
pulumi.export("model_bucket", publisher.bucket_name)
pulumi.export("model_publisher_function", publisher.function_name)  # efs-models publish --stack invokes it
pulumi.export("region", region)
pulumi.export("inference_repository_url", inference_image.repository_url)
if config.jobs.enabled:
    pulumi.export("job_bucket", job_bucket.bucket_name)
    pulumi.export("job_queue_url", job_queue.queue_url)
    pulumi.export("job_dead_letter_queue_url", job_queue.dead_letter_queue_url)
    pulumi.export("jobs_function_log_group", jobs_function.log_group_name)
    pulumi.export("job_worker_log_group", job_worker.log_group_name)
    pulumi.export("job_dead_letters_log_group", job_dead_letters.log_group_name)
if config.ui.enabled:
    pulumi.export("ui_url", ui_lb.url)
    pulumi.export("ui_load_balancer_dns_name", ui_lb.dns_name)  # point uiDomainName's CNAME or alias here
    pulumi.export("ui_log_group", ui_service.log_group_name)
    pulumi.export("ui_cluster_arn", ui_service.cluster_arn)  # a rolled-back deploy leaves `up` green: check here
    pulumi.export("ui_repository_url", ui_image.repository_url)
    if ui_login:
        pulumi.export("ui_user_pool_id", ui_login.user_pool_id)  # add users: aws cognito-idp admin-create-user
