"""The UI as a whole under mocks: absent when off."""

from __future__ import annotations

from testing.pulumi_mocks import StackRun
from tests.infra.registered import (
    UI_TYPES,
)


def test_ui_resources_are_absent_when_the_ui_is_off(dev_run: StackRun) -> None:
    """dev runs no load balancer, no Fargate service, no UI image and exports no ui_url."""
    assert not [item.urn for item in dev_run.resources if item.type in UI_TYPES or item.name.startswith("ui")]
    assert "ui_url" not in dev_run.outputs
