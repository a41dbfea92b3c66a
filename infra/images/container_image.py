"""An ECR repository (scan on push, keep the last N images) and the image built from a folder of the
repository and pushed there, referenced by digest."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from infra.config.limits import DOCKER_PLATFORMS
from infra.config.schema import StackConfig


@dataclass
class ContainerImageArgs:
    context: str  # build context, relative to the project (Pulumi runs the program from there)
    platform: str  # linux/amd64 or linux/arm64: the architecture of whatever runs the image
    keep_images: int = 10
    force_delete: bool = False  # whether `pulumi destroy` may delete a repository that still holds images

    @classmethod
    def from_config(cls, config: StackConfig, context: str) -> ContainerImageArgs:
        """Built for the configured architecture, which the function and the UI tasks share."""
        return cls(
            context=context,
            platform=DOCKER_PLATFORMS[config.function.architecture],
            keep_images=config.storage.ecr_keep_images,
            force_delete=config.storage.allow_deletion,
        )


def validate_container_image_args(args: ContainerImageArgs) -> None:
    if args.platform not in DOCKER_PLATFORMS.values():
        raise ValueError(
            f"ContainerImageArgs.platform must be one of {', '.join(DOCKER_PLATFORMS.values())}, not {args.platform!r}"
        )
    if args.keep_images < 1:
        raise ValueError(f"ContainerImageArgs.keep_images must be at least 1, not {args.keep_images}")


def lifecycle_policy(keep_images: int) -> dict[str, Any]:
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Keep the last {keep_images} images",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep_images},
                "action": {"type": "expire"},
            }
        ]
    }


class ContainerImage(pulumi.ComponentResource):
    repository_url: pulumi.Output[str]
    image_uri: pulumi.Output[str]  # repo@sha256:...: a new build changes it, an unchanged one does not

    def __init__(self, name: str, args: ContainerImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate_container_image_args(args)
        super().__init__("efs-inference:container_image:ContainerImage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.repository = aws.ecr.Repository(
            name,
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="AES256")],
            force_delete=args.force_delete,
            opts=child,
        )
        self.lifecycle_policy = aws.ecr.LifecyclePolicy(
            name, repository=self.repository.name, policy=json.dumps(lifecycle_policy(args.keep_images)), opts=child
        )
        # awsx builds a single-platform image without provenance attestations (Lambda rejects image
        # indexes) and returns it by digest.
        self.image = awsx.ecr.Image(
            name,
            repository_url=self.repository.repository_url,
            context=args.context,
            platform=args.platform,
            opts=child,
        )
        self.repository_url = self.repository.repository_url
        self.image_uri = self.image.image_uri
        self.register_outputs({"repository_url": self.repository_url, "image_uri": self.image_uri})
