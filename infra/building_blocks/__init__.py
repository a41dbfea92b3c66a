"""What the parts share and that belongs to none of them: the tagged AWS provider, IAM policy documents as
plain data, the security-group shapes, and the controls every private bucket gets."""

from infra.building_blocks.provider import tagged_provider

__all__ = ["tagged_provider"]
