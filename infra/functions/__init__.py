"""The Lambda functions' one building block (log group, role, inline policy, function from the inference
image) and the function that mounts the shared file system in the private subnets."""

from infra.functions.efs_function import EfsFunction, EfsFunctionArgs, FunctionPlacement

__all__ = ["EfsFunction", "EfsFunctionArgs", "FunctionPlacement"]
