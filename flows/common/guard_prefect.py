"""The cross-host half of the run guard: one slot of a Prefect global concurrency limit.

The Prefect server hands out the slot atomically (a second taker gets ``423 Locked``)
and under a lease: the holder renews it while it runs; if the holder dies, the lease
expires after ``lease_seconds`` and the server gives the slot back. A holder known to be
dead (its host's lock file says so) is released at once by its lease id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any, Final
from uuid import UUID

import httpx

__all__ = ["LEASE_MIN_SECONDS", "LeaseUnavailableError", "held_lease", "release_lease"]

logger = logging.getLogger(__name__)

LEASE_MIN_SECONDS: Final = 60.0
"""The shortest lease the Prefect server grants."""

_LOCKED: Final = 423


class LeaseUnavailableError(RuntimeError):
    """The slot stayed taken until the deadline."""


def _client() -> Any:
    from prefect import get_client

    return get_client()


async def _ensure_limit(client: Any, name: str) -> None:
    """Create the one-slot limit on first use (a concurrent creator's 409 is fine)."""
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    try:
        await client.read_global_concurrency_limit_by_name(name)
    except ObjectNotFound:
        with suppress(ObjectAlreadyExists):
            await client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=name, limit=1)
            )


def _holder(flow_run_id: str | None) -> Any:
    if flow_run_id is None:
        return None
    from prefect.client.schemas.objects import ConcurrencyLeaseHolder

    return ConcurrencyLeaseHolder(type="flow_run", id=UUID(flow_run_id))


async def _acquire(
    client: Any,
    name: str,
    *,
    lease_seconds: float,
    flow_run_id: str | None,
    deadline: float,
    poll_seconds: float,
) -> UUID:
    await _ensure_limit(client, name)
    while True:
        try:
            response = await client.increment_concurrency_slots_with_lease(
                names=[name],
                slots=1,
                mode="concurrency",
                lease_duration=lease_seconds,
                holder=_holder(flow_run_id),
            )
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != _LOCKED:
                raise
            if time.monotonic() >= deadline:
                raise LeaseUnavailableError(name) from None
            await asyncio.sleep(min(poll_seconds, max(0.0, deadline - time.monotonic())))
            continue
        return UUID(str(response.json()["lease_id"]))


async def _renew_forever(client: Any, lease_id: UUID, lease_seconds: float) -> None:
    # Renew well before expiry; a failed renewal is retried on the next beat, and the
    # lease only lapses if renewals keep failing for the whole lease.
    while True:
        await asyncio.sleep(lease_seconds / 3)
        try:
            await client.renew_concurrency_lease(lease_id=lease_id, lease_duration=lease_seconds)
        except Exception as exc:  # keep the run going; the server may expire the lease
            logger.warning("run guard: renewing lease %s failed (%s)", lease_id, exc)


@asynccontextmanager
async def held_lease(
    name: str,
    *,
    lease_seconds: float,
    flow_run_id: str | None,
    deadline: float,
    poll_seconds: float,
) -> AsyncIterator[UUID]:
    """Hold the one slot of the limit ``name`` (created on first use) for the block.

    Args:
        name: the global concurrency limit's name.
        lease_seconds: how long the server keeps the slot for a holder that stops
            renewing (at least :data:`LEASE_MIN_SECONDS`).
        flow_run_id: the holding flow run, shown as the lease holder.
        deadline: ``time.monotonic()`` value after which a taken slot is not waited for.
        poll_seconds: the pause between attempts while the slot is taken.

    Yields:
        The lease id (record it so a successor on this host can release it after a crash).

    Raises:
        LeaseUnavailableError: the slot stayed taken until ``deadline``.
    """
    lease_seconds = max(LEASE_MIN_SECONDS, lease_seconds)
    async with _client() as client:
        lease_id = await _acquire(
            client,
            name,
            lease_seconds=lease_seconds,
            flow_run_id=flow_run_id,
            deadline=deadline,
            poll_seconds=poll_seconds,
        )
        renewal = asyncio.create_task(_renew_forever(client, lease_id, lease_seconds))
        try:
            yield lease_id
        finally:
            renewal.cancel()
            with suppress(asyncio.CancelledError):
                await renewal
            await _release(client, lease_id)


async def _release(client: Any, lease_id: UUID) -> None:
    try:
        await client.release_concurrency_slots_with_lease(lease_id=lease_id)
    except Exception as exc:  # the lease expires on its own; never fail the run for it
        logger.warning("run guard: releasing lease %s failed (%s)", lease_id, exc)


async def release_lease(lease_id: str) -> None:
    """Release a lease by id: one a crashed run on this host left behind."""
    async with _client() as client:
        await _release(client, UUID(lease_id))
