"""Restored names stay unique: two long names sharing a prefix both restore (issue #16, 9)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Final

import pytest

from flows.restore.flow import restore_to_region
from flows.restore.params import RestoreParams
from flows.restore.report import RestoreOutcome, RestoreReport
from simulator.scenarios.spec import parse_scenario_yaml
from simulator.testing import SimHandle, running_simulator
from tests.helpers.restore_sim import START, HookedTicker, sim_instances

pytestmark = pytest.mark.usefixtures("prefect_harness")

# Two 30-character names that differ only in their last character: cut to fit a region
# suffix, they used to become the same name, and the second restore was blocked.
FIRST: Final = "llm-finetune-production-east-a"
SECOND: Final = "llm-finetune-production-east-b"

SCENARIO: Final = f"""
name: restore-long-names
account: {{currency: USD, balance: 500}}
instances:
  - {{name: {FIRST}, region: NORWAY-1, gpu_model: L40, age: 3d}}
  - {{name: {SECOND}, region: NORWAY-1, gpu_model: L40, age: 3d}}
snapshots:
  - {{name: first-snap, instance: {FIRST}, age: 1h}}
  - {{name: second-snap, instance: {SECOND}, age: 1h}}
"""


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimHandle]:
    with running_simulator(parse_scenario_yaml(SCENARIO), seed=1, start=START) as handle:
        monkeypatch.setenv("BARRACK_API_KEY", handle.api_key)
        yield handle


def restore(sim: SimHandle, instance_name: str, **overrides: object) -> RestoreReport:
    settings: dict[str, object] = {
        "instance_name": instance_name,
        "targets": ["US-1"],
        "connection": {"base_url": sim.base_url},
        "poll_seconds": 0.02,
        "max_poll_seconds": 0.05,
        "wait_timeout_minutes": 1,
        "cleanup_timeout_minutes": 1,
        "notify": False,
    }
    settings.update(overrides)
    with HookedTicker(sim):
        return asyncio.run(restore_to_region(RestoreParams.model_validate(settings)))


def test_two_long_names_sharing_a_prefix_restore_side_by_side(sim: SimHandle) -> None:
    first = restore(sim, FIRST)
    second = restore(sim, SECOND)

    assert first.outcome is RestoreOutcome.RESTORED, first.reason
    assert second.outcome is RestoreOutcome.RESTORED, second.reason
    assert first.instance_name != second.instance_name
    for report in (first, second):
        assert report.instance_name is not None
        assert report.instance_name.startswith("llm-finetune-produc")
        assert len(report.instance_name) <= 30
    restored = [vm["name"] for vm in sim_instances(sim) if vm["region"] == "US-1"]
    assert sorted(restored) == sorted([first.instance_name, second.instance_name])


def test_a_rerun_adopts_the_hashed_name_instead_of_making_another(sim: SimHandle) -> None:
    first = restore(sim, FIRST)
    again = restore(sim, FIRST)

    assert first.outcome is RestoreOutcome.RESTORED, first.reason
    assert again.instance_name == first.instance_name
    assert [vm["name"] for vm in sim_instances(sim)].count(first.instance_name) == 1
