"""Where everything runs: a new VPC or an existing one, and the S3 gateway endpoint."""

from infra.network.network import Network, NetworkArgs, check_existing_subnets

__all__ = ["Network", "NetworkArgs", "check_existing_subnets"]
