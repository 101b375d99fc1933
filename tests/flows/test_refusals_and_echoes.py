"""Two ways an API answer lies, through the real nightly flow (Prefect engine, simulator).

* A ``200`` whose body says ``"success": false`` is a refusal: the deletion it answers is
  reported as failed, the snapshot is still there, and the run is not ok.
* An error page that quotes the API key (a proxy's page listing the request's headers)
  reaches no exception, no task or flow state and no stored log: the client scrubs the
  server's words before raising.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import UUID

import pytest

from barrack import AsyncBarrack
from flows.nightly_snapshots.flow import nightly_snapshots
from flows.nightly_snapshots.report import DeletionStatus, NightlyReport
from simulator.testing import SimHandle, running_simulator
from simulator.ticker import ClockTicker
from tests.helpers.nightly import nightly_params, run_nightly

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def demo_sim() -> Iterator[SimHandle]:
    with running_simulator("demo", seed=1, start=START) as sim:
        yield sim


@pytest.fixture
def sim(demo_sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimHandle]:
    demo_sim.reset()
    demo_sim.top_up("100000")
    monkeypatch.setenv("BARRACK_API_KEY", demo_sim.api_key)
    yield demo_sim
    demo_sim.clear_faults()


def run(sim: SimHandle, **overrides: object) -> NightlyReport:
    # Keep only the newest owned snapshot: the demo's older nightly ones are pruned.
    rules: dict[str, object] = {"retention": {"keep_last": 1}, "max_deletions": 1000}
    return run_nightly(sim, **{**rules, **overrides})


def snapshot_ids(sim: SimHandle) -> set[str]:
    async def fetch() -> set[str]:
        async with AsyncBarrack(api_key=sim.api_key, base_url=sim.base_url) as client:
            return {s.id async for s in client.snapshots.list()}

    return asyncio.run(fetch())


def test_a_refusal_under_200_is_reported_as_a_failure_and_nothing_is_lost(sim: SimHandle) -> None:
    planned = run(sim, dry_run=True)
    assert planned.deleted_count() > 0, "the scenario gives the pruner something to delete"
    sim.set_faults({"method": "DELETE", "path": "/api/snapshots/*", "refuse_rate": 1.0})
    before = snapshot_ids(sim)

    report = run(sim)

    attempted = [d for d in report.deletions if d.status is not DeletionStatus.BLOCKED]
    assert attempted, "the run tried its deletions"
    assert all(d.status in (DeletionStatus.REFUSED, DeletionStatus.FAILED) for d in attempted)
    assert not any(d.status is DeletionStatus.DELETED for d in report.deletions)
    assert not report.ok
    assert {d.snapshot_id for d in attempted} <= snapshot_ids(sim)
    assert before - snapshot_ids(sim) == set(), "no snapshot the run saw has gone"


async def _stored_texts(flow_run_id: UUID) -> list[str]:
    """The flow run's state message, its task runs' state messages and every stored log."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )

    async with get_client() as client:
        flow_run = await client.read_flow_run(flow_run_id)
        texts = [flow_run.state.message or "" if flow_run.state else ""]
        task_runs = await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
        texts += [t.state.message or "" for t in task_runs if t.state is not None]
        logs = await client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
        )
        texts += [log.message for log in logs]
    return texts


def test_an_error_page_that_quotes_the_key_leaks_it_nowhere(sim: SimHandle) -> None:
    from prefect.client.schemas.objects import FlowRun

    # Every snapshot deletion meets a gateway page that lists the request's headers. A 401
    # is not retried, so the run meets it at once (a 502 page is scrubbed the same way:
    # tests/barrack/test_dialect.py).
    sim.set_faults(
        {
            "method": "DELETE",
            "path": "/api/snapshots/*",
            "error_rate": 1.0,
            "status": 401,
            "echo_headers": True,
        }
    )
    with ClockTicker(sim, step=10, interval=0.01):
        params = nightly_params(sim, retention={"keep_last": 1}, max_deletions=1000)
        state = asyncio.run(nightly_snapshots(params, return_state=True))
    report = state.result()
    assert isinstance(report, NightlyReport)
    failed = [d for d in report.deletions if d.status is DeletionStatus.FAILED]
    assert failed, "the deletions failed on the echoing page"
    assert any("Upstream error" in d.reason or "401" in d.reason for d in failed)

    texts = [d.reason for d in report.deletions] + [report.markdown()]
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    texts += asyncio.run(_stored_texts(flow_run_id))
    assert texts, "there is something to scan"
    leaked = [t for t in texts if sim.api_key in t]
    assert leaked == [], "the API key reached a report, a state or a stored log"
    assert FlowRun  # the import above proves the client schema is importable offline
