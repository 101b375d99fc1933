"""Running the nightly-snapshots flow against a simulator, as the flow tests do."""

from __future__ import annotations

import asyncio

from flows.nightly_snapshots.flow import nightly_snapshots
from flows.nightly_snapshots.params import NightlySnapshotsParams
from flows.nightly_snapshots.report import NightlyReport
from simulator.testing import SimHandle
from simulator.ticker import ClockTicker
from tasks.connection import BarrackConnection

__all__ = ["nightly_params", "run_nightly"]


def nightly_params(sim: SimHandle, **overrides: object) -> NightlySnapshotsParams:
    """Parameters for a quick run against ``sim``: short polls, no notifications."""
    base: dict[str, object] = {
        "connection": BarrackConnection(base_url=sim.base_url),
        "now": sim.now(),
        "poll_seconds": 0.05,
        "max_poll_seconds": 0.2,
        "wait_timeout_minutes": 1,
        "notify": False,
    }
    base.update(overrides)
    return NightlySnapshotsParams.model_validate(base)


def run_nightly(sim: SimHandle, **overrides: object) -> NightlyReport:
    """One run through Prefect's engine while a ticker moves the simulated clock."""
    with ClockTicker(sim, step=10, interval=0.01):
        return asyncio.run(nightly_snapshots(nightly_params(sim, **overrides)))
