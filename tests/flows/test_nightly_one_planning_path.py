"""``plan retention`` shows the plan the nightly run carries out (one planning path)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from barrack import AsyncBarrack
from flows.nightly_snapshots import flow as flow_module
from flows.nightly_snapshots.preview import preview_planning
from flows.nightly_snapshots.records import RetentionPlanning, plan_retention
from simulator.testing import SimHandle, running_simulator
from tests.helpers.nightly import nightly_params, run_nightly

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def demo_sim() -> Iterator[SimHandle]:
    with running_simulator("demo", seed=1, start=START) as sim:
        yield sim


@pytest.mark.parametrize("max_deletions", [1000, 5], ids=["prunes", "blocked"])
def test_the_preview_is_the_plan_the_run_carries_out(
    demo_sim: SimHandle, monkeypatch: pytest.MonkeyPatch, max_deletions: int
) -> None:
    demo_sim.reset()
    monkeypatch.setenv("BARRACK_API_KEY", demo_sim.api_key)
    overrides: dict[str, Any] = {"retention": {"keep_daily": 3}, "max_deletions": max_deletions}
    params = nightly_params(demo_sim, **overrides)

    async def preview() -> RetentionPlanning:
        async with AsyncBarrack(api_key=demo_sim.api_key, base_url=demo_sim.base_url) as client:
            return await preview_planning(client, params)

    previewed = asyncio.run(preview())

    seen: list[RetentionPlanning] = []

    def spy(*args: Any, **kwargs: Any) -> RetentionPlanning:
        planning = plan_retention(*args, **kwargs)
        seen.append(planning)
        return planning

    monkeypatch.setattr(flow_module, "plan_retention", spy)
    report = run_nightly(demo_sim, dry_run=True, **overrides)

    (ran,) = seen
    assert previewed.plan == ran.plan
    assert previewed.suspended == ran.suspended
    assert {k: v.level for k, v in previewed.verdicts.items()} == {
        k: v.level for k, v in ran.verdicts.items()
    }
    # The demo fleet has instances with no ready snapshot: their pruning is suspended,
    # in the preview as in the run, and the run's report says so on their lines.
    assert previewed.suspended, "the scenario should hold a suspension"
    for instance_id, why in previewed.suspended.items():
        assert why.startswith("freshness critical: ")
        planned = previewed.plan.by_instance.get(instance_id)
        assert planned is None or planned.suspended_reason == why
        line = next(i for i in report.instances if i.instance_id == instance_id)
        assert line.pruning_suspended == f"pruning suspended: {why}"
    if max_deletions == 5:
        assert previewed.plan.blocked
        assert report.blocked == previewed.plan.blocked
    else:
        assert previewed.plan.deletions
        would = {d.snapshot_id for d in report.deletions}
        assert would == {d.snapshot.id for d in previewed.plan.deletions}
