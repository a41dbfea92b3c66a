"""The stack's one AWS provider under mocks: it takes the stack's aws:* settings."""

from __future__ import annotations

import json

from testing.pulumi_mocks import REGION, StackRun


def test_fix_9_provider_forwards_assume_roles_accounts_and_endpoints(existing_nat_run: StackRun) -> None:
    """Fix 9: aws:assumeRoles, aws:allowedAccountIds and aws:endpoints reach the explicit provider, with the region."""
    inputs = existing_nat_run.one("pulumi:providers:aws", "aws").inputs
    assert json.loads(inputs["assumeRoles"]) == [
        {"roleArn": "arn:aws:iam::123456789012:role/deployer", "sessionName": "up"}
    ]
    assert json.loads(inputs["allowedAccountIds"]) == ["123456789012"]
    assert json.loads(inputs["endpoints"]) == [
        {"s3": "https://s3.eu-central-1.amazonaws.com", "lambda": "https://l.example"}
    ]
    assert inputs["region"] == REGION


def test_provider_passes_the_stacks_aws_region_and_profile_on(https_ui_run: StackRun) -> None:
    """An explicit provider ignores aws:* config unless the program passes it: region and profile are passed."""
    provider = https_ui_run.one("pulumi:providers:aws", "aws")
    assert (provider.inputs["region"], provider.inputs["profile"]) == (REGION, "demo"), provider.urn
