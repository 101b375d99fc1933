"""Every recipe killed mid-run (SIGKILL) then run again, and two runs started at once."""

from __future__ import annotations

import pytest

from flows.nightly_snapshots.report import SnapshotStatusOutcome
from tests.chaos.recipes import CASES
from tests.chaos.session import ChaosSession

SEED = 11


@pytest.mark.parametrize("recipe", list(CASES))
def test_a_run_killed_mid_way_then_run_again_loses_and_duplicates_nothing(
    chaos: ChaosSession, recipe: str
) -> None:
    result = chaos.crash_scenario(CASES[recipe], seed=SEED)
    assert result.violations == [], result.describe()
    killed, rerun = result.runs[0].outcome, result.runs[1].outcome
    assert killed.state == "KILLED", result.describe()
    assert rerun.state == "COMPLETED", result.describe()


@pytest.mark.parametrize("recipe", list(CASES))
def test_an_overlapping_run_gives_up_clearly_and_does_nothing(
    chaos: ChaosSession, recipe: str
) -> None:
    """A run started while another holds the recipe's scope, allowed no wait."""
    result = chaos.overlap_scenario(CASES[recipe], seed=SEED, wait_seconds=0)
    assert result.violations == [], result.describe()
    states = sorted(r.outcome.state for r in result.runs)
    assert states == ["COMPLETED", "FAILED"], result.describe()
    refused = next(r.outcome for r in result.runs if r.outcome.state == "FAILED")
    assert f"another run of {recipe}/" in refused.error
    assert "is in progress" in refused.error


def test_an_overlapping_run_waits_for_the_first_then_finds_nothing_left_to_do(
    chaos: ChaosSession,
) -> None:
    """The next schedule fires while a slow run still goes: it waits its turn, then finds
    tonight's snapshots taken and the old ones pruned (the long run does every recipe)."""
    result = chaos.overlap_scenario(CASES["nightly-snapshots"], seed=SEED, wait_seconds=60)
    assert result.violations == [], result.describe()
    assert [r.outcome.state for r in result.runs] == ["COMPLETED", "COMPLETED"]
    created = [r.report.count(SnapshotStatusOutcome.CREATED) for r in result.runs]
    assert sorted(created)[0] == 0, "the second run took nothing twice"
