"""The Streamlit UI on Fargate (awsx FargateService) behind the UI load balancer's target group, told
where the API is through `API_URL` and how to call it through `API_AUTH`: with `iam` it signs each call
with its task role, which may invoke the routes the UI's clients call and nothing else
(infra/ui/api_routes.py). A circuit breaker rolls back a deploy
that never gets healthy (the old app's redeploys hung instead); see docs/DEPLOY.md for what `pulumi up`
then reports. A log group with retention."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from inference.routes import Route
from infra.api.http_api import HttpApi
from infra.building_blocks.iam import assume_role_document, document, invoke_routes_statements
from infra.building_blocks.security_groups import https_out_group
from infra.config.limits import FARGATE_CPU_ARCHITECTURES, FARGATE_MEMORY_MB, LOG_RETENTION_DAYS
from infra.config.names import StackNames
from infra.config.schema import StackConfig
from infra.images.container_image import ContainerImage
from infra.network.network import Network
from infra.ui.api_routes import invoke_arn, routes_called
from infra.ui.load_balancer import STREAMLIT_PORT, UiLoadBalancer

CONTAINER_NAME = "ui"
UI_API_AUTH_MODES = ("iam", "none")  # what ui.api_client can do: sign with the task role, or not
HEALTH_CHECK_GRACE_SECONDS = 60  # Streamlit answers its health check a few seconds after start


@dataclass
class StreamlitServiceArgs:
    image_uri: pulumi.Input[str]
    api_url: pulumi.Input[str]
    api_execution_arn: pulumi.Input[str]  # the one API the task role may invoke
    region: pulumi.Input[str]  # where the API is, for the SigV4 signature's scope
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[str]]
    target_group_arn: pulumi.Input[str]
    target_security_group_id: pulumi.Input[str]  # admits the container port from the load balancer only
    log_group_name: str
    assign_public_ip: bool = False  # needed in public subnets when there is no NAT, to pull the image
    architecture: str = "x86_64"
    cpu: int = 256
    memory_mb: int = 512
    desired_count: int = 1
    log_retention_days: int = 14
    api_auth: str = "iam"  # iam: sign every call with the task role's credentials; none: plain calls
    api_routes: Sequence[Route] = ()  # the routes the task role may invoke: those the UI's clients call

    @classmethod
    def from_config(
        cls,
        config: StackConfig,
        names: StackNames,
        image: ContainerImage,
        *,
        api: HttpApi,
        network: Network,
        load_balancer: UiLoadBalancer,
        region: pulumi.Input[str],
    ) -> StreamlitServiceArgs:
        """Behind `load_balancer`; in the private subnets when they have egress, else in the public ones with
        public IPs (without NAT a private task could neither pull its image nor reach the API)."""
        private = network.private_egress
        return cls(
            image_uri=image.image_uri,
            api_url=api.api_endpoint,
            api_execution_arn=api.execution_arn,
            api_routes=routes_called(),
            region=region,
            api_auth=api.auth,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids if private else network.public_subnet_ids,
            assign_public_ip=not private,
            target_group_arn=load_balancer.target_group_arn,
            target_security_group_id=load_balancer.target_security_group_id,
            log_group_name=names.ui_log_group,
            architecture=config.function.architecture,
            cpu=config.ui.cpu,
            memory_mb=config.ui.memory_mb,
            desired_count=config.ui.desired_count,
            log_retention_days=config.observability.log_retention_days,
        )


def validate_streamlit_service_args(args: StreamlitServiceArgs) -> None:
    if args.architecture not in FARGATE_CPU_ARCHITECTURES:
        raise ValueError(
            f"StreamlitServiceArgs.architecture must be one of {', '.join(FARGATE_CPU_ARCHITECTURES)}, "
            f"not {args.architecture!r}"
        )
    if args.memory_mb not in FARGATE_MEMORY_MB.get(args.cpu, ()):
        raise ValueError(f"StreamlitServiceArgs: cpu={args.cpu} with memory_mb={args.memory_mb} is not a Fargate size")
    if args.desired_count < 1:
        raise ValueError(f"StreamlitServiceArgs.desired_count must be at least 1, not {args.desired_count}")
    if args.log_retention_days not in LOG_RETENTION_DAYS:
        raise ValueError(
            f"StreamlitServiceArgs.log_retention_days must be a CloudWatch value, not {args.log_retention_days}"
        )
    if args.api_auth not in UI_API_AUTH_MODES:
        raise ValueError(
            f"StreamlitServiceArgs.api_auth must be one of {', '.join(UI_API_AUTH_MODES)}, not {args.api_auth!r}"
        )
    if not args.api_routes:
        raise ValueError("StreamlitServiceArgs.api_routes must name the routes the UI calls (api_routes.routes_called)")


class StreamlitService(pulumi.ComponentResource):
    log_group_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]  # where to look for a deploy the circuit breaker rolled back (docs/DEPLOY.md)
    cluster_name: pulumi.Output[str]  # with service_name, the dimensions of the tasks' CPU and memory metrics
    service_name: pulumi.Output[str]

    def __init__(self, name: str, args: StreamlitServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate_streamlit_service_args(args)
        super().__init__("efs-inference:streamlit_service:StreamlitService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.cluster = aws.ecs.Cluster(name, opts=child)
        self.log_group = aws.cloudwatch.LogGroup(
            name, name=args.log_group_name, retention_in_days=args.log_retention_days, opts=child
        )
        # The tasks call the API and pull their image over HTTPS; nothing else leaves them.
        self.security_group, self.https_egress = https_out_group(
            f"{name}-tasks",
            rule_name=f"{name}-https",
            vpc_id=args.vpc_id,
            description="UI tasks: HTTPS out to the API and ECR",
            parent=self,
        )
        # The containers' own role (not the execution role, which pulls the image): the routes the UI calls, no other.
        self.task_role = aws.iam.Role(
            f"{name}-task", assume_role_policy=json.dumps(assume_role_document("ecs-tasks.amazonaws.com")), opts=child
        )
        self.task_role_policy = aws.iam.RolePolicy(
            f"{name}-task",
            role=self.task_role.id,
            policy=pulumi.Output.from_input(args.api_execution_arn).apply(
                lambda arn: json.dumps(
                    document(invoke_routes_statements([invoke_arn(arn, route) for route in args.api_routes]))
                )
            ),
            opts=child,
        )
        environment = [
            awsx.ecs.TaskDefinitionKeyValuePairArgs(name="API_URL", value=args.api_url),
            awsx.ecs.TaskDefinitionKeyValuePairArgs(name="API_AUTH", value=args.api_auth),
            awsx.ecs.TaskDefinitionKeyValuePairArgs(name="API_REGION", value=args.region),
        ]
        self.service = awsx.ecs.FargateService(
            name,
            cluster=self.cluster.arn,
            desired_count=args.desired_count,
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=args.subnet_ids,
                security_groups=[args.target_security_group_id, self.security_group.id],
                assign_public_ip=args.assign_public_ip,
            ),
            load_balancers=[
                aws.ecs.ServiceLoadBalancerArgs(
                    target_group_arn=args.target_group_arn, container_name=CONTAINER_NAME, container_port=STREAMLIT_PORT
                )
            ],
            health_check_grace_period_seconds=HEALTH_CHECK_GRACE_SECONDS,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            task_definition_args=awsx.ecs.FargateServiceTaskDefinitionArgs(
                cpu=str(args.cpu),
                memory=str(args.memory_mb),
                runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                    cpu_architecture=FARGATE_CPU_ARCHITECTURES[args.architecture], operating_system_family="LINUX"
                ),
                task_role=awsx.awsx.DefaultRoleWithPolicyArgs(role_arn=self.task_role.arn),
                log_group=awsx.awsx.DefaultLogGroupArgs(
                    existing=awsx.awsx.ExistingLogGroupArgs(name=self.log_group.name)
                ),
                containers={
                    CONTAINER_NAME: awsx.ecs.TaskDefinitionContainerDefinitionArgs(
                        name=CONTAINER_NAME,
                        image=args.image_uri,
                        essential=True,
                        port_mappings=[awsx.ecs.TaskDefinitionPortMappingArgs(container_port=STREAMLIT_PORT)],
                        environment=environment,
                    )
                },
            ),
            # The first task must be able to sign its calls.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.task_role_policy]),
        )
        self.log_group_name = self.log_group.name
        self.cluster_arn = self.cluster.arn
        self.cluster_name = self.cluster.name
        self.service_name = self.service.service.apply(lambda service: service.name)
        self.register_outputs(
            {
                "log_group_name": self.log_group_name,
                "cluster_arn": self.cluster_arn,
                "cluster_name": self.cluster_name,
                "service_name": self.service_name,
            }
        )
