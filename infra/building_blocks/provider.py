"""The stack's one explicit AWS provider. An explicit provider reads none of the stack's `aws:*` settings
by itself, so the ones a deployer sets to choose where and as whom the stack deploys are passed on here:
region and profile, the roles to assume, the accounts allowed or forbidden, and service endpoints."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

# aws:* keys whose values are structured (JSON in the stack config), by the Provider argument that takes them.
STRUCTURED_SETTINGS = {
    "assume_roles": "assumeRoles",
    "assume_role_with_web_identity": "assumeRoleWithWebIdentity",
    "allowed_account_ids": "allowedAccountIds",
    "forbidden_account_ids": "forbiddenAccountIds",
    "endpoints": "endpoints",
}


def provider_settings(config: pulumi.Config | None = None) -> dict[str, Any]:
    """The stack's `aws:*` settings as aws.Provider arguments, leaving out the ones not set."""
    config = config or pulumi.Config("aws")
    # As the default provider reads them: the stack's setting, else AWS_REGION / AWS_PROFILE and friends.
    settings: dict[str, Any] = {"region": aws.config.region, "profile": aws.config.profile}
    for argument, key in STRUCTURED_SETTINGS.items():
        raw = config.get(key)
        if raw:
            try:
                settings[argument] = json.loads(raw)
            except json.JSONDecodeError:
                message = f"Invalid config aws:{key}={raw!r}: must be JSON, as `pulumi config set --path` writes it."
                raise pulumi.RunError(message) from None
    return {argument: value for argument, value in settings.items() if value}


def tagged_provider(name: str) -> aws.Provider:
    """Tags every resource with the project and the stack; otherwise configured exactly as the stack says."""
    tags = aws.ProviderDefaultTagsArgs(tags={"project": pulumi.get_project(), "stack": pulumi.get_stack()})
    return aws.Provider(name, default_tags=tags, **provider_settings())
