"""Config choices that neither example stack makes: HTTPS for the UI without NAT, and an existing VPC and
file system."""

from __future__ import annotations

import json

import pytest

from tests.infra.conftest import StackConfigFactory
from tests.infra.harness import REGION, S3_PREFIX_LIST, StackRun, run_program

CERTIFICATE = "arn:aws:acm:eu-central-1:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100"
UI_DOMAIN = "ui.example.com"
EXISTING_SUBNETS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
EXISTING_PUBLIC_SUBNETS = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"]


@pytest.fixture(scope="module")
def https_ui_run(stack_config: StackConfigFactory) -> StackRun:
    config = stack_config(
        "dev",
        uiEnabled="true",
        uiCertificateArn=CERTIFICATE,
        uiDomainName=UI_DOMAIN,
        uiIngressCidrs=json.dumps(["203.0.113.0/24"]),
        corsAllowOrigins=json.dumps(["https://app.example.com"]),
    )
    config["aws:profile"] = "demo"
    return run_program(config, "dev")


@pytest.fixture(scope="module")
def existing_run(stack_config: StackConfigFactory) -> StackRun:
    config = stack_config(
        "prod",
        natStrategy="none",
        existingVpcId="vpc-0123456789abcdef0",
        existingPrivateSubnetIds=json.dumps(EXISTING_SUBNETS),
        existingPublicSubnetIds=json.dumps(EXISTING_PUBLIC_SUBNETS),
        existingFileSystemId="fs-0123456789abcdef0",
    )
    return run_program(config, "prod")


def test_https_listener_with_redirect_from_http(https_ui_run: StackRun) -> None:
    """With a certificate, 443 serves HTTPS with it and 80 redirects to HTTPS; both open only to uiIngressCidrs."""
    balancer = https_ui_run.one("awsx:lb:ApplicationLoadBalancer", "ui")
    [http] = balancer.inputs["listeners"]
    assert (http["port"], http["defaultActions"][0]["type"]) == (80, "redirect")
    assert http["defaultActions"][0]["redirect"] == {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}
    https = https_ui_run.one("aws:lb/listener:Listener", "ui-https").inputs
    assert (https["port"], https["protocol"], https["certificateArn"]) == (443, "HTTPS", CERTIFICATE)
    assert https["loadBalancerArn"].endswith("loadbalancer/app/ui")
    [forward] = https["defaultActions"]
    assert forward["type"] == "forward" and forward["targetGroupArn"].endswith("targetgroup/ui")
    rules = [
        rule
        for rule in https_ui_run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if rule.inputs["securityGroupId"] == "ui-id"
    ]
    assert sorted((rule.inputs["fromPort"], rule.inputs["cidrIpv4"]) for rule in rules) == [
        (80, "203.0.113.0/24"),
        (443, "203.0.113.0/24"),
    ]


def test_ui_without_nat_runs_in_public_subnets_with_public_ips(https_ui_run: StackRun) -> None:
    """Without NAT the tasks take public IPs in the public subnets (to pull the image and reach the API)."""
    network = https_ui_run.one("awsx:ecs:FargateService", "ui").inputs["networkConfiguration"]
    assert network["subnets"] == ["subnet-public0", "subnet-public1"]
    assert network["assignPublicIp"] is True


def test_single_ui_task_is_not_sticky(https_ui_run: StackRun) -> None:
    """Stickiness is only turned on when more than one task serves the UI."""
    target_group = https_ui_run.one("awsx:lb:ApplicationLoadBalancer", "ui").inputs["defaultTargetGroup"]
    assert target_group["stickiness"]["enabled"] is False


def test_cors_admits_only_the_configured_origins_with_signing_headers(https_ui_run: StackRun) -> None:
    """corsAllowOrigins (for a browser-side client) and nothing else; SigV4's and a token's headers are allowed."""
    cors = https_ui_run.one("aws:apigatewayv2/api:Api", "http").inputs["corsConfiguration"]
    assert cors["allowOrigins"] == ["https://app.example.com"]
    assert {"authorization", "x-amz-date", "x-amz-security-token"} <= set(cors["allowHeaders"])


def test_ui_url_is_on_the_domain_name_the_certificate_covers(https_ui_run: StackRun) -> None:
    """With HTTPS, ui_url is https://<uiDomainName> (the certificate never covers the ALB's own name), and the ALB's
    name is exported for the CNAME."""
    assert https_ui_run.outputs["ui_url"] == f"https://{UI_DOMAIN}"
    assert https_ui_run.outputs["ui_load_balancer_dns_name"] == "ui.eu-central-1.elb.amazonaws.com"


def test_existing_vpc_is_used_as_given(existing_run: StackRun) -> None:
    """No VPC or endpoint is created; functions, mount targets and the ALB use the named subnets."""
    assert not existing_run.of_type("awsx:ec2:Vpc")
    assert not existing_run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    for group in existing_run.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert group.inputs["vpcId"] == "vpc-0123456789abcdef0", group.urn
    targets = existing_run.of_type("aws:efs/mountTarget:MountTarget")
    assert sorted(target.inputs["subnetId"] for target in targets) == EXISTING_SUBNETS
    for function in existing_run.of_type("aws:lambda/function:Function"):
        assert function.inputs["vpcConfig"]["subnetIds"] == EXISTING_SUBNETS, function.urn
    assert existing_run.one("awsx:lb:ApplicationLoadBalancer").inputs["subnetIds"] == EXISTING_PUBLIC_SUBNETS
    # Nothing says the existing private subnets have a NAT: the UI tasks take the public subnets and public IPs.
    network = existing_run.one("awsx:ecs:FargateService").inputs["networkConfiguration"]
    assert (network["subnets"], network["assignPublicIp"]) == (EXISTING_PUBLIC_SUBNETS, True)


def test_existing_file_system_is_mounted_not_created(existing_run: StackRun) -> None:
    """existingFileSystemId: no new file system; the mount targets, access point, policy and IAM name that one."""
    assert not existing_run.of_type("aws:efs/fileSystem:FileSystem")
    for type_token in (
        "aws:efs/mountTarget:MountTarget",
        "aws:efs/accessPoint:AccessPoint",
        "aws:efs/fileSystemPolicy:FileSystemPolicy",
    ):
        for item in existing_run.of_type(type_token):
            assert item.inputs["fileSystemId"] == "fs-0123456789abcdef0", item.urn
    assert existing_run.outputs["efs_id"] == "fs-0123456789abcdef0"
    policy = json.loads(existing_run.one("aws:iam/rolePolicy:RolePolicy", "api").inputs["policy"])
    mount = next(statement for statement in policy["Statement"] if statement["Sid"] == "MountThroughAccessPoint")
    assert mount["Resource"].endswith("file-system/fs-0123456789abcdef0")


def test_provider_passes_the_stacks_aws_region_and_profile_on(https_ui_run: StackRun) -> None:
    """An explicit provider ignores aws:* config unless the program passes it: region and profile are passed."""
    provider = https_ui_run.one("pulumi:providers:aws", "aws")
    assert (provider.inputs["region"], provider.inputs["profile"]) == (REGION, "demo"), provider.urn


def test_existing_vpc_publisher_reaches_s3_through_the_looked_up_prefix_list(existing_run: StackRun) -> None:
    """Without an endpoint of its own, the publisher's HTTPS egress names the region's S3 prefix list, looked up."""
    rule = existing_run.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "model-publisher-https")
    assert rule.inputs["prefixListId"] == S3_PREFIX_LIST and "cidrIpv4" not in rule.inputs, rule.urn
