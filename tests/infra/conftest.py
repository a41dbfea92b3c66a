"""Each example stack is run once per session under mocks; the tests then read the recorded resources."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from testing.pulumi_mocks import EXISTING_VPC, PROJECT, StackRun, run_program, stack_file_config
from tests.infra.variants import CERTIFICATE, EXISTING_PRIVATE, EXISTING_PUBLIC, UI_DOMAIN, VARIANTS, VARIANTS_BY_NAME
from tests.models.factory import tiny_model_dir

MODEL_NAME = "digits"
MODEL_VERSION = "1"
SECOND_MODEL = ("second", "3")  # the second folder of modelDirs: name, version

StackConfigFactory = Callable[..., dict[str, str]]


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two small, valid model folders, so these tests never depend on `make model` or `make minilm`."""
    root = tmp_path_factory.mktemp("models")
    first = tiny_model_dir(root / MODEL_NAME, name=MODEL_NAME, version=MODEL_VERSION)  # folders named as their models
    (first / "samples.json").write_text("[]")
    second = tiny_model_dir(root / "second", variant="b", name=SECOND_MODEL[0], version=SECOND_MODEL[1])
    return [first, second]


@pytest.fixture(scope="session")
def stack_config(model_dirs: list[Path]) -> StackConfigFactory:
    """A stack file's config with the test model folder, plus overrides given as un-namespaced keys."""

    def build(stack: str, **overrides: str) -> dict[str, str]:
        config = stack_file_config(stack)
        config[f"{PROJECT}:modelDirs"] = json.dumps([str(directory) for directory in model_dirs])
        config.update({f"{PROJECT}:{key}": value for key, value in overrides.items()})
        return config

    return build


@pytest.fixture(scope="session")
def dev_run(stack_config: StackConfigFactory) -> StackRun:
    return run_program(stack_config("dev"), "dev")


@pytest.fixture(scope="session")
def prod_run(stack_config: StackConfigFactory) -> StackRun:
    return run_program(stack_config("prod"), "prod")


@pytest.fixture(params=["dev", "prod"])
def any_run(request: pytest.FixtureRequest) -> StackRun:
    """Each example stack in turn."""
    run: StackRun = request.getfixturevalue(f"{request.param}_run")
    return run


@pytest.fixture(scope="session")
def jwt_run(stack_config: StackConfigFactory) -> StackRun:
    config = stack_config(
        "dev", apiAuth="jwt", jwtIssuer="https://issuer.example.com/pool", jwtAudience=json.dumps(["app-client"])
    )
    return run_program(config, "dev")


def run_warned(config: dict[str, str], stack: str) -> tuple[StackRun, list[str]]:
    """The program run under mocks, with the warnings it logged (what `pulumi up` prints)."""
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno == logging.WARNING:
                records.append(record.getMessage())

    handler = Collect()
    logging.getLogger().addHandler(handler)
    try:
        run = run_program(config, stack)
    finally:
        logging.getLogger().removeHandler(handler)
    return run, records


@pytest.fixture(scope="session")
def open_run(stack_config: StackConfigFactory) -> tuple[StackRun, list[str]]:
    """apiAuth none and a public UI opted in: both allowed, both warned; the warnings as logged under mocks."""
    return run_warned(stack_config("dev", apiAuth="none", uiEnabled="true", uiPublicAccess="true"), "dev")


@pytest.fixture(scope="session")
def cognito_run(stack_config: StackConfigFactory) -> StackRun:
    config = stack_config(
        "prod",
        uiCertificateArn=CERTIFICATE,
        uiDomainName="ui.example.com",
        uiLogin="cognito",
        uiIngressCidrs=json.dumps(["0.0.0.0/0"]),
    )
    return run_program(config, "prod")


@pytest.fixture(scope="session")
def existing_nat_run(stack_config: StackConfigFactory) -> StackRun:
    config = stack_config(
        "prod",
        natStrategy="none",
        existingVpcId=EXISTING_VPC,
        existingPrivateSubnetIds=json.dumps(EXISTING_PRIVATE),
        existingPublicSubnetIds=json.dumps(EXISTING_PUBLIC),
        existingPrivateSubnetEgress="true",
    )
    config["aws:assumeRoles"] = json.dumps(
        [{"roleArn": "arn:aws:iam::123456789012:role/deployer", "sessionName": "up"}]
    )
    config["aws:allowedAccountIds"] = json.dumps(["123456789012"])
    config["aws:endpoints"] = json.dumps(
        [{"s3": "https://s3.eu-central-1.amazonaws.com", "lambda": "https://l.example"}]
    )
    return run_program(config, "prod")


@pytest.fixture(scope="session")
def https_ui_run(stack_config: StackConfigFactory) -> StackRun:
    config = stack_config(
        "dev",
        uiEnabled="true",
        uiCertificateArn=CERTIFICATE,
        uiDomainName=UI_DOMAIN,
        uiIngressCidrs=json.dumps(["203.0.113.0/24"]),
        corsAllowOrigins=json.dumps(["https://app.example.com"]),
    )
    config["aws:profile"] = "demo"
    return run_program(config, "dev")


@pytest.fixture(scope="session")
def existing_run(stack_config: StackConfigFactory) -> StackRun:
    config = stack_config(
        "prod",
        natStrategy="none",
        existingVpcId="vpc-0123456789abcdef0",
        existingPrivateSubnetIds=json.dumps(EXISTING_PRIVATE),
        existingPublicSubnetIds=json.dumps(EXISTING_PUBLIC),
        existingFileSystemId="fs-0123456789abcdef0",
    )
    return run_program(config, "prod")


@pytest.fixture(scope="session", params=[variant.name for variant in VARIANTS])
def variant_run(request: pytest.FixtureRequest, model_dirs: list[Path]) -> StackRun:
    """Each stack of tests/infra/variants.py in turn, run once per session."""
    return VARIANTS_BY_NAME[request.param].run(model_dirs)
