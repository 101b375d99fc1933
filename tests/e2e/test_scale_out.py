"""Two workers on one pool: several runs at once, each run exactly once, one at a time per
deployment.

The stack runs two process workers, each taking one flow run at a time, so both must take
work while runs are queued. Three nightly-snapshots runs (each for its own future slot, so
each must create its own snapshots) and two hibernate-idle dry runs are created together.
Proof of "exactly once" comes from three places: Prefect's state history (one Running per
run), the workers' logs (one submission per run, across both workers) and the simulator's
request log (exactly one snapshot create per instance and slot, none refused).

The stack's Prefect server runs on PostgreSQL (tests/e2e/conftest.py), Prefect's choice
for more than one worker: the runs' state changes and the deployment's concurrency slot
are taken in its transactions.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import re
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from deployments.stack import RunningStack
from deployments.stack.postgres import DATABASE, DB_USER, PostgresCluster
from flows.nightly_snapshots.schedule import slot_for, snapshot_name
from simulator.control import SimControl

pytestmark = pytest.mark.slow

# Instances with small disks: their snapshots are ready within seconds of simulated time.
SELECTED = ("inference-*", "embed-*")
NIGHTLY_RUNS = 2
HIBERNATE_RUNS = 2
RUN_TIMEOUT_SECONDS = 420


def _nightly_params(now: datetime) -> dict[str, Any]:
    # Flat, like every deployment's parameters: these merge with the deployment's own.
    return {
        "selection": {"name_globs": list(SELECTED)},
        "policy_name": "e2e-scale-out",
        # Both runs' snapshots are taken on the same simulated day: keep them all.
        "preset": "minimal",
        "now": now.isoformat(),
        "poll_seconds": 0.5,
        "max_poll_seconds": 1,
        "wait_timeout_minutes": 10,
        "notify": False,
    }


def _hibernate_params(stack: RunningStack) -> dict[str, Any]:
    return {
        "probe": "prometheus",
        "prometheus": {"url": stack.state.sim_root_url},
        "dry_run": True,
        "notify": False,
    }


def _started_by_worker(logs: list[Path]) -> dict[str, Counter[str]]:
    """Per worker log: how many times each flow run (by name) was started in a process.

    A worker may be refused a run (another worker has it, or its deployment is busy): it
    logs the attempt as aborted. Only "submitted to infrastructure" starts a process.
    """
    pattern = re.compile(r"Flow run '([^']+)' submitted to infrastructure")
    return {
        log.stem: Counter(pattern.findall(log.read_text(encoding="utf-8", errors="replace")))
        for log in logs
    }


async def _runs_in_postgres(stack: RunningStack, ids: list[UUID]) -> int:
    cluster = PostgresCluster(stack.config.postgres_dir)
    connection = await asyncpg.connect(
        host=str(cluster.socket_dir), port=cluster.port, user=DB_USER, database=DATABASE
    )
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM flow_run WHERE id = ANY($1::uuid[])", ids
        )
    finally:
        await connection.close()
    return int(count)


def test_two_workers_run_each_run_once_and_never_overlap_a_deployment(
    local_stack: RunningStack, sim: SimControl
) -> None:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.objects import StateType

    sim.top_up("5000")  # the demo account must not run dry (instances stop) mid-test
    sim_now = datetime.fromisoformat(sim.clock()["now"].replace("Z", "+00:00"))
    active = sorted(
        vm["name"]
        for vm in sim.instances()
        if vm["status"] == "ACTIVE" and any(fnmatch.fnmatchcase(vm["name"], g) for g in SELECTED)
    )
    assert len(active) >= 2, "the demo scenario has busy inference boxes"
    # Slots well ahead of the simulated clock: names no snapshot of the scenario has.
    evaluation_times = [sim_now + timedelta(days=30 + k) for k in range(NIGHTLY_RUNS)]

    with SyncPrefectClient(local_stack.state.api_url) as client:
        nightly = client.read_deployment_by_name("nightly-snapshots/nightly-snapshots")
        hibernate = client.read_deployment_by_name("hibernate-idle/hibernate-idle")
        created = [
            client.create_flow_run_from_deployment(nightly.id, parameters=_nightly_params(now))
            for now in evaluation_times
        ] + [
            client.create_flow_run_from_deployment(
                hibernate.id, parameters=_hibernate_params(local_stack)
            )
            for _ in range(HIBERNATE_RUNS)
        ]
        ids = [run.id for run in created]

        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        while True:
            runs = {run_id: client.read_flow_run(run_id) for run_id in ids}
            if all(r.state is not None and r.state.is_final() for r in runs.values()):
                break
            assert time.monotonic() < deadline, {
                str(i): r.state.name if r.state else None for i, r in runs.items()
            }
            time.sleep(1)
        histories = {run_id: client.read_flow_run_states(run_id) for run_id in ids}

    if local_stack.config.database == "postgres":
        # The server kept the runs in the stack's PostgreSQL, not in a SQLite file.
        assert local_stack.state.database == "postgres"
        assert asyncio.run(_runs_in_postgres(local_stack, ids)) == len(ids)

    # Every run completed, once: handed to a worker (Pending) once, Running once.
    assert {r.state.type for r in runs.values() if r.state} == {StateType.COMPLETED}, {
        f"{r.name} ({r.deployment_id})": (r.state.type, r.state.message)
        for r in runs.values()
        if r.state and r.state.type is not StateType.COMPLETED
    } | {
        log.name: log.read_text(errors="replace")[-3000:]
        for log in local_stack.config.logs_dir.glob("worker-*.log")
    }
    for run_id, run in runs.items():
        assert run.run_count == 1, run_id
        names = [s.name for s in histories[run_id]]
        assert names.count("Pending") == 1, (run_id, names)
        assert names.count("Running") == 1, (run_id, names)

    # Both workers started runs; each run was started by exactly one worker, once.
    logs = sorted(local_stack.config.logs_dir.glob("worker-*.log"))
    assert len(logs) == 2
    run_names = {run.name for run in runs.values()}
    per_worker = {
        worker: Counter({name: n for name, n in counts.items() if name in run_names})
        for worker, counts in _started_by_worker(logs).items()
    }
    started = sum(per_worker.values(), Counter[str]())
    assert started == Counter(dict.fromkeys(run_names, 1)), per_worker
    assert all(per_worker.values()), f"a worker started none of the runs: {per_worker}"

    # No deployment ran two of its runs at the same time (its concurrency limit of one).
    for deployment_id in (nightly.id, hibernate.id):
        spans = []
        for run in runs.values():
            if run.deployment_id == deployment_id:
                assert run.start_time is not None
                assert run.end_time is not None
                spans.append((run.start_time, run.end_time))
        assert len(spans) >= 2
        for (_, end), (next_start, _) in itertools.pairwise(sorted(spans)):
            assert end <= next_start, spans

    # The simulator saw one snapshot create per selected instance and slot: no run acted twice.
    creates = [
        entry
        for entry in sim.requests()
        if entry["method"] == "POST" and entry["path"] == "/api/snapshots/"
    ]
    assert len(creates) == NIGHTLY_RUNS * len(active), creates
    assert all(200 <= entry["status"] < 300 and not entry["replayed"] for entry in creates)
    assert not [e for e in sim.requests() if e["method"] == "DELETE"], "nothing to prune"
    snapshot_names = Counter(s["name"] for s in sim.snapshots())
    for now in evaluation_times:
        slot = slot_for("0 2 * * *", "UTC", now)
        for vm in active:
            assert snapshot_names[snapshot_name(vm, slot, "e2e-scale-out")] == 1, (vm, slot)
