"""The stacks every whole-program check runs: both example stacks, and the variants a user turns on.

One list, read by the URN test (nothing a live stack has may disappear) and by the AWS-rules layer (what
AWS would refuse). Each variant is an example stack file with some keys overridden, under a stack name."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from testing.pulumi_mocks import EXISTING_VPC, PROJECT, StackRun, run_program, stack_file_config

CERTIFICATE = "arn:aws:acm:eu-central-1:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100"
UI_DOMAIN = "ui.example.com"
EXISTING_PRIVATE = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
EXISTING_PUBLIC = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"]
COGNITO_UI = {
    "uiEnabled": "true",
    "uiCertificateArn": CERTIFICATE,
    "uiDomainName": UI_DOMAIN,
    "uiLogin": "cognito",
}
# Pulumi accepts stack names of letters, digits, '-', '_' and '.'; AWS takes fewer characters in some names.
UNDERSCORE_STACK = "team_dev"
LONG_STACK = "a-stack-name-of-forty-characters-exactly"


@dataclass(frozen=True)
class Variant:
    name: str
    stack_file: str  # Pulumi.<stack_file>.yaml
    overrides: Mapping[str, str] = field(default_factory=dict)  # un-namespaced keys
    stack_name: str = ""  # defaults to stack_file

    @property
    def stack(self) -> str:
        return self.stack_name or self.stack_file

    def config(self, model_dirs: list[Path]) -> dict[str, str]:
        config = stack_file_config(self.stack_file)
        config[f"{PROJECT}:modelDirs"] = json.dumps([str(directory) for directory in model_dirs])
        config.update({f"{PROJECT}:{key}": value for key, value in self.overrides.items()})
        return config

    def run(self, model_dirs: list[Path]) -> StackRun:
        run = run_program(self.config(model_dirs), self.stack)
        run.variant = self.name
        return run


VARIANTS: tuple[Variant, ...] = (
    Variant("dev", "dev"),
    Variant("prod", "prod"),
    Variant("jobs", "dev", {"jobsEnabled": "true"}),
    Variant("retention", "dev", {"messageRetentionDays": "30"}),
    Variant("ui-https-cognito", "dev", COGNITO_UI),
    Variant("jwt", "dev", {"apiAuth": "jwt", "jwtIssuer": "https://issuer.example.com/pool", "jwtAudience": '["app"]'}),
    Variant("cors", "dev", {"corsAllowOrigins": '["https://app.example.com"]'}),
    Variant(
        "existing-vpc",
        "prod",
        {
            "natStrategy": "none",
            "existingVpcId": EXISTING_VPC,
            "existingPrivateSubnetIds": json.dumps(EXISTING_PRIVATE),
            "existingPublicSubnetIds": json.dumps(EXISTING_PUBLIC),
            "existingFileSystemId": "fs-0123456789abcdef0",
        },
    ),
    Variant("arm64", "dev", {"architecture": "arm64"}),
    Variant("bursting-efs", "dev", {"efsThroughputMode": "bursting"}),
    Variant(
        "everything",
        "prod",
        {
            **COGNITO_UI,
            "jobsEnabled": "true",
            "messageRetentionDays": "90",
            "corsAllowOrigins": '["https://app.example.com"]',
            "efsThroughputMode": "bursting",
        },
    ),
    Variant("underscore-stack", "dev", {"jobsEnabled": "true", **COGNITO_UI}, stack_name=UNDERSCORE_STACK),
    Variant(
        "long-stack",
        "dev",
        {"jobsEnabled": "true", "messageRetentionDays": "30", **COGNITO_UI},
        stack_name=LONG_STACK,
    ),
)
VARIANTS_BY_NAME = {variant.name: variant for variant in VARIANTS}
