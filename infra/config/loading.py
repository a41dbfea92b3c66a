"""Reads the stack's settings with their defaults applied (the SDK applies none of Pulumi.yaml's) and checks
them before the program registers any resource."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import pulumi

from infra.config.checks import ConfigError, validate_stack_config
from infra.config.schema import ConfigType, StackConfig, config_fields, config_sections


def _read(config: pulumi.Config, key: str, config_type: ConfigType, default: Any) -> Any:
    if config_type == "integer":
        return config.get_int(key, default)
    if config_type == "boolean":
        return config.get_bool(key, default)
    if config_type == "string":
        return config.get(key, default)
    raw = config.get(key)
    if raw is None:
        return default
    try:
        items = json.loads(raw)
    except json.JSONDecodeError:
        items = None
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ConfigError(key, raw, "a list of strings")
    return tuple(items)


def load_stack_config(config: pulumi.Config | None = None) -> StackConfig:
    """The stack's settings with defaults applied, validated; a bad key raises one ConfigError naming it."""
    config = config or pulumi.Config()
    values: dict[type, dict[str, Any]] = {section: {} for section in config_sections()}
    for section, item, config_type in config_fields():
        values[section][item.name] = _read(config, item.metadata["key"], config_type, item.default)
    stack_config = StackConfig(
        **{
            section_field.name: section(**values[section])
            for section_field, section in zip(fields(StackConfig), config_sections(), strict=True)
        }
    )
    validate_stack_config(stack_config)
    return stack_config
