"""Shared pieces of the hibernate-idle flow tests: a scenario, parameters, a runner."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flows.hibernate_idle.flow import hibernate_idle
from flows.hibernate_idle.params import HibernateIdleParams
from flows.hibernate_idle.report import Action, HibernateReport
from simulator.testing import SimHandle
from tasks.connection import BarrackConnection

__all__ = [
    "RUN_EVERY",
    "SCENARIO",
    "START",
    "actions",
    "ids",
    "params",
    "run",
    "status",
    "verdicts",
]

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
RUN_EVERY = 15 * 60
"""Seconds between runs, as deployed (every 15 minutes)."""

SCENARIO = """
name: hibernate-idle-test
account: {currency: USD, balance: "5000.00"}
ssh_keys: [{name: ops}]
instances:
  - {name: idle-a40, region: US-1, gpu_model: A40, age: 3d, utilization: {preset: idle}}
  - {name: idle-h100, region: NORWAY-1, gpu_model: H100-SXM5-80GB, gpu_count: 8, age: 3d,
     utilization: {preset: idle}}
  - {name: busy-train, region: NORWAY-1, gpu_model: A100-SXM4-80GB-NVLink, gpu_count: 4,
     age: 3d, utilization: {preset: busy}}
  - {name: spiky-infer, region: CANADA-1, gpu_model: L40, age: 3d, utilization: {preset: spiky}}
  - {name: fresh-box, region: US-1, gpu_model: A40, age: 40m, utilization: {preset: idle}}
  - {name: prod-db, region: US-1, gpu_model: L40, age: 3d, utilization: {preset: idle}}
  - {name: notebook-anna, region: US-1, gpu_model: RTX-A6000, age: 3d,
     utilization: {preset: idle}}
  - {name: stopped-render, region: US-1, gpu_model: L40, age: 3d, status: SHUTOFF,
     status_age: 1d}
"""


def ids(sim: SimHandle) -> dict[str, str]:
    """Instance ids by name."""
    with sim.client() as client:
        listed = client.get("/instances/", params={"per_page": 100}).json()["instances"]
    return {vm["name"]: vm["id"] for vm in listed}


def status(sim: SimHandle, name: str) -> str:
    """The named instance's status now."""
    with sim.client() as client:
        return str(client.get(f"/instances/{ids(sim)[name]}/").json()["instance"]["status"])


def params(sim: SimHandle, tmp_path: Path, **overrides: Any) -> HibernateIdleParams:
    """Parameters for a run at the simulator's time, memory in ``tmp_path``, no notifications."""
    base: dict[str, Any] = {
        "connection": BarrackConnection(base_url=sim.base_url),
        "now": sim.now(),
        "prometheus": {"url": sim.prometheus_url},
        "state_store": "file",
        "state_file": str(tmp_path / "idle-state.json"),
        "exempt_name_globs": ["prod-*"],
        "snoozes": [
            {"instance": "notebook-*", "until": START + timedelta(days=1), "reason": "demo"}
        ],
        "notify": False,
    }
    base.update(overrides)
    return HibernateIdleParams.model_validate(base)


def run(sim: SimHandle, tmp_path: Path, **overrides: Any) -> HibernateReport:
    """One flow run through Prefect's engine."""
    return asyncio.run(hibernate_idle(params(sim, tmp_path, **overrides)))


def actions(report: HibernateReport) -> dict[str, Action]:
    """What the run did, by instance name."""
    return {i.instance_name: i.action for i in report.instances}


def verdicts(report: HibernateReport) -> dict[str, str]:
    """What the rules said, by instance name."""
    return {i.instance_name: i.verdict for i in report.instances}
