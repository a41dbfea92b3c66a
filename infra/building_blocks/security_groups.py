"""The two security-group shapes the components share. Rules are separate resources rather than inline
blocks, so each one can change without touching its group, and a group created without rules lets
nothing out (the provider removes AWS's default allow-all egress)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

HTTPS_PORT = 443


def allow_between_groups(
    port: int,
    *,
    source_group_id: pulumi.Input[str],
    target_group_id: pulumi.Input[str],
    egress_name: str,
    ingress_name: str,
    description: str,
    parent: pulumi.Resource,
) -> tuple[aws.vpc.SecurityGroupEgressRule, aws.vpc.SecurityGroupIngressRule]:
    """TCP `port` from one group to another and nothing else: egress on the source and ingress on the
    target, each naming the other group, never an address range."""
    child = pulumi.ResourceOptions(parent=parent)
    egress = aws.vpc.SecurityGroupEgressRule(
        egress_name,
        security_group_id=source_group_id,
        referenced_security_group_id=target_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=description,
        opts=child,
    )
    ingress = aws.vpc.SecurityGroupIngressRule(
        ingress_name,
        security_group_id=target_group_id,
        referenced_security_group_id=source_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=description,
        opts=child,
    )
    return egress, ingress


def https_out_group(
    name: str,
    *,
    rule_name: str,
    vpc_id: pulumi.Input[str],
    description: str,
    parent: pulumi.Resource,
    prefix_list_id: pulumi.Input[str] | None = None,
) -> tuple[aws.ec2.SecurityGroup, aws.vpc.SecurityGroupEgressRule]:
    """A group whose only rule lets HTTPS out: to an AWS-managed prefix list (e.g. S3's) when given,
    otherwise anywhere."""
    child = pulumi.ResourceOptions(parent=parent)
    group = aws.ec2.SecurityGroup(name, vpc_id=vpc_id, description=description, opts=child)
    rule = aws.vpc.SecurityGroupEgressRule(
        rule_name,
        security_group_id=group.id,
        prefix_list_id=prefix_list_id,
        cidr_ipv4=None if prefix_list_id is not None else "0.0.0.0/0",
        ip_protocol="tcp",
        from_port=HTTPS_PORT,
        to_port=HTTPS_PORT,
        opts=child,
    )
    return group, rule
