"""Every recipe flow alerts when it fails or crashes, and resolves the alert on success."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from barrack_ops.demo.receiver import NotificationReceiver
from deployments.recipes import RECIPES, Recipe
from flows.common.alerting import RECIPE_HOOKS
from flows.nightly_snapshots.flow import nightly_snapshots
from flows.nightly_snapshots.params import NightlySnapshotsParams
from simulator.testing import SimHandle, running_simulator
from tasks.connection import BarrackConnection


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: r.name)
def test_every_recipe_flow_carries_the_hooks(recipe: Recipe) -> None:
    flow = recipe.load_flow()
    assert RECIPE_HOOKS["on_failure"][0] in flow.on_failure_hooks
    assert RECIPE_HOOKS["on_crashed"][0] in flow.on_crashed_hooks
    assert RECIPE_HOOKS["on_completion"][0] in flow.on_completion_hooks


@pytest.fixture
def empty_sim() -> Iterator[SimHandle]:
    with running_simulator("empty", start=datetime(2026, 11, 27, 12, tzinfo=UTC)) as sim:
        yield sim


@pytest.mark.usefixtures("prefect_harness")
def test_a_failed_run_pages_and_the_next_good_run_resolves(
    empty_sim: SimHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with NotificationReceiver() as receiver:
        monkeypatch.setenv("BARRACK_NOTIFY_URLS", receiver.json_url("/pager"))
        monkeypatch.setenv("BARRACK_NOTIFY_STATE", "file")
        monkeypatch.setenv("BARRACK_NOTIFY_STATE_FILE", str(tmp_path / "alerts.json"))
        params = NightlySnapshotsParams(
            connection=BarrackConnection(base_url=empty_sim.base_url), now=empty_sim.now()
        )

        monkeypatch.setenv("BARRACK_API_KEY", "not-the-key")
        with pytest.raises(Exception, match="UNAUTHORIZED"):
            asyncio.run(nightly_snapshots(params))
        [alert] = receiver.wait_for(1)
        assert alert.type == "failure"
        assert "nightly-snapshots" in (alert.title or "")
        assert "UNAUTHORIZED" in (alert.body or "")
        assert "not-the-key" not in (alert.body or "")

        monkeypatch.setenv("BARRACK_API_KEY", empty_sim.api_key)
        asyncio.run(nightly_snapshots(params))
        received = receiver.wait_for(2)
        assert (
            "resolved" in (received[1].title or "").lower()
            or "recovered" in (received[1].title or "").lower()
        )
