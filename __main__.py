"""The stack, in the order of the architecture diagram: config → network → shared file system → images →
inference function → (UI load balancer) → HTTP API → model publishing → (Streamlit UI) → outputs.
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
from infra.model_bundle import read_model_bundles
from infra.model_publisher import ModelPublisher, ModelPublisherArgs
from infra.network import Network, NetworkArgs
from infra.stack_names import StackNames
from infra.streamlit_service import StreamlitService, StreamlitServiceArgs
from infra.ui_load_balancer import UiLoadBalancer, UiLoadBalancerArgs

# Everything is read and checked before the first resource is registered.
config = load_stack_config()
models = read_model_bundles(config.model.model_dirs)
names = StackNames.of_current_stack()

# Every AWS resource goes through this provider, which tags it. An explicit provider ignores the stack's
# aws:* settings unless they are passed on, as region and profile are here.
tags = aws.ProviderDefaultTagsArgs(tags={"project": pulumi.get_project(), "stack": pulumi.get_stack()})
tagged = aws.Provider("aws", region=aws.config.region, profile=aws.config.profile, default_tags=tags)
aws_opts = pulumi.ResourceOptions(providers={"aws": tagged})

network = Network("network", NetworkArgs.from_config(config.network), aws_opts)
shared_fs = SharedFileSystem("data", SharedFileSystemArgs.from_config(config.storage, network), aws_opts)
inference_image = ContainerImage("inference", ContainerImageArgs.from_config(config, "inference_image"), aws_opts)
placement = FunctionPlacement.in_private_subnets(network, shared_fs)
api_args = EfsFunctionArgs.api_from_config(config, names, inference_image, placement, models)
api_function = EfsFunction("api", api_args, aws_opts)
# The load balancer comes before the API (whose CORS admits the UI's origin), the UI service after it
# (it needs the API's URL): no cycle.
ui_lb = None
if config.ui.enabled:
    ui_lb = UiLoadBalancer("ui", UiLoadBalancerArgs.from_config(config.ui, network), aws_opts)
http_api = HttpApi("http", HttpApiArgs.from_config(config, names, api_function, ROUTE_KEYS, ui_lb), aws_opts)
publisher_args = ModelPublisherArgs.from_config(
    config, names, models, image=inference_image, placement=placement, network=network, file_system=shared_fs
)
publisher = ModelPublisher("model", publisher_args, aws_opts)
if ui_lb:
    ui_image = ContainerImage("ui", ContainerImageArgs.from_config(config, "ui_image"), aws_opts)
    ui_args = StreamlitServiceArgs.from_config(
        config, names, ui_image, api=http_api, network=network, load_balancer=ui_lb
    )
    # On the whole load balancer, listeners included: ECS refuses a target group that no listener uses yet.
    ui_opts = pulumi.ResourceOptions.merge(aws_opts, pulumi.ResourceOptions(depends_on=[ui_lb]))
    ui_service = StreamlitService("ui", ui_args, ui_opts)

pulumi.export("api_url", http_api.api_endpoint)
pulumi.export("function_name", api_function.function_name)
pulumi.export("function_log_group", api_function.log_group_name)
pulumi.export("publisher_log_group", publisher.log_group_name)
pulumi.export("api_access_log_group", http_api.access_log_group_name)
pulumi.export("efs_id", shared_fs.file_system_id)
pulumi.export("model_bucket", publisher.bucket_name)
pulumi.export("inference_repository_url", inference_image.repository_url)
if ui_lb:
    pulumi.export("ui_url", ui_lb.url)
    pulumi.export("ui_log_group", ui_service.log_group_name)
    pulumi.export("ui_repository_url", ui_image.repository_url)
