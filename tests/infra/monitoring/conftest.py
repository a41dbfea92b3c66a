"""Every variant once more with alarms on and an address to mail them to, so that the alarms and the subscription
are checked on every kind of stack (the example dev stack leaves them off)."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.pulumi_mocks import PROJECT, StackRun, run_program
from tests.infra.variants import VARIANTS, VARIANTS_BY_NAME

ALARM_EMAIL = "ops@example.com"


@pytest.fixture(scope="session", params=[variant.name for variant in VARIANTS])
def alarmed_run(request: pytest.FixtureRequest, model_dirs: list[Path]) -> StackRun:
    variant = VARIANTS_BY_NAME[request.param]
    config = {**variant.config(model_dirs), f"{PROJECT}:alarms": "true", f"{PROJECT}:alarmEmail": ALARM_EMAIL}
    run = run_program(config, variant.stack)
    run.variant = variant.name
    return run


def variant_setting(run: StackRun, key: str, default: str) -> str:
    """A key's value in the variant's config (its stack file and overrides), or the declared default."""
    return VARIANTS_BY_NAME[run.variant].config([]).get(f"{PROJECT}:{key}", default)
