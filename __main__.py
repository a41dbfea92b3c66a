"""The stack, in the order of the architecture diagram: config → network → shared file system → images →
inference function → HTTP API (behind IAM auth by default) → model publishing → (UI load balancer and
Streamlit UI, which signs its calls to the API, optionally behind a Cognito sign-in) → outputs.
Each piece is a component in infra/ whose args read their settings from the config (`from_config`);
this file only says what feeds what."""

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
from infra.network import Network, NetworkArgs, check_existing_subnets
from infra.provider import tagged_provider
from infra.stack_names import StackNames
from infra.streamlit_service import StreamlitService, StreamlitServiceArgs
from infra.ui_load_balancer import UiLoadBalancer, UiLoadBalancerArgs
from infra.ui_login import UiLogin, UiLoginArgs
from infra.validation import config_warnings

# Everything is read and checked before the first resource is registered, existing subnets included.
config = load_stack_config()
model = read_model_bundle(config.model.model_dir)
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
api_args = EfsFunctionArgs.api_from_config(config, names, inference_image, placement, model)
api_function = EfsFunction("api", api_args, aws_opts)
http_api = HttpApi("http", HttpApiArgs.from_config(config, names, api_function, ROUTE_KEYS), aws_opts)
publisher_args = ModelPublisherArgs.from_config(
    config, names, model, image=inference_image, placement=placement, network=network, file_system=shared_fs
)
publisher = ModelPublisher("model", publisher_args, aws_opts)
# The VPC's way to S3 lets through reads of the model bucket, and of ECR's image layers for the UI tasks.
ecr_layers = region.apply(lambda name: f"arn:aws:s3:::prod-{name}-starport-layer-bucket/*")
network.limit_s3_endpoint("network-s3", [publisher.bucket_arn], [ecr_layers] if config.ui.enabled else [])
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
pulumi.export("model_bucket", publisher.bucket_name)
pulumi.export("inference_repository_url", inference_image.repository_url)
if config.ui.enabled:
    pulumi.export("ui_url", ui_lb.url)
    pulumi.export("ui_load_balancer_dns_name", ui_lb.dns_name)  # point uiDomainName's CNAME or alias here
    pulumi.export("ui_log_group", ui_service.log_group_name)
    pulumi.export("ui_cluster_arn", ui_service.cluster_arn)  # a rolled-back deploy leaves `up` green: check here
    pulumi.export("ui_repository_url", ui_image.repository_url)
    if ui_login:
        pulumi.export("ui_user_pool_id", ui_login.user_pool_id)  # add users: aws cognito-idp admin-create-user
