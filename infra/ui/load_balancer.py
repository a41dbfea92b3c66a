"""The UI's front door: an awsx Application Load Balancer in the public subnets with explicit security
groups (never awsx's open default), a target group health-checked on Streamlit's health endpoint, and
optionally HTTPS on the UI's domain name with an HTTP→HTTPS redirect, and then optionally a sign-in
(authenticate-cognito) before anything reaches the UI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from infra.building_blocks.security_groups import HTTPS_PORT, allow_between_groups
from infra.config.schema import UiAccessConfig, UiConfig
from infra.network.network import Network
from infra.ui.login import UiLogin

STREAMLIT_PORT = 8501
STREAMLIT_HEALTH_PATH = "/_stcore/health"
HTTPS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
STICKINESS_SECONDS = 24 * 3600  # a Streamlit session lives in one task's memory


@dataclass
class UiLoadBalancerArgs:
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[str]]
    ingress_cidrs: Sequence[str] = ("0.0.0.0/0",)
    certificate_arn: str | None = None  # HTTPS on 443, and port 80 redirects to it
    domain_name: str | None = None  # the name users reach the UI by (the certificate's); else the ALB's DNS name
    login: UiLogin | None = None  # sign users in with this Cognito pool before forwarding (HTTPS only)
    sticky_sessions: bool = False  # wanted as soon as more than one task serves the UI
    target_port: int = STREAMLIT_PORT
    health_check_path: str = STREAMLIT_HEALTH_PATH

    @classmethod
    def from_config(
        cls, config: UiConfig, access: UiAccessConfig, network: Network, login: UiLogin | None = None
    ) -> UiLoadBalancerArgs:
        """In the network's public subnets, signing users in with `login` when given."""
        return cls(
            vpc_id=network.vpc_id,
            subnet_ids=network.public_subnet_ids,
            ingress_cidrs=config.ingress_cidrs,
            certificate_arn=config.certificate_arn or None,
            domain_name=access.domain_name or None,
            login=login,
            sticky_sessions=config.desired_count > 1,
        )


def validate_ui_load_balancer_args(args: UiLoadBalancerArgs) -> None:
    if not args.ingress_cidrs:
        raise ValueError("UiLoadBalancerArgs.ingress_cidrs must list at least one CIDR block")
    if not 1 <= args.target_port <= 65535:
        raise ValueError(f"UiLoadBalancerArgs.target_port must be a TCP port, not {args.target_port}")
    if args.certificate_arn and not args.domain_name:
        raise ValueError("UiLoadBalancerArgs.domain_name must be set with certificate_arn (the name it certifies)")
    if args.login and not args.certificate_arn:
        raise ValueError("UiLoadBalancerArgs.login needs certificate_arn: a sign-in runs over HTTPS only")


def listener_ports(certificate_arn: str | None) -> tuple[int, ...]:
    return (80, 443) if certificate_arn else (80,)


class UiLoadBalancer(pulumi.ComponentResource):
    """Attach `target_security_group_id` to the UI tasks: it admits the target port from this ALB only."""

    url: pulumi.Output[str]  # on the domain name when there is one: the certificate never covers the ALB's name
    dns_name: pulumi.Output[str]  # the ALB's own name, for the domain's CNAME or alias record
    target_group_arn: pulumi.Output[str]
    target_security_group_id: pulumi.Output[str]
    # The dimensions CloudWatch's load balancer metrics carry (app/<name>/<id>, targetgroup/<name>/<id>).
    load_balancer_arn_suffix: pulumi.Output[str]
    target_group_arn_suffix: pulumi.Output[str]

    def __init__(self, name: str, args: UiLoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate_ui_load_balancer_args(args)
        super().__init__("efs-inference:ui_load_balancer:UiLoadBalancer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.security_group = aws.ec2.SecurityGroup(
            name, vpc_id=args.vpc_id, description="UI load balancer: HTTP(S) in, Streamlit out", opts=child
        )
        self.target_security_group = aws.ec2.SecurityGroup(
            f"{name}-targets",
            vpc_id=args.vpc_id,
            description="UI tasks: Streamlit from the load balancer only",
            opts=child,
        )
        self.ingress_rules = [
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-{port}-{index}",
                security_group_id=self.security_group.id,
                cidr_ipv4=cidr,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                opts=child,
            )
            for port in listener_ports(args.certificate_arn)
            for index, cidr in enumerate(args.ingress_cidrs)
        ]
        self.egress_rule, self.target_ingress_rule = allow_between_groups(
            args.target_port,
            source_group_id=self.security_group.id,
            target_group_id=self.target_security_group.id,
            egress_name=f"{name}-to-targets",
            ingress_name=f"{name}-targets-from-alb",
            description="Streamlit from the UI load balancer to its tasks",
            parent=self,
        )

        self.load_balancer = awsx.lb.ApplicationLoadBalancer(
            name,
            subnet_ids=args.subnet_ids,
            security_groups=[self.security_group.id],
            drop_invalid_header_fields=True,  # malformed headers never reach Streamlit (request smuggling)
            default_target_group=awsx.lb.TargetGroupArgs(
                vpc_id=args.vpc_id,
                port=args.target_port,
                protocol="HTTP",
                target_type="ip",
                deregistration_delay=30,
                health_check=aws.lb.TargetGroupHealthCheckArgs(
                    path=args.health_check_path, matcher="200", interval=15, healthy_threshold=2, unhealthy_threshold=3
                ),
                stickiness=aws.lb.TargetGroupStickinessArgs(
                    type="lb_cookie", enabled=args.sticky_sessions, cookie_duration=STICKINESS_SECONDS
                ),
            ),
            listeners=[self._http_listener(args.certificate_arn)],
            opts=child,
        )
        dns_name: pulumi.Output[str] = self.load_balancer.load_balancer.apply(lambda balancer: balancer.dns_name)
        scheme = "https" if args.certificate_arn else "http"
        self.dns_name = dns_name
        self.url = dns_name.apply(lambda dns: f"{scheme}://{args.domain_name or dns}")
        self.target_group_arn = self.load_balancer.default_target_group.apply(lambda group: group.arn)
        self.load_balancer_arn_suffix = self.load_balancer.load_balancer.apply(lambda balancer: balancer.arn_suffix)
        self.target_group_arn_suffix = self.load_balancer.default_target_group.apply(lambda group: group.arn_suffix)
        self.target_security_group_id = self.target_security_group.id
        if args.certificate_arn:
            self._https_listener(name, args)
        self.register_outputs(
            {
                "url": self.url,
                "dns_name": self.dns_name,
                "target_group_arn": self.target_group_arn,
                "target_security_group_id": self.target_security_group_id,
                "load_balancer_arn_suffix": self.load_balancer_arn_suffix,
                "target_group_arn_suffix": self.target_group_arn_suffix,
            }
        )

    @staticmethod
    def _http_listener(certificate_arn: str | None) -> awsx.lb.ListenerArgs:
        """Port 80: forwards to the default target group, or redirects to HTTPS when there is a certificate."""
        if not certificate_arn:
            return awsx.lb.ListenerArgs(port=80, protocol="HTTP")
        redirect = aws.lb.ListenerDefaultActionArgs(
            type="redirect",
            redirect=aws.lb.ListenerDefaultActionRedirectArgs(protocol="HTTPS", port="443", status_code="HTTP_301"),
        )
        return awsx.lb.ListenerArgs(port=80, protocol="HTTP", default_actions=[redirect])

    def _https_listener(self, name: str, args: UiLoadBalancerArgs) -> None:
        """Port 443, made here rather than by awsx: its actions name the target group, which awsx makes. With a
        login, the sign-in comes first and there is no path around it."""
        forward = aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=self.target_group_arn)
        actions = [forward]
        if args.login:
            sign_in = aws.lb.ListenerDefaultActionArgs(
                type="authenticate-cognito",
                order=1,
                authenticate_cognito=aws.lb.ListenerDefaultActionAuthenticateCognitoArgs(
                    user_pool_arn=args.login.user_pool_arn,
                    user_pool_client_id=args.login.client_id,
                    user_pool_domain=args.login.domain_prefix,
                    on_unauthenticated_request="authenticate",
                ),
            )
            forward = aws.lb.ListenerDefaultActionArgs(type="forward", order=2, target_group_arn=self.target_group_arn)
            actions = [sign_in, forward]
            # The load balancer itself calls Cognito's token endpoint over HTTPS.
            self.idp_egress = aws.vpc.SecurityGroupEgressRule(
                f"{name}-to-idp",
                security_group_id=self.security_group.id,
                cidr_ipv4="0.0.0.0/0",
                ip_protocol="tcp",
                from_port=HTTPS_PORT,
                to_port=HTTPS_PORT,
                description="Sign-in by the load balancer: HTTPS to the Cognito token endpoint",
                opts=pulumi.ResourceOptions(parent=self),
            )
        balancer_arn: pulumi.Output[str] = self.load_balancer.load_balancer.apply(lambda balancer: balancer.arn)
        self.https_listener = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=balancer_arn,
            port=HTTPS_PORT,
            protocol="HTTPS",
            certificate_arn=args.certificate_arn,
            ssl_policy=HTTPS_POLICY,
            default_actions=actions,
            opts=pulumi.ResourceOptions(parent=self),
        )
