"""The stack, in the order of the architecture diagram: config → network → shared file system → images →
inference function → (UI load balancer) → HTTP API → model publishing → (Streamlit UI) → outputs.
Every piece is a component in infra/; this file only wires them together."""

import pulumi
import pulumi_aws as aws

from inference.routes import ROUTE_KEYS
from infra.config import load_stack_config
from infra.container_image import ContainerImage, ContainerImageArgs
from infra.efs_function import EfsFunction, EfsFunctionArgs, FunctionPlacement
from infra.file_system import SharedFileSystem, SharedFileSystemArgs
from infra.http_api import HttpApi, HttpApiArgs
from infra.model_bundle import read_model_bundle
from infra.model_publisher import ModelPublisher, ModelPublisherArgs
from infra.network import Network, NetworkArgs
from infra.streamlit_service import StreamlitService, StreamlitServiceArgs
from infra.ui_load_balancer import UiLoadBalancer, UiLoadBalancerArgs
from infra.validation import DOCKER_PLATFORMS, validate_function_name

# Everything is read and checked before the first resource is registered.
config = load_stack_config()
model = read_model_bundle(config.model.model_dir)
prefix = f"{pulumi.get_project()}-{pulumi.get_stack()}"
api_function_name, publisher_function_name = f"{prefix}-api", f"{prefix}-model-publisher"
for function_name in (api_function_name, publisher_function_name):
    validate_function_name(function_name)
platform = DOCKER_PLATFORMS[config.function.architecture]
retention = config.observability.log_retention_days

tagged = aws.Provider(
    "aws",
    region=aws.config.region,
    default_tags=aws.ProviderDefaultTagsArgs(tags={"project": pulumi.get_project(), "stack": pulumi.get_stack()}),
)
aws_opts = pulumi.ResourceOptions(providers={"aws": tagged})

network = Network(
    "network",
    NetworkArgs(
        nat_strategy=config.network.nat_strategy,
        availability_zones=config.network.availability_zones,
        cidr_block=config.network.vpc_cidr,
        existing_vpc_id=config.network.existing_vpc_id or None,
        existing_private_subnet_ids=config.network.existing_private_subnet_ids,
        existing_public_subnet_ids=config.network.existing_public_subnet_ids,
    ),
    aws_opts,
)
shared_fs = SharedFileSystem(
    "data",
    SharedFileSystemArgs(
        vpc_id=network.vpc_id,
        subnet_ids=network.private_subnet_ids,
        subnet_count=network.private_subnet_count,
        throughput_mode=config.storage.efs_throughput_mode,
        transition_to_ia=config.storage.efs_transition_to_ia,
        existing_file_system_id=config.storage.existing_file_system_id or None,
        allow_deletion=config.storage.allow_deletion,
    ),
    aws_opts,
)
inference_image = ContainerImage(
    "inference",
    ContainerImageArgs(
        context="inference_image",
        platform=platform,
        keep_images=config.storage.ecr_keep_images,
        force_delete=config.storage.allow_deletion,
    ),
    aws_opts,
)
placement = FunctionPlacement(
    subnet_ids=network.private_subnet_ids,
    security_group_ids=[shared_fs.client_security_group_id],
    file_system_arn=shared_fs.file_system_arn,
    access_point_arn=shared_fs.access_point_arn,
    mount_targets=shared_fs.mount_targets,
)
function_environment = {
    "LOG_LEVEL": config.observability.log_level,
    "POWERTOOLS_SERVICE_NAME": pulumi.get_project(),
    "POWERTOOLS_METRICS_NAMESPACE": pulumi.get_project(),
}
api_function = EfsFunction(
    "api",
    EfsFunctionArgs(
        function_name=api_function_name,
        image_uri=inference_image.image_uri,
        placement=placement,
        architecture=config.function.architecture,
        memory_mb=config.function.memory_mb,
        timeout_seconds=config.function.timeout_seconds,
        reserved_concurrency=config.function.reserved_concurrency,
        log_retention_days=retention,
        environment={
            **function_environment,
            "DEFAULT_MODEL": config.model.default_model or model.name,
            "MAX_TEXT_BYTES": str(config.function.max_text_bytes),
            "LEGACY_LISTING_LINES": str(config.function.legacy_listing_lines),
        },
    ),
    aws_opts,
)

# The load balancer comes before the API (whose CORS needs the UI's origin), the service after it
# (it needs the API's URL): no cycle.
ui_lb = None
if config.ui.enabled:
    ui_lb = UiLoadBalancer(
        "ui",
        UiLoadBalancerArgs(
            vpc_id=network.vpc_id,
            subnet_ids=network.public_subnet_ids,
            ingress_cidrs=config.ui.ingress_cidrs,
            certificate_arn=config.ui.certificate_arn or None,
            sticky_sessions=config.ui.desired_count > 1,
        ),
        aws_opts,
    )
cors_origins = list(config.api.cors_allow_origins)
http_api = HttpApi(
    "http",
    HttpApiArgs(
        function_arn=api_function.function_arn,
        function_name=api_function.function_name,
        route_keys=ROUTE_KEYS,
        access_log_group_name=f"/aws/http-api/{prefix}",
        timeout_seconds=config.function.timeout_seconds,
        throttle_burst=config.api.throttle_burst,
        throttle_rate=config.api.throttle_rate,
        cors_origins=ui_lb.origins.apply(lambda origins: cors_origins + origins) if ui_lb else cors_origins,
        log_retention_days=retention,
    ),
    aws_opts,
)
publisher = ModelPublisher(
    "model",
    ModelPublisherArgs(
        bundle=model,
        image_uri=inference_image.image_uri,
        function_name=publisher_function_name,
        placement=placement,
        vpc_id=network.vpc_id,
        architecture=config.function.architecture,
        log_retention_days=retention,
        environment=function_environment,
        allow_deletion=config.storage.allow_deletion,
        republish_triggers={"file_system_id": shared_fs.file_system_id},
    ),
    aws_opts,
)

pulumi.export("api_url", http_api.api_endpoint)
pulumi.export("function_name", api_function.function_name)
pulumi.export("function_log_group", api_function.log_group_name)
pulumi.export("publisher_log_group", publisher.log_group_name)
pulumi.export("api_access_log_group", http_api.access_log_group_name)
pulumi.export("efs_id", shared_fs.file_system_id)
pulumi.export("model_bucket", publisher.bucket_name)
pulumi.export("inference_repository_url", inference_image.repository_url)

if ui_lb:
    ui_image = ContainerImage(
        "ui",
        ContainerImageArgs(
            context="ui_image",
            platform=platform,
            keep_images=config.storage.ecr_keep_images,
            force_delete=config.storage.allow_deletion,
        ),
        aws_opts,
    )
    ui_service = StreamlitService(
        "ui",
        StreamlitServiceArgs(
            image_uri=ui_image.image_uri,
            api_url=http_api.api_endpoint,
            vpc_id=network.vpc_id,
            # Without NAT the private subnets cannot reach ECR or the API: the tasks then take public IPs.
            subnet_ids=network.private_subnet_ids if network.private_egress else network.public_subnet_ids,
            assign_public_ip=not network.private_egress,
            target_group_arn=ui_lb.target_group_arn,
            target_security_group_id=ui_lb.target_security_group_id,
            log_group_name=f"/ecs/{prefix}-ui",
            architecture=config.function.architecture,
            cpu=config.ui.cpu,
            memory_mb=config.ui.memory_mb,
            desired_count=config.ui.desired_count,
            log_retention_days=retention,
        ),
        pulumi.ResourceOptions.merge(aws_opts, pulumi.ResourceOptions(depends_on=[ui_lb])),
    )
    pulumi.export("ui_url", ui_lb.url)
    pulumi.export("ui_log_group", ui_service.log_group_name)
    pulumi.export("ui_repository_url", ui_image.repository_url)
