"""The overlap guard: one run of a scope at a time, on one host and across hosts, and a
holder that dies (SIGKILL) never leaves the scope locked behind it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from flows.common.guard import (
    GuardSettings,
    RunInProgressError,
    exclusive_run,
    guard_scope,
    limit_name,
)
from flows.common.guard_file import FileRunLock, LockRecord

REPO = Path(__file__).resolve().parents[2]


def settings(tmp_path: Path, **changes: object) -> GuardSettings:
    values: dict[str, object] = {"mode": "file", "wait_seconds": 0, "lock_dir": tmp_path}
    values.update(changes)
    return GuardSettings.model_validate(values)


async def test_a_second_run_of_a_held_scope_is_refused_naming_the_holder(tmp_path: Path) -> None:
    async with exclusive_run("nightly-snapshots", "nightly", settings=settings(tmp_path)):
        with pytest.raises(RunInProgressError) as refused:
            async with exclusive_run("nightly-snapshots", "nightly", settings=settings(tmp_path)):
                pytest.fail("two holders at once")
        async with exclusive_run("nightly-snapshots", "other", settings=settings(tmp_path)):
            pass  # another policy is another scope
    message = str(refused.value)
    assert "another run of nightly-snapshots/nightly is in progress" in message
    assert f"pid {os.getpid()}" in message
    assert "did nothing" in message
    async with exclusive_run("nightly-snapshots", "nightly", settings=settings(tmp_path)):
        pass  # released on exit


async def test_a_waiting_run_goes_when_the_holder_is_done(tmp_path: Path) -> None:
    events: list[str] = []

    async def run(name: str) -> None:
        async with exclusive_run(
            "low-balance", "acct", settings=settings(tmp_path, wait_seconds=5)
        ):
            events.append(f"{name} in")
            await asyncio.sleep(0.2)
            events.append(f"{name} out")

    await asyncio.gather(run("a"), run("b"))
    assert events in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])


async def test_the_guard_can_be_switched_off(tmp_path: Path) -> None:
    async with exclusive_run(
        "hibernate-idle", "p", settings=settings(tmp_path, mode="off")
    ) as held:
        assert held is None
        async with exclusive_run("hibernate-idle", "p", settings=settings(tmp_path, mode="off")):
            pass


def test_the_host_lock_dies_with_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "scope.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from flows.common.guard_file import FileRunLock\n"
            "lock = FileRunLock(Path(sys.argv[1]))\n"
            "assert lock.try_acquire()\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        assert not FileRunLock(path).try_acquire(), "held by the other process"
    finally:
        os.kill(holder.pid, signal.SIGKILL)  # the run dies without any cleanup
        holder.wait(timeout=10)
    successor = FileRunLock(path)
    assert successor.try_acquire(), "the kernel released it with the process"
    successor.release()


@pytest.mark.usefixtures("prefect_harness")
async def test_across_hosts_the_prefect_slot_excludes_and_a_dead_holders_lease_is_freed(
    tmp_path: Path,
) -> None:
    """Another host's holder keeps the slot; a crashed holder on this host is cleared."""
    from prefect import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    scope = guard_scope("restore-to-region", "snapshot snap-x")
    name = limit_name(scope)
    async with get_client() as client:
        await client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name=name, limit=1)
        )
        taken = await client.increment_concurrency_slots_with_lease(
            names=[name], slots=1, mode="concurrency", lease_duration=300
        )
    lease_id = str(taken.json()["lease_id"])

    # Held elsewhere (nothing on this host says who): refused after the wait.
    prefect = settings(tmp_path, mode="prefect", wait_seconds=0.5)
    with pytest.raises(RunInProgressError, match="a run on another host"):
        async with exclusive_run("restore-to-region", "snapshot snap-x", settings=prefect):
            pytest.fail("the slot is taken")

    # The lock file says a run on this host took that lease and never let go: it died
    # (we hold the host lock it held), so its lease is released and this run goes.
    lock = FileRunLock(prefect.lock_path(scope))
    assert lock.try_acquire()
    lock.write(
        LockRecord(scope, "dead-run", None, 999_999, "this-host", "2026-11-28T02:00:00Z", lease_id)
    )
    lock.release()
    async with exclusive_run("restore-to-region", "snapshot snap-x", settings=prefect) as held:
        assert held is not None
        assert held.lease_id not in (None, lease_id)
    record = FileRunLock(prefect.lock_path(scope)).read()
    assert record is not None
    assert asdict(record)["released"] is True
