"""Every recipe under 5xx, 429 bursts and late answers (together), under drops after
commit with the API's idempotent replay on and, separately, off, and under answers that
lie (refusals under 200, error pages that quote the API key)."""

from __future__ import annotations

import pytest

from tests.chaos.faults import PROFILES, SUITE_PROFILES
from tests.chaos.recipes import CASES
from tests.chaos.session import ChaosSession

SEED = 7


@pytest.mark.parametrize("profile", SUITE_PROFILES)
@pytest.mark.parametrize("recipe", list(CASES))
def test_recipe_keeps_every_invariant_under_faults(
    chaos: ChaosSession, recipe: str, profile: str
) -> None:
    result = chaos.faults_scenario(CASES[recipe], PROFILES[profile], seed=SEED)
    assert result.violations == [], result.describe()
    assert result.checked >= 6
