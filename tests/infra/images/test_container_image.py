"""The container images under mocks: scanned, expiring, force-deleted only when allowed; and the args' checks."""

from __future__ import annotations

import json

import pytest

from infra.images.container_image import ContainerImageArgs, lifecycle_policy, validate_container_image_args
from testing.pulumi_mocks import StackRun
from tests.infra.registered import (
    setting,
)


def test_repositories_scan_on_push_expire_old_images_and_force_delete_only_when_allowed(any_run: StackRun) -> None:
    """Every ECR repository scans on push, keeps ecrKeepImages images, and force-deletes only with allowDeletion."""
    allow_deletion = setting(any_run, "allowDeletion", "false") == "true"
    keep = int(setting(any_run, "ecrKeepImages", "10"))
    for repository in any_run.of_type("aws:ecr/repository:Repository"):
        assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}, repository.urn
        assert repository.inputs.get("forceDelete", False) is allow_deletion, repository.urn
        lifecycle = any_run.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", repository.name)
        [rule] = json.loads(lifecycle.inputs["policy"])["rules"]
        assert rule["selection"]["countNumber"] == keep and rule["action"] == {"type": "expire"}, lifecycle.urn


def test_container_image_checks_platform_and_retention() -> None:
    """ContainerImageArgs: a Lambda-compatible platform and at least one kept image; the policy expires the rest."""
    with pytest.raises(ValueError, match="platform must be one of linux/amd64, linux/arm64"):
        validate_container_image_args(ContainerImageArgs(context="c", platform="windows/amd64"))
    with pytest.raises(ValueError, match="keep_images must be at least 1"):
        validate_container_image_args(ContainerImageArgs(context="c", platform="linux/amd64", keep_images=0))
    [rule] = lifecycle_policy(5)["rules"]
    assert rule["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5}
