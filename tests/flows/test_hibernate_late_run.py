"""Late runs judge fresh evidence (issue #16, 1), through Prefect's engine and the simulator.

The simulator runs on the wall clock here, because the bug lives in the difference
between the moment a run was scheduled for (what Prefect reports) and the moment it
actually runs (the wall clock). A late run is made the way a worker meets one: a flow
run created in a Scheduled state for a past time, then executed by Prefect's engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pytest
from prefect.client.orchestration import get_client
from prefect.flow_engine import run_flow
from prefect.states import Scheduled

import flows.hibernate_idle.flow as hibernate_flow
from flows.hibernate_idle.flow import hibernate_idle
from flows.hibernate_idle.params import HibernateIdleParams
from flows.hibernate_idle.report import Action, HibernateReport
from flows.hibernate_idle.state import IdleMemory
from simulator.scenarios import parse_scenario_yaml
from simulator.testing import SimHandle, running_simulator
from tests.helpers.hibernate import ids, status

pytestmark = pytest.mark.usefixtures("prefect_harness")

SCENARIO: Final = """
name: hibernate-late-runs
account: {currency: USD, balance: "5000.00"}
instances:
  - {name: late-a40, region: US-1, gpu_model: A40, age: 3d, utilization: {preset: idle}}
  - {name: late-h100, region: NORWAY-1, gpu_model: H100-SXM5-80GB, gpu_count: 8, age: 3d,
     utilization: {preset: idle}}
"""


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimHandle]:
    with running_simulator(parse_scenario_yaml(SCENARIO), seed=1, clock="real") as handle:
        monkeypatch.setenv("BARRACK_API_KEY", handle.api_key)
        yield handle


def run(
    sim: SimHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    scheduled: datetime | None = None,
    **overrides: Any,
) -> HibernateReport:
    """One run through Prefect's engine; ``scheduled``: a run Scheduled for that time."""
    settings: dict[str, Any] = {
        "connection": {"base_url": sim.base_url},
        "prometheus": {"url": sim.prometheus_url},
        "state_store": "file",
        "state_file": str(tmp_path / "idle-state.json"),
        "notify": False,
        "selection": {"name_globs": ["late-a40"]},
    }
    settings.update(overrides)
    params = HibernateIdleParams.model_validate(settings)
    if scheduled is None:
        return asyncio.run(hibernate_idle(params))
    return asyncio.run(_run_scheduled(params, scheduled))


async def _run_scheduled(params: HibernateIdleParams, scheduled: datetime) -> HibernateReport:
    """Create a flow run Scheduled for ``scheduled`` and run it now, as a worker would."""
    parameters = dict(params)  # the flat parameters: one per field
    async with get_client() as client:
        flow_run = await client.create_flow_run(
            hibernate_idle, parameters=parameters, state=Scheduled(scheduled_time=scheduled)
        )
    assert flow_run.expected_start_time is not None
    report = await run_flow(hibernate_idle, flow_run=flow_run, parameters=parameters)
    assert isinstance(report, HibernateReport)
    return report


def a40(report: HibernateReport) -> Any:
    return next(i for i in report.instances if i.instance_name == "late-a40")


def busy_since(sim: SimHandle, name: str, since: datetime, util: float = 99) -> None:
    sim.set_utilization(
        ids(sim)[name], {"preset": "idle", "segments": [{"at": since.isoformat(), "util": util}]}
    )


def test_a_late_run_judges_the_window_up_to_when_it_runs_not_its_schedule(
    sim: SimHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = sim.now()
    warned = run(sim, tmp_path, monkeypatch, now=now - timedelta(minutes=50))
    assert a40(warned).action is Action.WARNED
    busy_since(sim, "late-a40", now - timedelta(minutes=5))  # a job started 5 minutes ago

    late = run(sim, tmp_path, monkeypatch, scheduled=now - timedelta(minutes=10))

    outcome = a40(late)
    assert outcome.action is Action.LEFT_RUNNING, outcome.reason
    assert outcome.verdict == "busy"
    assert "peak utilisation 99.0 %" in outcome.reason
    assert outcome.window_end is not None
    assert outcome.window_end >= now
    assert status(sim, "late-a40") == "ACTIVE"


def test_a_backlog_of_late_runs_cannot_squeeze_the_grace(
    sim: SimHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = sim.now()
    # Two runs of a backlog, seconds apart, whose slots are 35 minutes apart (grace 30).
    first = run(sim, tmp_path, monkeypatch, scheduled=now - timedelta(minutes=45))
    second = run(sim, tmp_path, monkeypatch, scheduled=now - timedelta(minutes=10))

    assert a40(first).action is Action.WARNED
    assert a40(second).action is Action.WAITING, a40(second).reason
    assert status(sim, "late-a40") == "ACTIVE"
    remembered = asyncio.run(IdleMemory.in_file(tmp_path / "idle-state.json").load())
    warned_at = remembered[ids(sim)["late-a40"]].warned_at
    assert warned_at is not None
    assert warned_at >= now


def test_a_hibernation_due_seconds_into_a_run_waits_until_due_then_acts(
    sim: SimHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grace = timedelta(seconds=6)
    first = run(sim, tmp_path, monkeypatch, grace_minutes=grace.total_seconds() / 60)
    warned_at = a40(first).warned_at
    assert warned_at is not None
    real_hibernate = hibernate_flow.hibernate_instance
    called: list[datetime] = []

    async def recorded(*args: Any, **kwargs: Any) -> Any:
        called.append(datetime.now(UTC))
        return await real_hibernate(*args, **kwargs)

    monkeypatch.setattr(hibernate_flow, "hibernate_instance", recorded)
    # starts a moment after the warning was sent: due a few seconds into this run
    second = run(sim, tmp_path, monkeypatch, grace_minutes=grace.total_seconds() / 60)

    assert a40(second).action is Action.HIBERNATED, a40(second).reason
    (acted_at,) = called
    assert acted_at >= warned_at + grace  # the whole grace, from when the warning was sent


def test_busy_just_before_acting_cancels_the_hibernation(
    sim: SimHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = sim.now()
    run(sim, tmp_path, monkeypatch, now=now - timedelta(minutes=40))
    real_get_instance = hibernate_flow.get_instance

    async def job_starts_as_the_run_decides(*args: Any, **kwargs: Any) -> Any:
        # someone starts a job after the window was read, just before the act
        busy_since(sim, "late-a40", now - timedelta(minutes=2))
        return await real_get_instance(*args, **kwargs)

    monkeypatch.setattr(hibernate_flow, "get_instance", job_starts_as_the_run_decides)
    report = run(sim, tmp_path, monkeypatch, now=now)

    outcome = a40(report)
    assert outcome.verdict == "hibernate"
    assert outcome.action is Action.SKIPPED
    assert "peak utilisation 99.0 %" in outcome.reason
    assert "re-check right before acting" in outcome.reason
    assert status(sim, "late-a40") == "ACTIVE"


def test_an_exporter_that_shows_one_gpu_of_eight_is_not_idle(
    sim: SimHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The exporter only reports GPU 0 (a label filter, a crashed DCGM on the others).
    only_gpu0 = (
        'max by ($label, gpu) (max_over_time(DCGM_FI_DEV_GPU_UTIL{$selector, gpu="0"}[$step]))'
    )
    report = run(
        sim,
        tmp_path,
        monkeypatch,
        now=sim.now(),
        selection={"name_globs": ["late-h100"]},
        prometheus={"url": sim.prometheus_url, "util_query": only_gpu0},
    )

    (h100,) = report.instances
    assert h100.verdict == "not enough data"
    assert "shows 1 of the instance's 8 GPUs" in h100.reason
    assert h100.action is Action.LEFT_RUNNING
