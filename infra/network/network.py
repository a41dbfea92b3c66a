"""Where everything runs: a new VPC (awsx) with private and public subnets and an S3 gateway endpoint
limited to the buckets the stack reads, or an existing VPC and subnets named in config (checked up front:
one zone per subnet, in that VPC)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from infra.building_blocks.iam import s3_endpoint_document
from infra.config.checks import NAT_STRATEGIES, ConfigError
from infra.config.schema import NetworkConfig


@dataclass
class NetworkArgs:
    nat_strategy: str = "none"  # none | single | onePerAz (a new VPC only)
    availability_zones: int = 2
    cidr_block: str = "10.0.0.0/16"
    existing_vpc_id: str | None = None
    existing_private_subnet_ids: Sequence[str] = ()
    existing_public_subnet_ids: Sequence[str] = ()
    existing_private_subnet_egress: bool = False  # whether the existing private subnets have a NAT

    @classmethod
    def from_config(cls, config: NetworkConfig) -> NetworkArgs:
        return cls(
            nat_strategy=config.nat_strategy,
            availability_zones=config.availability_zones,
            cidr_block=config.vpc_cidr,
            existing_vpc_id=config.existing_vpc_id or None,
            existing_private_subnet_ids=config.existing_private_subnet_ids,
            existing_public_subnet_ids=config.existing_public_subnet_ids,
            existing_private_subnet_egress=config.existing_private_subnet_egress,
        )


def check_existing_subnets(config: NetworkConfig, ui_enabled: bool) -> None:
    """Look the existing subnets up before anything is registered: each list must lie in existingVpcId, one subnet
    per availability zone (EFS takes one mount target per zone; the load balancer's two or more, validated as
    listed, then span as many zones)."""
    if not config.existing_vpc_id:
        return
    lists = [("existingPrivateSubnetIds", config.existing_private_subnet_ids)]
    if ui_enabled:
        lists.append(("existingPublicSubnetIds", config.existing_public_subnet_ids))
    for key, subnet_ids in lists:
        zones: dict[str, list[str]] = {}
        for subnet_id in subnet_ids:
            subnet = aws.ec2.get_subnet(id=subnet_id)
            if subnet.vpc_id != config.existing_vpc_id:
                raise ConfigError(
                    key, subnet_id, f"a subnet of existingVpcId {config.existing_vpc_id} (it is in {subnet.vpc_id})"
                )
            zones.setdefault(subnet.availability_zone, []).append(subnet_id)
        shared = {zone: ids for zone, ids in zones.items() if len(ids) > 1}
        if shared:
            named = "; ".join(f"{', '.join(ids)} are all in {zone}" for zone, ids in sorted(shared.items()))
            raise ConfigError(key, list(subnet_ids), f"subnets in distinct availability zones ({named})")


def validate_network_args(args: NetworkArgs) -> None:
    if args.nat_strategy not in NAT_STRATEGIES:
        raise ValueError(
            f"NetworkArgs.nat_strategy must be one of {', '.join(NAT_STRATEGIES)}, not {args.nat_strategy!r}"
        )
    if args.existing_vpc_id and not args.existing_private_subnet_ids:
        raise ValueError("NetworkArgs.existing_private_subnet_ids must list a subnet when existing_vpc_id is set")


class Network(pulumi.ComponentResource):
    """Private subnets hold the functions and the file system's mount targets; public ones the UI's ALB."""

    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    public_subnet_ids: pulumi.Output[list[str]]
    s3_prefix_list_id: pulumi.Output[str]  # S3's address ranges in this region, for egress rules to S3 only
    s3_endpoint_id: pulumi.Output[str] | None  # the gateway endpoint of a new VPC; an existing VPC's are its own
    private_subnet_count: int  # known while the program runs, so one mount target per subnet can be declared
    private_egress: bool  # whether private subnets reach the internet (the UI tasks need it to pull images)

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate_network_args(args)
        super().__init__("efs-inference:network:Network", name, None, opts)
        if args.existing_vpc_id:
            self._adopt(args)
        else:
            self._create(name, args)
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "private_subnet_ids": self.private_subnet_ids,
                "public_subnet_ids": self.public_subnet_ids,
                "s3_prefix_list_id": self.s3_prefix_list_id,
            }
        )

    def _adopt(self, args: NetworkArgs) -> None:
        self.vpc_id = pulumi.Output.from_input(args.existing_vpc_id or "")
        self.private_subnet_ids = pulumi.Output.from_input(list(args.existing_private_subnet_ids))
        self.public_subnet_ids = pulumi.Output.from_input(list(args.existing_public_subnet_ids))
        self.private_subnet_count = len(args.existing_private_subnet_ids)
        self.private_egress = args.existing_private_subnet_egress  # the stack says so; it cannot be seen from here
        self.s3_endpoint_id = None
        self.s3_prefix_list_id = aws.ec2.get_prefix_list_output(
            name=self._s3_service_name(), opts=pulumi.InvokeOutputOptions(parent=self)
        ).id

    def _create(self, name: str, args: NetworkArgs) -> None:
        self.vpc = awsx.ec2.Vpc(
            name,
            cidr_block=args.cidr_block,
            number_of_availability_zones=args.availability_zones,
            # Explicit, so awsx never warns about its legacy default and the layout never shifts under us.
            subnet_strategy=awsx.ec2.SubnetAllocationStrategy.AUTO,
            # Each zone's share of the range is split evenly between one private and one public subnet.
            subnet_specs=[
                awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PRIVATE),
                awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PUBLIC),
            ],
            # Default none: NAT gateways cost ~$33/month each while idle, and the function needs only EFS and S3.
            nat_gateways=awsx.ec2.NatGatewayConfigurationArgs(
                strategy=awsx.ec2.NatGatewayStrategy(NAT_STRATEGIES[args.nat_strategy])
            ),
            enable_dns_hostnames=True,
            enable_dns_support=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.vpc_id = self.vpc.vpc_id
        self.private_subnet_ids = self.vpc.private_subnet_ids.apply(list)
        self.public_subnet_ids = self.vpc.public_subnet_ids.apply(list)
        self.private_subnet_count = args.availability_zones
        self.private_egress = args.nat_strategy != "none"
        route_table_ids: pulumi.Output[list[str]] = self.vpc.route_tables.apply(_route_table_ids)
        # Free, and the model publisher's only way to S3 when there is no NAT.
        self.s3_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=self.vpc_id,
            service_name=self._s3_service_name(),
            vpc_endpoint_type="Gateway",
            route_table_ids=route_table_ids,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Taken from the endpoint, so that a rule naming it also waits for the route to S3.
        self.s3_prefix_list_id = self.s3_endpoint.prefix_list_id
        self.s3_endpoint_id = self.s3_endpoint.id

    def limit_s3_endpoint(
        self,
        name: str,
        read_bucket_arns: Sequence[pulumi.Input[str]],
        read_object_arns: Sequence[pulumi.Input[str]] = (),
        read_write_bucket_arns: Sequence[pulumi.Input[str]] = (),
        write_object_arns: Sequence[pulumi.Input[str]] = (),
    ) -> aws.ec2.VpcEndpointPolicy | None:
        """Let through the S3 gateway endpoint only reads of these buckets and objects, reads and writes of the
        read-write buckets, and writes of these objects, the stack's own buckets only for this account's principals
        while they are this account's (the default policy lets any principal in the VPC reach any bucket in the
        world). Nothing to do in an existing VPC."""
        if self.s3_endpoint_id is None:
            return None
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        policy = pulumi.Output.all(
            account_id,
            pulumi.Output.all(*read_bucket_arns),
            pulumi.Output.all(*read_object_arns),
            pulumi.Output.all(*read_write_bucket_arns),
            pulumi.Output.all(*write_object_arns),
        ).apply(
            lambda got: json.dumps(s3_endpoint_document(got[0], list(got[1]), list(got[2]), list(got[3]), list(got[4])))
        )
        self.s3_endpoint_policy = aws.ec2.VpcEndpointPolicy(
            name, vpc_endpoint_id=self.s3_endpoint_id, policy=policy, opts=pulumi.ResourceOptions(parent=self)
        )
        return self.s3_endpoint_policy

    def _s3_service_name(self) -> pulumi.Output[str]:
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        return region.apply(lambda region: f"com.amazonaws.{region}.s3")


def _route_table_ids(tables: Sequence[aws.ec2.RouteTable]) -> pulumi.Output[list[str]]:
    return pulumi.Output.all(*[table.id for table in tables])
