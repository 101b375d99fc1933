"""Deployment parameters on a real Prefect API: partial runs merge, the slot follows the schedule.

Deployments are registered the way ``barrack-ops serve`` does (``flow.to_deployment``),
runs are made by Prefect itself: ``prefect deployment run --param`` (a subprocess of
Prefect's own CLI) and the scheduler's ``/deployments/{id}/schedule`` endpoint. Scheduled
runs are then executed in this process by Prefect's engine, as a worker would.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect import flow_engine
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.schedules import CronSchedule
from prefect.flow_engine import run_flow

from flows.nightly_snapshots.flow import nightly_snapshots
from flows.nightly_snapshots.report import NightlyReport
from simulator.testing import SimHandle, running_simulator
from simulator.ticker import ClockTicker

pytestmark = pytest.mark.usefixtures("prefect_harness")

ROOT = Path(__file__).parents[2]
START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator("demo", seed=1, start=START) as handle:
        yield handle


async def deploy(name: str, parameters: dict[str, Any], *schedules: CronSchedule) -> UUID:
    deployment = await nightly_snapshots.ato_deployment(
        name=name, parameters=parameters, schedules=list(schedules)
    )
    deployment_id: UUID = await deployment.aapply()
    return deployment_id


def test_a_run_with_some_parameters_keeps_the_deployments_others() -> None:
    parameters = {
        "connection": {"api_key_secret_block": "barrack-api-key", "rate_limit": 5},
        "selection": {"name_globs": ["train-*"]},
        "policy_name": "weekly",
    }
    asyncio.run(deploy("merge", parameters))

    from prefect.settings import PREFECT_API_URL

    prefect = Path(sys.executable).with_name("prefect")
    result = subprocess.run(
        [
            str(prefect),
            "deployment",
            "run",
            "nightly-snapshots/merge",
            "--param",
            "dry_run=true",
            "--param",
            'selection={"name_globs": ["infer-*"]}',
        ],
        cwd=ROOT,
        env={**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    async def runs() -> list[FlowRun]:
        async with get_client() as client:
            deployment = await client.read_deployment_by_name("nightly-snapshots/merge")
            from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

            return await client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id]))
            )

    (run,) = asyncio.run(runs())
    assert run.parameters == {
        # kept from the deployment
        "connection": {"api_key_secret_block": "barrack-api-key", "rate_limit": 5},
        "policy_name": "weekly",
        # given with the run: a nested value replaces the deployment's whole
        "dry_run": True,
        "selection": {"name_globs": ["infer-*"]},
    }
    # and the engine accepts what the merge made
    validated = nightly_snapshots.validate_parameters(run.parameters)
    assert validated["connection"].api_key_secret_block == "barrack-api-key"
    assert validated["dry_run"] is True


def _parameters(sim: SimHandle) -> dict[str, Any]:
    # The cron parameter disagrees with the deployments' schedules on purpose.
    return {
        "connection": {"base_url": sim.base_url},
        "now": sim.now().isoformat(),
        "cron": "30 1 * * *",
        "timezone": "UTC",
        "dry_run": True,
        "notify": False,
        "poll_seconds": 0.05,
        "max_poll_seconds": 0.2,
    }


async def _scheduled_runs(deployment_id: UUID) -> list[FlowRun]:
    """Let Prefect's scheduler make the last two days' runs (a backfill), and read them.

    Past runs, so the engine starts them at once (a future one waits for its time).
    """
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    async with get_client() as client:
        response = await client._client.post(
            f"/deployments/{deployment_id}/schedule",
            json={
                "start_time": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
                "end_time": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
                "max_runs": 20,
            },
        )
        response.raise_for_status()
        return await client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
        )


@contextmanager
def _no_suspension_observer(*_: object, **__: object) -> Iterator[None]:
    yield


def _execute(sim: SimHandle, flow_run: FlowRun, monkeypatch: pytest.MonkeyPatch) -> NightlyReport:
    # A deployment's run, executed in this process, first waits for Prefect's suspension
    # observer to subscribe to the API's events; under the test harness it never reports
    # ready (prefect 3.9.1), and the run waits for ever. Suspension plays no part here.
    monkeypatch.setattr(flow_engine, "observe_flow_run_suspension", _no_suspension_observer)
    monkeypatch.setenv("BARRACK_API_KEY", sim.api_key)
    with ClockTicker(sim, step=10, interval=0.01):
        report = asyncio.run(
            run_flow(nightly_snapshots, flow_run=flow_run, parameters=flow_run.parameters)
        )
    assert isinstance(report, NightlyReport)
    return report


def test_the_slot_follows_the_deployments_cron_schedule(
    sim: SimHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.reset()
    deployment_id = asyncio.run(
        deploy(
            "oslo",
            _parameters(sim),
            CronSchedule(cron="0 3 * * *", timezone="Europe/Oslo"),
        )
    )
    runs = asyncio.run(_scheduled_runs(deployment_id))
    assert runs, "the scheduler made runs"
    report = _execute(sim, runs[0], monkeypatch)
    # 03:00 in Oslo (CET) is 02:00 UTC; the parameter's slot would be 01:30 UTC.
    assert report.slot == datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def test_several_schedules_the_one_that_made_the_run_counts(
    sim: SimHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.reset()
    deployment_id = asyncio.run(
        deploy(
            "two-schedules",
            _parameters(sim),
            CronSchedule(cron="0 3 * * *", timezone="Europe/Oslo"),
            CronSchedule(cron="0 */6 * * *", timezone="UTC"),
        )
    )
    runs = asyncio.run(_scheduled_runs(deployment_id))
    six_hourly = [
        r
        for r in runs
        if r.expected_start_time is not None
        and r.expected_start_time.astimezone(UTC).hour % 6 == 0
        and r.expected_start_time.astimezone(UTC).hour != 2
    ]
    assert six_hourly, "the 6-hourly schedule made runs"
    report = _execute(sim, six_hourly[0], monkeypatch)
    assert report.slot == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # 0 */6 at sim time 12:00

    async def by_hand() -> FlowRun:
        async with get_client() as client:
            return await client.create_flow_run_from_deployment(deployment_id)

    # A run nobody's schedule made: the parameters name its slot (01:30 UTC).
    report = _execute(sim, asyncio.run(by_hand()), monkeypatch)
    assert report.slot == datetime(2026, 11, 27, 1, 30, tzinfo=UTC)
