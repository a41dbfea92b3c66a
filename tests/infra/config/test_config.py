"""The stack config: Pulumi.yaml declares exactly the keys, types and defaults the code applies; the
example stacks use only declared keys; every bad value fails with one message naming the key."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pulumi
import pytest
import yaml

from infra.config.checks import ConfigError, config_warnings, validate_stack_config
from infra.config.loading import load_stack_config
from infra.config.schema import (
    ApiAuthConfig,
    FunctionConfig,
    NetworkConfig,
    ObservabilityConfig,
    StackConfig,
    UiAccessConfig,
    UiConfig,
    config_schema,
)
from testing.pulumi_mocks import PROJECT, ROOT, StackMocks, run_program
from tests.infra.conftest import StackConfigFactory

CERTIFICATE = "arn:aws:acm:eu-central-1:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100"
PYTHON_TYPES = {"string": str, "integer": int, "boolean": bool, "array": list}


def project_file() -> dict[str, object]:
    document: dict[str, object] = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
    return document


def load(values: dict[str, str]) -> StackConfig:
    pulumi.runtime.set_all_config({f"{PROJECT}:{key}": value for key, value in values.items()})
    return load_stack_config(pulumi.Config(PROJECT))


def test_pulumi_yaml_declares_the_codes_keys_types_defaults_and_descriptions() -> None:
    """Pulumi.yaml's config block equals infra/config/schema.py's schema, key for key."""
    declared = project_file()["config"]
    assert isinstance(declared, dict)
    expected = {
        spec.key: {
            "type": spec.type,
            "default": spec.default,
            "description": spec.description,
            **({"items": {"type": "string"}} if spec.type == "array" else {}),
        }
        for spec in config_schema()
    }
    assert declared == expected


def test_pulumi_yaml_names_the_project_and_python_runtime() -> None:
    """The project is efs-inference (the config namespace) on the python runtime with the repository's virtualenv."""
    document = project_file()
    assert document["name"] == PROJECT
    assert document["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_example_stacks_set_only_declared_keys_with_declared_types(stack: str) -> None:
    """Every project key in Pulumi.<stack>.yaml is declared, with a value of the declared type."""
    types = {spec.key: spec.type for spec in config_schema()}
    values = yaml.safe_load(Path(ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))["config"]
    for key, value in values.items():
        namespace, _, name = key.partition(":")
        if namespace != PROJECT:
            continue
        assert name in types, f"{key} is not declared in Pulumi.yaml"
        assert isinstance(value, PYTHON_TYPES[types[name]]), f"{key}={value!r} is not a {types[name]}"


def test_defaults_apply_without_any_config() -> None:
    """With nothing set, the program's settings are the declared defaults: 1024 MB, 30 s, no NAT, no UI."""
    config = load({})
    assert config == StackConfig()
    assert (config.function.memory_mb, config.function.timeout_seconds) == (1024, 30)
    assert config.network.nat_strategy == "none" and not config.ui.enabled


def test_values_are_read_with_their_types() -> None:
    """Integers, booleans and arrays arrive as strings (as from the CLI) and are parsed by declared type."""
    config = load(
        {
            "memoryMb": "2048",
            "uiEnabled": "true",
            "uiIngressCidrs": json.dumps(["192.0.2.0/24"]),
            "corsAllowOrigins": json.dumps(["https://a.example.com"]),
            "architecture": "arm64",
        }
    )
    assert config.function.memory_mb == 2048 and config.ui.enabled is True
    assert config.api.cors_allow_origins == ("https://a.example.com",)
    assert config.function.architecture == "arm64"


BAD_VALUES = [
    ({"memoryMb": "64"}, "memoryMb", "128 to 10240"),
    ({"memoryMb": "10241"}, "memoryMb", "128 to 10240"),
    ({"timeoutSeconds": "31"}, "timeoutSeconds", "from 1 to 30 (the HTTP API"),
    ({"architecture": "sparc"}, "architecture", "one of x86_64, arm64"),
    ({"natStrategy": "many"}, "natStrategy", "one of none, single, onePerAz"),
    ({"existingVpcId": "vpc-0123456789abcdef0"}, "existingPrivateSubnetIds", "one or more subnet ids"),
    ({"existingPrivateSubnetIds": '["subnet-0123456789abcdef0"]'}, "existingVpcId", "set when"),
    ({"logRetentionDays": "-1"}, "logRetentionDays", "one of 1, 3, 5, 7, 14"),
    ({"logRetentionDays": "0"}, "logRetentionDays", "one of 1, 3, 5, 7, 14"),
    ({"reservedConcurrency": "-2"}, "reservedConcurrency", "-1 (unreserved) or 0 and above"),
    ({"availabilityZones": "1"}, "availabilityZones", "from 2 to 6"),
    ({"vpcCidr": "10.0.0.0/8"}, "vpcCidr", "/16 to /22"),
    ({"vpcCidr": "ten"}, "vpcCidr", "IPv4 CIDR block"),
    ({"efsThroughputMode": "provisioned"}, "efsThroughputMode", "one of elastic, bursting"),
    ({"efsTransitionToIa": "AFTER_2_DAYS"}, "efsTransitionToIa", "AFTER_1_DAY, AFTER_7_DAYS"),
    ({"existingFileSystemId": "my-fs"}, "existingFileSystemId", "fs-0123456789abcdef0"),
    ({"ecrKeepImages": "0"}, "ecrKeepImages", "from 1 to 1000"),
    ({"throttleBurst": "0"}, "throttleBurst", "from 1 to 5000"),
    ({"corsAllowOrigins": '["*"]'}, "corsAllowOrigins", "no path, no '*'"),
    ({"logLevel": "LOUD"}, "logLevel", "DEBUG, INFO, WARNING, ERROR"),
    ({"maxTextBytes": "0"}, "maxTextBytes", "from 1 to 1048576"),
    ({"defaultModel": "../etc"}, "defaultModel", "a model name"),
    ({"uiCpu": "300"}, "uiCpu", "one of 256, 512, 1024, 2048, 4096"),
    ({"uiCpu": "256", "uiMemoryMb": "4096"}, "uiMemoryMb", "one of 512, 1024, 2048 when uiCpu is 256"),
    ({"uiDesiredCount": "0"}, "uiDesiredCount", "from 1 to 10"),
    ({"uiCertificateArn": "my-cert"}, "uiCertificateArn", "an ACM certificate ARN"),
    ({"uiIngressCidrs": "[]"}, "uiIngressCidrs", "a non-empty list"),
    ({"uiIngressCidrs": '["everyone"]'}, "uiIngressCidrs", "IPv4 CIDR block"),
    ({"corsAllowOrigins": "https://a.example.com"}, "corsAllowOrigins", "a list of strings"),
    (
        {
            "uiEnabled": "true",
            "existingVpcId": "vpc-0123456789abcdef0",
            "existingPrivateSubnetIds": '["subnet-0123456789abcdef0"]',
        },
        "existingPublicSubnetIds",
        "two or more subnet ids",
    ),
    ({"existingPrivateSubnetEgress": "true"}, "existingPrivateSubnetEgress", "false unless existingVpcId is set"),
    ({"alarmEmail": "ops@example.com"}, "alarmEmail", "empty unless alarms is true"),
    ({"alarms": "true", "alarmEmail": "Ops <ops@example.com>"}, "alarmEmail", "one email address"),
    ({"alarms": "true", "alarmEmail": "ops@example.com,dev@example.com"}, "alarmEmail", "one email address"),
    ({"apiAuth": "open"}, "apiAuth", "one of iam, jwt, none"),
    ({"apiAuth": "jwt", "jwtAudience": '["app"]'}, "jwtIssuer", "the https URL of the token issuer"),
    ({"apiAuth": "jwt", "jwtIssuer": "http://id.example.com"}, "jwtIssuer", "the https URL"),
    ({"apiAuth": "jwt", "jwtIssuer": "https://id.example.com"}, "jwtAudience", "one or more audiences"),
    ({"jwtIssuer": "https://id.example.com"}, "jwtIssuer", "empty unless apiAuth is jwt"),
    ({"uiCertificateArn": CERTIFICATE}, "uiDomainName", "the name uiCertificateArn's certificate covers"),
    ({"uiDomainName": "UI Example"}, "uiDomainName", "a DNS name such as ui.example.com"),
    ({"uiLogin": "okta"}, "uiLogin", "one of none, cognito"),
    ({"uiLogin": "cognito"}, "uiLogin", "none unless uiCertificateArn and uiDomainName are set"),
    ({"uiEnabled": "true"}, "uiIngressCidrs", "narrowed to your own ranges while the API has auth"),
    (
        {
            "uiEnabled": "true",
            "uiIngressCidrs": '["192.0.2.0/24"]',
            "apiAuth": "jwt",
            "jwtIssuer": "https://i.example.com",
            "jwtAudience": '["a"]',
        },
        "uiEnabled",
        "false when apiAuth is jwt",
    ),
    (
        {"existingVpcId": "vpc-0123456789abcdef0", "existingPrivateSubnetIds": '["s1"]'},
        "existingPrivateSubnetIds",
        "subnet-0123456789abcdef0",
    ),
    (
        {
            "existingVpcId": "vpc-0123456789abcdef0",
            "existingPrivateSubnetIds": '["subnet-0123456789abcdef0"]',
            "natStrategy": "single",
        },
        "natStrategy",
        "none when existingVpcId is set",
    ),
]


@pytest.mark.parametrize(
    ("values", "key", "allowed"), BAD_VALUES, ids=[case[1] + "-" + next(iter(case[0].values())) for case in BAD_VALUES]
)
def test_bad_value_fails_with_one_message_naming_the_key_and_the_allowed_values(
    values: dict[str, str], key: str, allowed: str
) -> None:
    """Loading the config raises one ConfigError whose message names the key, the bad value and what is allowed."""
    with pytest.raises(ConfigError) as raised:
        load(values)
    assert raised.value.key == key
    message = str(raised.value)
    assert message.startswith(f"Invalid config {key}="), message
    assert allowed in message, message


@pytest.mark.parametrize("key", ["memoryMb", "uiEnabled"])
def test_wrongly_typed_value_names_the_key(key: str) -> None:
    """A value that is not of the declared type fails with Pulumi's own message naming the key."""
    with pytest.raises(pulumi.RunError, match=f"{PROJECT}:{key}"):
        load({key: "lots"})


def test_validation_functions_need_no_pulumi_runtime() -> None:
    """The checks run on plain dataclasses: the timeout cap and a bad NAT strategy, called directly."""
    with pytest.raises(ConfigError, match="timeoutSeconds=45"):
        validate_stack_config(StackConfig(function=FunctionConfig(timeout_seconds=45)))
    with pytest.raises(ConfigError, match="natStrategy='always'"):
        validate_stack_config(StackConfig(network=NetworkConfig(nat_strategy="always")))
    ui = UiConfig(enabled=True, cpu=1024, memory_mb=8192, ingress_cidrs=("192.0.2.0/24",))
    validate_stack_config(replace(StackConfig(), ui=ui))


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"memoryMb": "64"}, "Invalid config memoryMb=64"),
        ({"timeoutSeconds": "60"}, "Invalid config timeoutSeconds=60"),
        ({"modelDirs": '["no/such/model"]'}, "Invalid config modelDirs='no/such/model'"),
        ({"modelDirs": '["models/minilm-not-built"]'}, "build the model there first"),
        ({"modelDirs": "[]"}, "a list of one or more model folders"),
        ({"apiAuth": "jwt", "jwtAudience": '["app"]'}, "Invalid config jwtIssuer=''"),
        ({"uiCertificateArn": CERTIFICATE}, "Invalid config uiDomainName=''"),
        ({"uiEnabled": "true"}, "Invalid config uiIngressCidrs=['0.0.0.0/0']"),
        (
            {
                "existingVpcId": "vpc-0123456789abcdef0",
                "existingPrivateSubnetIds": '["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa7"]',
            },
            "Invalid config existingPrivateSubnetIds=.*subnet-0aaaaaaaaaaaaaaa1, subnet-0aaaaaaaaaaaaaaa7 are all in "
            "eu-central-1b",
        ),
        (
            {
                "existingVpcId": "vpc-0123456789abcdef0",
                "existingPrivateSubnetIds": '["subnet-0aaaaaaaaaaaaaaa1", "subnet-0ccccccccccccccc2"]',
            },
            "Invalid config existingPrivateSubnetIds='subnet-0ccccccccccccccc2': must be a subnet of existingVpcId",
        ),
        (
            {
                "uiEnabled": "true",
                "uiIngressCidrs": '["192.0.2.0/24"]',
                "existingVpcId": "vpc-0123456789abcdef0",
                "existingPrivateSubnetIds": '["subnet-0aaaaaaaaaaaaaaa1"]',
                "existingPublicSubnetIds": '["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb7"]',
            },
            "Invalid config existingPublicSubnetIds=.*are all in eu-central-1b",
        ),
    ],
)
def test_program_fails_before_registering_any_resource(
    overrides: dict[str, str], fragment: str, stack_config: StackConfigFactory
) -> None:
    """The whole program stops on bad config with the message, and nothing (not even the provider) was registered."""
    mocks = StackMocks(subnets={"subnet-0ccccccccccccccc2": ("eu-central-1b", "vpc-0other0000000000")})
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace("[", r"\[").replace("]", r"\]")):
        run_program(stack_config("dev", **overrides), "dev", mocks)
    assert mocks.monitor.registered == []


def test_deploy_guide_lists_every_key_with_its_default() -> None:
    """docs/DEPLOY.md's config table has a row per key, showing the declared default."""
    guide = (ROOT / "docs" / "DEPLOY.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in guide.splitlines() if line.startswith("| `")}
    for spec in config_schema():
        assert spec.key in rows, f"docs/DEPLOY.md has no row for {spec.key}"
        default = (
            json.dumps(spec.default) if isinstance(spec.default, (bool, list)) or spec.default == "" else spec.default
        )
        assert f"| `{default}` |" in rows[spec.key], f"docs/DEPLOY.md shows another default for {spec.key}"


def test_readme_names_every_key() -> None:
    """README.md's config table names every key the program reads."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for spec in config_schema():
        assert f"`{spec.key}`" in readme, f"README.md does not name {spec.key}"


def test_only_exposing_settings_are_warned() -> None:
    """The defaults and a narrowed HTTPS UI are not warned about; apiAuth none, a public UI and a plain-HTTP UI each
    get one warning."""
    assert config_warnings(StackConfig()) == []
    certificate = "arn:aws:acm:eu-central-1:123456789012:certificate/abc"
    narrowed = UiConfig(enabled=True, ingress_cidrs=("192.0.2.0/24",), certificate_arn=certificate)
    assert config_warnings(replace(StackConfig(), ui=narrowed)) == []
    [open_api] = config_warnings(replace(StackConfig(), api_auth=ApiAuthConfig(mode="none")))
    assert open_api.startswith("apiAuth is none")
    public_ui = UiConfig(enabled=True, certificate_arn=certificate)
    public = replace(StackConfig(), ui=public_ui, ui_access=UiAccessConfig(public_access=True))
    [open_ui] = config_warnings(public)
    assert open_ui.startswith("uiPublicAccess is true")
    [plain_http] = config_warnings(replace(StackConfig(), ui=replace(narrowed, certificate_arn="")))
    assert plain_http.startswith("THE UI IS PLAIN HTTP: uiCertificateArn is not set")


def test_alarms_without_an_address_are_warned() -> None:
    """Alarms on and nobody subscribed: one warning pointing at alarmEmail and the topic's output; with an address
    none."""
    [unheard] = config_warnings(replace(StackConfig(), observability=ObservabilityConfig(alarms=True)))
    assert unheard.startswith("alarms is true but alarmEmail is empty") and "alarm_topic_arn" in unheard
    mailed = ObservabilityConfig(alarms=True, alarm_email="ops@example.com")
    assert config_warnings(replace(StackConfig(), observability=mailed)) == []
