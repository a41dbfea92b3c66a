"""The network under mocks: a new VPC with its S3 gateway endpoint and its policy, or an existing VPC used as
given; and the args' checks."""

from __future__ import annotations

import pytest

from infra.network.network import NetworkArgs, validate_network_args
from testing.pulumi_mocks import (
    ACCOUNT,
    REGION,
    S3_PREFIX_LIST,
    StackRun,
)
from tests.infra.registered import document
from tests.infra.variants import EXISTING_PRIVATE, EXISTING_PUBLIC


def test_new_vpc_has_the_configured_nat_and_an_s3_gateway_endpoint(dev_run: StackRun, prod_run: StackRun) -> None:
    """dev has no NAT gateway, prod one; both get an S3 gateway endpoint on the VPC's route tables."""
    assert dev_run.one("awsx:ec2:Vpc").inputs["natGateways"] == {"strategy": "None"}
    assert prod_run.one("awsx:ec2:Vpc").inputs["natGateways"] == {"strategy": "Single"}
    for run in (dev_run, prod_run):
        vpc = run.one("awsx:ec2:Vpc")
        assert sorted(spec["type"] for spec in vpc.inputs["subnetSpecs"]) == ["Private", "Public"], vpc.urn
        endpoint = run.one("aws:ec2/vpcEndpoint:VpcEndpoint", "network-s3")
        assert endpoint.inputs["serviceName"] == "com.amazonaws.eu-central-1.s3"
        assert endpoint.inputs["vpcEndpointType"] == "Gateway"
        zones = int(vpc.inputs["numberOfAvailabilityZones"])
        assert len(endpoint.inputs["routeTableIds"]) == 2 * zones, endpoint.urn


ENDPOINT_POLICY = "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy"


def test_fix_7_s3_endpoint_lets_through_only_the_stacks_buckets(dev_run: StackRun, prod_run: StackRun) -> None:
    """Fix 7: the gateway endpoint's policy allows list/read of the model bucket, writes of each model's LATEST
    object (the publisher's), and (UI on) reads of ECR's layers."""
    for run, ecr in ((dev_run, False), (prod_run, True)):
        policy = run.one("aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy", "network-s3")
        assert policy.inputs["vpcEndpointId"] == "network-s3-id"
        statements = document(policy)["Statement"]
        assert statements[0]["Resource"] == ["arn:aws:s3:::model-bucket", "arn:aws:s3:::model-bucket/*"]
        assert statements[0]["Action"] == ["s3:ListBucket", "s3:GetObject"]
        layers = [statement["Resource"] for statement in statements if statement["Sid"] == "ReadTheseObjects"]
        assert layers == ([[f"arn:aws:s3:::prod-{REGION}-starport-layer-bucket/*"]] if ecr else []), run.stack
        (writes,) = [statement for statement in statements if statement["Sid"] == "WriteTheseObjects"]
        assert (writes["Action"], writes["Resource"]) == (
            ["s3:PutObject"],
            ["arn:aws:s3:::model-bucket/models/*/LATEST"],
        )
        for statement in statements:
            assert "*" not in statement["Resource"] and not any("*" in action for action in statement["Action"])


def test_the_s3_endpoint_lets_the_stacks_buckets_through_only_for_this_account(prod_run: StackRun) -> None:
    """The stack's own buckets pass the endpoint only for this account's principals and while they are this
    account's; ECR's layer bucket (AWS's own, read through URLs ECR presigns) is named alone, with no account
    condition, so the UI tasks' image pulls keep working."""
    statements = {item["Sid"]: item for item in document(prod_run.one(ENDPOINT_POLICY, "network-s3"))["Statement"]}
    own = {"StringEquals": {"aws:PrincipalAccount": ACCOUNT, "aws:ResourceAccount": ACCOUNT}}
    assert statements["ListAndReadTheseBuckets"]["Condition"] == own
    layers = statements["ReadTheseObjects"]
    assert "Condition" not in layers and layers["Action"] == ["s3:GetObject"]
    assert layers["Resource"] == [f"arn:aws:s3:::prod-{REGION}-starport-layer-bucket/*"]


def test_fix_7_existing_vpc_has_no_endpoint_of_ours(existing_nat_run: StackRun) -> None:
    """An existing VPC's endpoints are its own: no endpoint and no endpoint policy are made there."""
    assert not existing_nat_run.of_type("aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy")


def test_existing_vpc_is_used_as_given(existing_run: StackRun) -> None:
    """No VPC or endpoint is created; functions, mount targets and the ALB use the named subnets."""
    assert not existing_run.of_type("awsx:ec2:Vpc")
    assert not existing_run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    for group in existing_run.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert group.inputs["vpcId"] == "vpc-0123456789abcdef0", group.urn
    targets = existing_run.of_type("aws:efs/mountTarget:MountTarget")
    assert sorted(target.inputs["subnetId"] for target in targets) == EXISTING_PRIVATE
    for function in existing_run.of_type("aws:lambda/function:Function"):
        assert function.inputs["vpcConfig"]["subnetIds"] == EXISTING_PRIVATE, function.urn
    assert existing_run.one("awsx:lb:ApplicationLoadBalancer").inputs["subnetIds"] == EXISTING_PUBLIC
    # Nothing says the existing private subnets have a NAT: the UI tasks take the public subnets and public IPs.
    network = existing_run.one("awsx:ecs:FargateService").inputs["networkConfiguration"]
    assert (network["subnets"], network["assignPublicIp"]) == (EXISTING_PUBLIC, True)


def test_existing_vpc_publisher_reaches_s3_through_the_looked_up_prefix_list(existing_run: StackRun) -> None:
    """Without an endpoint of its own, the publisher's HTTPS egress names the region's S3 prefix list, looked up."""
    rule = existing_run.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "model-publisher-https")
    assert rule.inputs["prefixListId"] == S3_PREFIX_LIST and "cidrIpv4" not in rule.inputs, rule.urn


def test_network_refuses_unknown_nat_and_existing_vpc_without_subnets() -> None:
    """NetworkArgs: the NAT strategy must be known; an existing VPC needs private subnets."""
    with pytest.raises(ValueError, match=r"NetworkArgs\.nat_strategy must be one of none, single, onePerAz"):
        validate_network_args(NetworkArgs(nat_strategy="some"))
    with pytest.raises(ValueError, match=r"NetworkArgs\.existing_private_subnet_ids"):
        validate_network_args(NetworkArgs(existing_vpc_id="vpc-1"))
