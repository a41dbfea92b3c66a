"""The UI's load balancer under mocks: public, health-checked, sticky with two tasks, HTTPS with a redirect when
there is a certificate; and the args' checks."""

from __future__ import annotations

import pytest

from infra.ui.load_balancer import UiLoadBalancerArgs, listener_ports, validate_ui_load_balancer_args
from testing.pulumi_mocks import StackRun
from tests.infra.registered import (
    INGRESS,
    SECURITY_GROUP,
    resource_id,
)
from tests.infra.variants import CERTIFICATE, UI_DOMAIN


def test_ui_load_balancer_is_public_health_checked_and_sticky(prod_run: StackRun) -> None:
    """prod's ALB: public subnets, its own security group, /_stcore/health on 8501, sticky with two tasks."""
    balancer = prod_run.one("awsx:lb:ApplicationLoadBalancer", "ui")
    assert balancer.inputs["subnetIds"] == ["subnet-public0", "subnet-public1", "subnet-public2"]
    assert balancer.inputs["securityGroups"] == ["ui-id"], "awsx's open default security group must not be used"
    target_group = balancer.inputs["defaultTargetGroup"]
    assert target_group["port"] == 8501 and target_group["targetType"] == "ip"
    assert target_group["healthCheck"]["path"] == "/_stcore/health"
    assert target_group["stickiness"]["enabled"] is True
    assert balancer.inputs["listeners"] == [{"port": 80, "protocol": "HTTP"}]


def test_ui_load_balancer_drops_invalid_headers(prod_run: StackRun) -> None:
    """Requests with malformed header fields never reach Streamlit (a request-smuggling guard)."""
    assert prod_run.one("awsx:lb:ApplicationLoadBalancer", "ui").inputs["dropInvalidHeaderFields"] is True


def test_ui_tasks_admit_traffic_only_from_the_load_balancer(prod_run: StackRun) -> None:
    """The tasks' only ingress rule is Streamlit's port from the ALB's group; the ALB may only reach that port."""
    tasks_group = prod_run.one(SECURITY_GROUP, "ui-targets")
    rules = [rule for rule in prod_run.of_type(INGRESS) if rule.inputs["securityGroupId"] == resource_id(tasks_group)]
    assert [(rule.inputs["referencedSecurityGroupId"], rule.inputs["fromPort"]) for rule in rules] == [("ui-id", 8501)]
    service = prod_run.one("awsx:ecs:FargateService", "ui")
    assert service.inputs["networkConfiguration"]["securityGroups"] == ["ui-targets-id", "ui-tasks-id"]
    egress = prod_run.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "ui-to-targets")
    assert (egress.inputs["referencedSecurityGroupId"], egress.inputs["fromPort"]) == ("ui-targets-id", 8501)


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


def test_single_ui_task_is_not_sticky(https_ui_run: StackRun) -> None:
    """Stickiness is only turned on when more than one task serves the UI."""
    target_group = https_ui_run.one("awsx:lb:ApplicationLoadBalancer", "ui").inputs["defaultTargetGroup"]
    assert target_group["stickiness"]["enabled"] is False


def test_ui_url_is_on_the_domain_name_the_certificate_covers(https_ui_run: StackRun) -> None:
    """With HTTPS, ui_url is https://<uiDomainName> (the certificate never covers the ALB's own name), and the ALB's
    name is exported for the CNAME."""
    assert https_ui_run.outputs["ui_url"] == f"https://{UI_DOMAIN}"
    assert https_ui_run.outputs["ui_load_balancer_dns_name"] == "ui.eu-central-1.elb.amazonaws.com"


def test_ui_load_balancer_listens_on_https_only_with_a_certificate() -> None:
    """Port 80 always (a redirect when HTTPS is on), 443 with a certificate; ingress ranges are required."""
    assert listener_ports(None) == (80,)
    assert listener_ports("arn:aws:acm:x") == (80, 443)
    with pytest.raises(ValueError, match="ingress_cidrs"):
        validate_ui_load_balancer_args(UiLoadBalancerArgs(vpc_id="v", subnet_ids=["s"], ingress_cidrs=()))
