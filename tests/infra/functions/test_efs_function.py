"""The functions under mocks: the image by digest, the file system mounted through the access point, the
environment the handler reads, least-privilege roles; and the args' checks."""

from __future__ import annotations

import re

import pytest
import yaml

from inference.layout import DEFAULT_DATA_DIR
from inference.settings import Settings
from infra.config.limits import DOCKER_PLATFORMS
from infra.functions.efs_function import EfsFunctionArgs, FunctionPlacement, validate_efs_function_args
from testing.pulumi_mocks import (
    PROJECT,
    ROOT,
    StackRun,
)
from tests.infra.conftest import MODEL_NAME
from tests.infra.registered import FUNCTION, LOG_GROUP, MOUNT_TARGET, ROLE_POLICY, resource_id, setting, statements

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


def test_functions_run_the_image_by_digest_built_for_their_architecture(any_run: StackRun) -> None:
    """Both functions run the inference image as repo@sha256:..., built for the configured architecture's platform."""
    architecture = setting(any_run, "architecture", "x86_64")
    image = any_run.one("awsx:ecr:Image", "inference")
    assert image.inputs["platform"] == DOCKER_PLATFORMS[architecture], image.urn
    assert image.inputs["context"] == "inference_image", image.urn
    for function in any_run.of_type(FUNCTION):
        assert function.inputs["packageType"] == "Image", function.urn
        assert re.fullmatch(
            r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/inference@sha256:[0-9a-f]{64}", function.inputs["imageUri"]
        ), function.urn
        assert function.inputs["architectures"] == [architecture], function.urn


# Which access point (and so which POSIX identity) each function mounts, and whether its role may write.
ACCESS_POINTS = {
    "api": ("data-messages", True),
    "model-publisher": ("data", True),
    "retention": ("data-messages", True),
    "jobs-worker": ("data-reader", False),
}


def test_functions_mount_efs_at_the_data_root_through_the_access_point(any_run: StackRun) -> None:
    """Each function mounts its own identity's access point at /mnt/data (the API function the messages
    writer's, the publisher the models owner's), runs in the private subnets and is told DATA_DIR."""
    vpc = any_run.one("awsx:ec2:Vpc", "network")
    zones = int(vpc.inputs["numberOfAvailabilityZones"])
    for function in any_run.of_type(FUNCTION):
        if "fileSystemConfig" not in function.inputs:
            continue  # the jobs function, outside the VPC
        access_point = any_run.one("aws:efs/accessPoint:AccessPoint", ACCESS_POINTS[function.name][0])
        assert function.inputs["fileSystemConfig"] == {
            "arn": f"arn:aws:elasticfilesystem:eu-central-1:123456789012:access-point/{resource_id(access_point)}",
            "localMountPath": DEFAULT_DATA_DIR,
        }, function.urn
        assert function.inputs["vpcConfig"]["subnetIds"] == [f"subnet-private{i}" for i in range(zones)], function.urn
        assert function.inputs["environment"]["variables"]["DATA_DIR"] == DEFAULT_DATA_DIR, function.urn


def test_functions_depend_on_every_mount_target(any_run: StackRun) -> None:
    """A function created before its mount targets cannot mount EFS: each one depends on all of them explicitly."""
    mount_targets = {item.urn for item in any_run.of_type(MOUNT_TARGET)}
    assert mount_targets
    for function in any_run.of_type(FUNCTION):
        missing = mount_targets - set(function.dependencies)
        assert not missing, f"{function.urn} does not depend on {sorted(missing)}"


def test_api_function_settings_follow_the_config(any_run: StackRun) -> None:
    """Memory, timeout, reserved concurrency and the handler's environment come from the stack config."""
    function = any_run.one(FUNCTION, "api")
    assert function.inputs["name"] == f"{PROJECT}-{any_run.stack}-api"
    assert function.inputs["memorySize"] == int(setting(any_run, "memoryMb", "1024")), function.urn
    assert function.inputs["timeout"] == int(setting(any_run, "timeoutSeconds", "30")) <= 30, function.urn
    assert function.inputs["reservedConcurrentExecutions"] == int(setting(any_run, "reservedConcurrency", "-1"))
    assert function.inputs["environment"]["variables"] == {
        "DATA_DIR": DEFAULT_DATA_DIR,
        "DEFAULT_MODEL": MODEL_NAME,
        "MAX_TEXT_BYTES": "16384",
        "LEGACY_LISTING_LINES": "1000",
        "LOG_LEVEL": setting(any_run, "logLevel", "INFO"),
        "POWERTOOLS_SERVICE_NAME": f"{PROJECT}-{any_run.stack}",  # the stack's own, for its dashboard
        "POWERTOOLS_METRICS_NAMESPACE": PROJECT,
    }, function.urn


def test_handler_reads_the_environment_the_stack_gives_it(any_run: StackRun) -> None:
    """The handler's own settings parser accepts the API function's environment and sees the configured values."""
    variables = any_run.one(FUNCTION, "api").inputs["environment"]["variables"]
    settings = Settings.from_env(variables)
    assert str(settings.data_dir) == DEFAULT_DATA_DIR
    assert settings.default_model == MODEL_NAME
    assert settings.max_text_bytes == int(setting(any_run, "maxTextBytes", "16384"))
    assert settings.legacy_listing_lines == int(setting(any_run, "legacyListingLines", "1000"))


def test_function_roles_reach_only_their_own_log_group_and_this_file_system(any_run: StackRun) -> None:
    """Logs go to the function's own group; EFS mount/write is on this file system and needs the access point."""
    file_system = any_run.one("aws:efs/fileSystem:FileSystem", "data")
    for name in ("api", "model-publisher"):
        access_point = any_run.one("aws:efs/accessPoint:AccessPoint", ACCESS_POINTS[name][0])
        function = any_run.one(FUNCTION, name)
        log_group = any_run.one(LOG_GROUP, name)
        assert log_group.inputs["name"] == f"/aws/lambda/{function.inputs['name']}", log_group.urn
        found = {statement["Sid"]: statement for statement in statements(any_run.one(ROLE_POLICY, name))}
        log_arn = f"arn:aws:logs:eu-central-1:123456789012:log-group:{log_group.inputs['name']}"
        assert found["OwnLogGroup"]["Resource"] == [log_arn, f"{log_arn}:*"]
        mount = found["MountThroughAccessPoint"]
        assert mount["Action"] == ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
        assert mount["Resource"].endswith(f"file-system/{resource_id(file_system)}")
        assert mount["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"].endswith(
            resource_id(access_point)
        )
        assert (name == "model-publisher") == ("ReadPrefixes" in found), (
            f"only the publisher reads the model bucket ({name})"
        )


def test_fix_1_prod_example_reserves_no_concurrency(prod_run: StackRun) -> None:
    """Fix 1: reserving N needs a regional quota of N + 100; the prod example leaves the function unreserved."""
    stack = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]
    assert "efs-inference:reservedConcurrency" not in stack
    assert prod_run.one("aws:lambda/function:Function", "api").inputs["reservedConcurrentExecutions"] == -1


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
