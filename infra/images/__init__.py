"""The container images, built from the repository's image folders and pushed to ECR."""

from infra.images.container_image import ContainerImage, ContainerImageArgs

__all__ = ["ContainerImage", "ContainerImageArgs"]
