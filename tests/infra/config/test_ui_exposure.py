"""The UI's exposure is judged by what it admits, not by how the settings are spelled: the ingress guard counts
the public addresses the ranges cover, and every example stack with a UI serves it over HTTPS or is warned."""

from __future__ import annotations

import pytest

from infra.config.checks import ConfigError, public_addresses, validate_ui_access
from infra.config.schema import UiAccessConfig, UiConfig
from testing.pulumi_mocks import PROJECT
from tests.infra.conftest import StackConfigFactory, run_warned
from tests.infra.variants import CERTIFICATE, UI_DOMAIN


@pytest.mark.parametrize(
    "cidrs",
    [
        ("0.0.0.0/0",),
        ("0.0.0.0/1", "128.0.0.0/1"),
        tuple(f"{first}.0.0.0/4" for first in range(0, 256, 16)),
        ("1.0.0.0/8", "2.0.0.0/8"),
        ("192.0.2.0/24", "0.0.0.0/0"),
    ],
)
def test_ranges_that_together_admit_the_internet_are_refused_however_split(cidrs: tuple[str, ...]) -> None:
    """With auth on the API and no login, ranges covering more than a /8 of public addresses need uiPublicAccess."""
    with pytest.raises(ConfigError) as refused:
        validate_ui_access(UiAccessConfig(), UiConfig(enabled=True, ingress_cidrs=cidrs), "iam")
    assert refused.value.key == "uiIngressCidrs" and "public addresses" in str(refused.value)
    validate_ui_access(UiAccessConfig(public_access=True), UiConfig(enabled=True, ingress_cidrs=cidrs), "iam")


@pytest.mark.parametrize(
    "cidrs",
    [("203.0.113.0/24",), ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"), ("100.0.0.0/8",), ("8.8.0.0/22",) * 3],
)
def test_own_ranges_pass(cidrs: tuple[str, ...]) -> None:
    """An office's ranges, the private ranges, even one whole public /8, pass without a login."""
    validate_ui_access(UiAccessConfig(), UiConfig(enabled=True, ingress_cidrs=cidrs), "iam")


def test_public_addresses_count_overlaps_once_and_private_ranges_not_at_all() -> None:
    """0.0.0.0/0 minus the special-purpose ranges; a range inside another is counted once; 10/8 is not public."""
    assert public_addresses(["10.0.0.0/8"]) == 0
    assert public_addresses(["8.8.8.0/24", "8.8.0.0/16"]) == 65_536
    assert public_addresses(["0.0.0.0/1", "128.0.0.0/1"]) == public_addresses(["0.0.0.0/0"]) > 3_500_000_000


def _warnings_of(config: dict[str, str], stack: str) -> list[str]:
    return run_warned(config, stack)[1]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_example_stack_with_a_ui_serves_https_or_is_warned(stack: str, stack_config: StackConfigFactory) -> None:
    """Each example stack's UI has a certificate or `pulumi up` says, loudly, that it is plain HTTP; with a
    certificate and its domain, that warning goes."""
    config = stack_config(stack)
    if config.get(f"{PROJECT}:uiEnabled") != "true":
        return
    warned = _warnings_of(config, stack)
    if not config.get(f"{PROJECT}:uiCertificateArn"):
        assert any(warning.startswith("THE UI IS PLAIN HTTP") for warning in warned), warned
    secured = stack_config(stack, uiCertificateArn=CERTIFICATE, uiDomainName=UI_DOMAIN)
    assert not any(warning.startswith("THE UI IS PLAIN HTTP") for warning in _warnings_of(secured, stack))
