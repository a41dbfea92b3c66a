"""Nothing a live stack has is replaced: every recorded URN of every variant is still registered."""

from __future__ import annotations

from testing.pulumi_mocks import StackRun
from tests.infra.urns import read_fixture
from tests.infra.variants import VARIANTS


def test_every_recorded_urn_is_still_registered(variant_run: StackRun) -> None:
    """A URN missing from a variant's run would be a delete and a create on a live stack (new ones are fine)."""
    variant = variant_run.variant
    recorded = read_fixture().get(variant, [])
    registered = {item.urn for item in variant_run.resources}
    missing = [urn for urn in recorded if urn not in registered]
    assert not missing, f"{variant}: {len(missing)} resources would be replaced or deleted:\n" + "\n".join(missing)


def test_every_variant_is_recorded() -> None:
    """Each variant's URNs are in the fixture, so none goes unguarded."""
    assert sorted(read_fixture()) == sorted(variant.name for variant in VARIANTS)
