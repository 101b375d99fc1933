"""The run guard's cross-host slot is Prefect's ``concurrency()`` on a global concurrency
limit, against the real Prefect test server. Two hosts are two lock directories: their
host locks never meet, so only the Prefect slot keeps them apart.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.common.guard import (
    GuardSettings,
    RunInProgressError,
    exclusive_run,
    guard_scope,
    limit_name,
)

pytestmark = pytest.mark.usefixtures("prefect_harness")


def host(directory: Path, wait_seconds: float = 0.5) -> GuardSettings:
    return GuardSettings.model_validate(
        {"mode": "prefect", "wait_seconds": wait_seconds, "lock_dir": directory}
    )


async def active_slots(name: str) -> int:
    from prefect import get_client

    async with get_client() as client:
        limit = await client.read_global_concurrency_limit_by_name(name)
    assert limit.limit == 1
    return limit.active_slots


async def test_a_run_on_another_host_is_refused_while_the_slot_is_held(tmp_path: Path) -> None:
    name = limit_name(guard_scope("low-balance", "two-hosts"))
    host_a, host_b = host(tmp_path / "a", wait_seconds=60), host(tmp_path / "b")
    async with exclusive_run("low-balance", "two-hosts", settings=host_a) as held:
        assert held is not None
        assert held.lease_id is not None
        assert await active_slots(name) == 1  # the guard created the one-slot limit
        with pytest.raises(RunInProgressError, match="a run on another host"):
            async with exclusive_run("low-balance", "two-hosts", settings=host_b):
                pytest.fail("two hosts held the scope at once")
        # Another scope is not held up.
        async with exclusive_run("low-balance", "other-account", settings=host_b):
            pass
    assert await active_slots(name) == 0  # released at the end of the block
    async with exclusive_run("low-balance", "two-hosts", settings=host(tmp_path / "b", 0)):
        assert await active_slots(name) == 1


async def test_a_failing_body_still_releases_the_slot(tmp_path: Path) -> None:
    name = limit_name(guard_scope("nightly-snapshots", "fails"))
    with pytest.raises(RuntimeError, match="the recipe failed"):
        async with exclusive_run("nightly-snapshots", "fails", settings=host(tmp_path)):
            raise RuntimeError("the recipe failed")
    assert await active_slots(name) == 0
