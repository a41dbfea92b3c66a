"""Each component checks its arguments before creating anything; the checks are plain functions."""

from __future__ import annotations

import pytest

from inference.routes import ROUTE_KEYS
from infra.api.http_api import HttpApiArgs, route_child_name, validate_http_api_args
from infra.functions.efs_function import EfsFunctionArgs, FunctionPlacement, validate_efs_function_args
from infra.images.container_image import ContainerImageArgs, lifecycle_policy, validate_container_image_args
from infra.network.network import NetworkArgs, validate_network_args
from infra.storage.file_system import SharedFileSystemArgs, validate_shared_file_system_args
from infra.ui.load_balancer import UiLoadBalancerArgs, listener_ports, validate_ui_load_balancer_args
from infra.ui.streamlit_service import StreamlitServiceArgs, validate_streamlit_service_args

PLACEMENT = FunctionPlacement(
    subnet_ids=["subnet-1"],
    security_group_ids=["sg-1"],
    file_system_arn="arn:fs",
    access_point_arn="arn:ap",
    mount_targets=[],
)


def function_args(**changes: object) -> EfsFunctionArgs:
    args = EfsFunctionArgs(function_name="f", image_uri="repo@sha256:0", placement=PLACEMENT)
    for field, value in changes.items():
        setattr(args, field, value)
    return args


def test_network_refuses_unknown_nat_and_existing_vpc_without_subnets() -> None:
    """NetworkArgs: the NAT strategy must be known; an existing VPC needs private subnets."""
    with pytest.raises(ValueError, match=r"NetworkArgs\.nat_strategy must be one of none, single, onePerAz"):
        validate_network_args(NetworkArgs(nat_strategy="some"))
    with pytest.raises(ValueError, match=r"NetworkArgs\.existing_private_subnet_ids"):
        validate_network_args(NetworkArgs(existing_vpc_id="vpc-1"))


def test_file_system_needs_a_subnet_and_a_known_throughput_mode() -> None:
    """SharedFileSystemArgs: at least one subnet; throughput elastic or bursting."""
    with pytest.raises(ValueError, match="subnet_count must be at least 1"):
        validate_shared_file_system_args(SharedFileSystemArgs(vpc_id="v", subnet_ids=[], subnet_count=0))
    with pytest.raises(ValueError, match="throughput_mode must be one of elastic, bursting"):
        validate_shared_file_system_args(
            SharedFileSystemArgs(vpc_id="v", subnet_ids=["s"], subnet_count=1, throughput_mode="max")
        )


def test_function_checks_name_memory_timeout_and_mount_targets() -> None:
    """EfsFunctionArgs: Lambda's limits, and no function without the mount targets it must wait for."""
    cases: list[tuple[dict[str, object], str]] = [
        ({"function_name": "x" * 65}, "function_name"),
        ({"memory_mb": 64}, "memory_mb"),
        ({"timeout_seconds": 901}, "timeout_seconds"),
        ({"architecture": "mips"}, "architecture"),
        ({"log_retention_days": 2}, "log_retention_days"),
        ({}, "placement.mount_targets"),
    ]
    for changes, fragment in cases:
        with pytest.raises(ValueError, match=rf"EfsFunctionArgs\.{fragment}"):
            validate_efs_function_args(function_args(**changes))


def test_http_api_refuses_timeouts_beyond_the_integration_ceiling_and_duplicate_routes() -> None:
    """HttpApiArgs: timeout 1-30 s, and each route key once."""

    def api_args(route_keys: tuple[str, ...] = ROUTE_KEYS, timeout_seconds: int = 30) -> HttpApiArgs:
        return HttpApiArgs(
            function_arn="arn",
            function_name="f",
            access_log_group_name="/logs",
            route_keys=route_keys,
            timeout_seconds=timeout_seconds,
        )

    validate_http_api_args(api_args())
    with pytest.raises(ValueError, match="timeout_seconds must be from 1 to 30"):
        validate_http_api_args(api_args(timeout_seconds=31))
    with pytest.raises(ValueError, match="without duplicates"):
        validate_http_api_args(api_args(route_keys=("GET /a", "GET /a")))


def test_route_names_are_stable_slugs_of_the_route_keys() -> None:
    """Route resources are named from their keys only, all distinct."""
    assert route_child_name("http", "POST /models/{name}/predict") == "http-post-models-name-predict"
    assert route_child_name("http", "$default") == "http-default"
    assert len({route_child_name("http", key) for key in ROUTE_KEYS}) == len(ROUTE_KEYS)


def test_container_image_checks_platform_and_retention() -> None:
    """ContainerImageArgs: a Lambda-compatible platform and at least one kept image; the policy expires the rest."""
    with pytest.raises(ValueError, match="platform must be one of linux/amd64, linux/arm64"):
        validate_container_image_args(ContainerImageArgs(context="c", platform="windows/amd64"))
    with pytest.raises(ValueError, match="keep_images must be at least 1"):
        validate_container_image_args(ContainerImageArgs(context="c", platform="linux/amd64", keep_images=0))
    [rule] = lifecycle_policy(5)["rules"]
    assert rule["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5}


def test_ui_load_balancer_listens_on_https_only_with_a_certificate() -> None:
    """Port 80 always (a redirect when HTTPS is on), 443 with a certificate; ingress ranges are required."""
    assert listener_ports(None) == (80,)
    assert listener_ports("arn:aws:acm:x") == (80, 443)
    with pytest.raises(ValueError, match="ingress_cidrs"):
        validate_ui_load_balancer_args(UiLoadBalancerArgs(vpc_id="v", subnet_ids=["s"], ingress_cidrs=()))


def test_streamlit_service_needs_a_fargate_size() -> None:
    """StreamlitServiceArgs: cpu and memory must form a Fargate size; at least one task."""

    def service_args(memory_mb: int = 512, desired_count: int = 1) -> StreamlitServiceArgs:
        return StreamlitServiceArgs(
            image_uri="i",
            api_url="u",
            api_execution_arn="arn",
            region="eu-central-1",
            vpc_id="v",
            subnet_ids=["s"],
            target_group_arn="tg",
            target_security_group_id="sg",
            log_group_name="/ecs/ui",
            memory_mb=memory_mb,
            desired_count=desired_count,
        )

    validate_streamlit_service_args(service_args())
    with pytest.raises(ValueError, match="cpu=256 with memory_mb=4096"):
        validate_streamlit_service_args(service_args(memory_mb=4096))
    with pytest.raises(ValueError, match="desired_count must be at least 1"):
        validate_streamlit_service_args(service_args(desired_count=0))
