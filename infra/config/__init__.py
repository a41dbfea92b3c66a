"""The stack's settings (one schema), their checks, AWS's limits, the physical names AWS sees, and the model
folders to publish: all read and checked before the program registers any resource."""

from infra.config.checks import ConfigError, config_warnings
from infra.config.loading import load_stack_config
from infra.config.model_dirs import ModelBundle, read_model_bundles
from infra.config.names import StackNames
from infra.config.schema import StackConfig

__all__ = [
    "ConfigError",
    "ModelBundle",
    "StackConfig",
    "StackNames",
    "config_warnings",
    "load_stack_config",
    "read_model_bundles",
]
