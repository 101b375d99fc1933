"""Hibernate and stop act at most once: their own earlier effect counts as done.

The tasks run in Prefect's real engine (inside a flow), as in the recipes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from prefect import flow

from barrack import InvalidStateError
from barrack.models import VMInstance, VMStatus
from simulator.testing import SimHandle, running_simulator
from tasks.connection import BarrackConnection
from tasks.instances import hibernate_instance, stop_instance

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("prefect_harness")

ACTIONS: dict[str, tuple[Any, set[str]]] = {
    "hibernate": (hibernate_instance, {VMStatus.HIBERNATING, VMStatus.HIBERNATED}),
    "stop": (stop_instance, {VMStatus.STOPPING, VMStatus.SHUTOFF}),
}


async def _in_a_flow(action: Any, conn: BarrackConnection, instance_id: str) -> VMInstance:
    @flow
    async def one_action() -> VMInstance:
        return cast(VMInstance, await action(conn, instance_id))

    return await one_action()


@pytest.fixture(scope="module")
def module_sim() -> Iterator[SimHandle]:
    with running_simulator("empty", seed=2, start=START) as sim:
        yield sim


@pytest.fixture
def sim(module_sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> SimHandle:
    module_sim.reset()
    module_sim.load_scenario("fleet", instances=6, snapshots_per_instance=0)
    monkeypatch.setenv("BARRACK_API_KEY", module_sim.api_key)
    return module_sim


def _active(sim: SimHandle) -> str:
    with sim.client() as client:
        listing = client.get("/instances/", params={"per_page": 100}).json()["instances"]
    return str(next(vm["id"] for vm in listing if vm["status"] == "ACTIVE"))


def _posts(sim: SimHandle, instance_id: str, action: str) -> int:
    path = f"/api/instances/{instance_id}/{action}/"
    return len([r for r in sim.requests() if r["method"] == "POST" and r["path"] == path])


@pytest.mark.parametrize("action", sorted(ACTIONS))
async def test_a_retry_meeting_its_own_lost_effect_is_done(sim: SimHandle, action: str) -> None:
    call, reached = ACTIONS[action]
    instance_id = _active(sim)
    sim.settings(idempotency_replay=False)
    sim.set_faults(
        {"method": "POST", "path": f"/api/instances/*/{action}/", "drop_after_commit": True,
         "times": 1}
    )  # fmt: skip
    conn = BarrackConnection(base_url=sim.base_url)

    vm = await _in_a_flow(call, conn, instance_id)

    assert vm.id == instance_id
    assert vm.status in reached
    assert _posts(sim, instance_id, action) == 2, "the lost answer was retried, once"


@pytest.mark.parametrize("action", sorted(ACTIONS))
async def test_a_refusal_without_a_lost_answer_is_an_error(sim: SimHandle, action: str) -> None:
    call, _ = ACTIONS[action]
    instance_id = _active(sim)
    conn = BarrackConnection(base_url=sim.base_url)
    await _in_a_flow(call, conn, instance_id)  # the first run acts

    with pytest.raises(InvalidStateError):
        await _in_a_flow(call, conn, instance_id)  # a second, separate call is refused, not adopted
