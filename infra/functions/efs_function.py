"""A Lambda function from a container image, in the private subnets, with the shared file system mounted
at the data root through the access point, its own log group, and a role limited to those."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumi_aws as aws

from inference.layout import DEFAULT_DATA_DIR
from infra.building_blocks.iam import efs_client_statements, eni_statements
from infra.building_blocks.security_groups import https_out_group
from infra.config.limits import LAMBDA_MAX_TIMEOUT_SECONDS
from infra.config.model_dirs import ModelBundle
from infra.config.names import StackNames
from infra.config.schema import ObservabilityConfig, StackConfig
from infra.functions.lambda_function import (
    FunctionCode,
    FunctionComponent,
    function_problems,
    lambda_function,
    raise_first_problem,
)
from infra.images.container_image import ContainerImage
from infra.network.network import Network
from infra.storage.file_system import SharedFileSystem


@dataclass
class FunctionPlacement:
    """Where a function runs and what it mounts; shared by every function of the stack."""

    subnet_ids: pulumi.Input[Sequence[str]]
    security_group_ids: Sequence[pulumi.Input[str]]
    file_system_arn: pulumi.Input[str]
    access_point_arn: pulumi.Input[str]  # the one the function mounts (Lambda takes one): its POSIX identity
    mount_targets: Sequence[pulumi.Resource]  # the function waits for all of them, or its first mount fails
    writable: bool = True  # False: the role has no elasticfilesystem:ClientWrite, so EFS mounts it read-only
    messages_access_point_arn: pulumi.Input[str] | None = None
    reader_access_point_arn: pulumi.Input[str] | None = None

    @classmethod
    def in_private_subnets(cls, network: Network, file_system: SharedFileSystem) -> FunctionPlacement:
        """In the network's private subnets, as a client of the shared file system (whose NFS port admits only
        that), through the models' owner's access point: the publisher's. ``for_messages`` and ``read_only``
        give the other functions theirs."""
        return cls(
            subnet_ids=network.private_subnet_ids,
            security_group_ids=[file_system.client_security_group_id],
            file_system_arn=file_system.file_system_arn,
            access_point_arn=file_system.access_point_arn,
            mount_targets=file_system.mount_targets,
            messages_access_point_arn=file_system.messages_access_point_arn,
            reader_access_point_arn=file_system.reader_access_point_arn,
        )

    def for_messages(self) -> FunctionPlacement:
        """As the messages' writer (the API function, retention): messages/ read-write, models/ read-only."""
        assert self.messages_access_point_arn is not None, "placed without the file system's access points"
        return replace(self, access_point_arn=self.messages_access_point_arn)

    def read_only(self) -> FunctionPlacement:
        """As a reader of everything (the job worker): mounted read-only, by IAM as well as by POSIX."""
        assert self.reader_access_point_arn is not None, "placed without the file system's access points"
        return replace(self, access_point_arn=self.reader_access_point_arn, writable=False)

    def with_https_to_s3(
        self,
        group_name: str,
        *,
        vpc_id: pulumi.Input[str],
        s3_prefix_list_id: pulumi.Input[str],
        description: str,
        parent: pulumi.Resource,
    ) -> S3Access:
        """This placement plus a security group whose only rule lets HTTPS out to S3 (the shared placement allows
        NFS only), for a function that also reads or writes a bucket; the group and its rule are `parent`'s
        children named `group_name` and `<group_name>-https`."""
        group, rule = https_out_group(
            group_name,
            rule_name=f"{group_name}-https",
            vpc_id=vpc_id,
            description=description,
            prefix_list_id=s3_prefix_list_id,
            parent=parent,
        )
        return S3Access(replace(self, security_group_ids=[*self.security_group_ids, group.id]), group, rule)


@dataclass(frozen=True)
class S3Access:
    placement: FunctionPlacement
    security_group: aws.ec2.SecurityGroup
    https_egress: aws.vpc.SecurityGroupEgressRule  # a function that uses S3 at once waits for it


def common_environment(config: ObservabilityConfig) -> dict[str, str]:
    """What every function of the stack is told besides DATA_DIR: its log level, and the Powertools service and
    metrics namespace its logs and metrics carry (the stack's dashboard reads the same two)."""
    names = StackNames.of_current_stack()
    return {
        "LOG_LEVEL": config.log_level,
        "POWERTOOLS_SERVICE_NAME": names.metrics_service,
        "POWERTOOLS_METRICS_NAMESPACE": names.metrics_namespace,
    }


@dataclass
class EfsFunctionArgs:
    function_name: str  # physical name, fixed so that the program can own /aws/lambda/<name>
    image_uri: pulumi.Input[str]
    placement: FunctionPlacement
    architecture: str = "x86_64"
    memory_mb: int = 1024
    timeout_seconds: int = 30
    reserved_concurrency: int = -1  # -1: unreserved
    log_retention_days: int = 14
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    command: Sequence[str] | None = None  # another handler of the same image
    extra_statements: pulumi.Input[Sequence[Mapping[str, Any]]] | None = None

    @classmethod
    def api_from_config(
        cls,
        config: StackConfig,
        names: StackNames,
        image: ContainerImage,
        placement: FunctionPlacement,
        models: tuple[ModelBundle, ...],
    ) -> EfsFunctionArgs:
        """The API function: size and limits from config, and the handler's settings (inference.settings)."""
        return cls(
            function_name=names.api_function,
            image_uri=image.image_uri,
            placement=placement,
            architecture=config.function.architecture,
            memory_mb=config.function.memory_mb,
            timeout_seconds=config.function.timeout_seconds,
            reserved_concurrency=config.function.reserved_concurrency,
            log_retention_days=config.observability.log_retention_days,
            environment={
                **common_environment(config.observability),
                "DEFAULT_MODEL": config.model.default_model or models[0].name,
                "MAX_TEXT_BYTES": str(config.function.max_text_bytes),
                "LEGACY_LISTING_LINES": str(config.function.legacy_listing_lines),
            },
        )


def validate_efs_function_args(args: EfsFunctionArgs) -> None:
    problems = [
        *function_problems(args.function_name, args.architecture, args.memory_mb, args.log_retention_days),
        (not 1 <= args.timeout_seconds <= LAMBDA_MAX_TIMEOUT_SECONDS, "timeout_seconds must be from 1 to 900"),
        (args.reserved_concurrency < -1, "reserved_concurrency must be -1 (unreserved) or more"),
        (not args.placement.mount_targets, "placement.mount_targets must not be empty"),
    ]
    raise_first_problem("EfsFunctionArgs", problems)


class EfsFunction(FunctionComponent):
    def __init__(self, name: str, args: EfsFunctionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate_efs_function_args(args)
        super().__init__("efs-inference:efs_function:EfsFunction", name, None, opts)
        placement = args.placement

        code = FunctionCode(
            function_name=args.function_name,
            image_uri=args.image_uri,
            architecture=args.architecture,
            memory_mb=args.memory_mb,
            timeout_seconds=args.timeout_seconds,
            log_retention_days=args.log_retention_days,
            environment={"DATA_DIR": DEFAULT_DATA_DIR, **args.environment},
            command=args.command,
            reserved_concurrency=args.reserved_concurrency,
        )
        made = lambda_function(
            name,
            code,
            policy_inputs=[placement.file_system_arn, placement.access_point_arn, args.extra_statements or []],
            statements=lambda values: [
                *efs_client_statements(values[0], values[1], write=placement.writable),
                *eni_statements(),
                *values[2],
            ],
            parent=self,
            vpc_config=aws.lambda_.FunctionVpcConfigArgs(
                subnet_ids=placement.subnet_ids, security_group_ids=list(placement.security_group_ids)
            ),
            file_system_config=aws.lambda_.FunctionFileSystemConfigArgs(
                arn=placement.access_point_arn, local_mount_path=DEFAULT_DATA_DIR
            ),
            # The mount targets before the function, or Lambda cannot attach the file system.
            depends_on=placement.mount_targets,
        )
        self._hold(made)
