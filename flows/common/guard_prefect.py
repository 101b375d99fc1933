"""The cross-host half of the run guard: one slot of a Prefect global concurrency limit.

The slot is held with Prefect's own :func:`prefect.concurrency.asyncio.concurrency`: the
server hands it out atomically and under a lease, which Prefect renews while the run
goes on and releases when it ends. A holder that dies stops renewing, and the server
gives the slot back when the lease expires (``lease_seconds``). A holder known to be dead
(its host's lock file says so) is released at once by its lease id, which this module
learns from Prefect's :class:`~prefect.concurrency.context.ConcurrencyContext` (Prefect
records every granted lease there for its own cleanup).

:func:`held_lease` creates the one-slot limit on first use, then asks for it
``strict``ly: without the limit, ``concurrency()`` would quietly let every run through.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from typing import Any, Final
from uuid import UUID

import httpx

__all__ = [
    "LEASE_MIN_SECONDS",
    "LeaseUnavailableError",
    "ensure_limit",
    "held_lease",
    "release_lease",
]

logger = logging.getLogger(__name__)

LEASE_MIN_SECONDS: Final = 60.0
"""The shortest lease the Prefect server grants."""

_LOCKED: Final = 423


class LeaseUnavailableError(RuntimeError):
    """The slot stayed taken for the whole wait."""


def _client() -> Any:
    from prefect import get_client

    return get_client()


async def ensure_limit(name: str) -> None:
    """Create the one-slot global concurrency limit ``name`` unless it exists.

    A concurrent creator's "already exists" is fine. On Prefect Cloud this needs the
    permission to create concurrency limits; without it, create the limits beforehand.
    """
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    async with _client() as client:
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


def _was_locked(error: BaseException) -> bool:
    cause = error.__cause__
    return isinstance(cause, httpx.HTTPStatusError) and cause.response.status_code == _LOCKED


@asynccontextmanager
async def held_lease(
    name: str, *, lease_seconds: float, flow_run_id: str | None, wait_seconds: float
) -> AsyncIterator[UUID | None]:
    """Hold the one slot of the limit ``name`` (created on first use) for the block.

    The first request is never cut short (on a busy API it may take longer than a short
    wait); only while the slot is taken does the run wait, up to ``wait_seconds``.

    Args:
        name: the global concurrency limit's name.
        lease_seconds: how long the server keeps the slot for a holder that stops
            renewing (at least :data:`LEASE_MIN_SECONDS`).
        flow_run_id: the holding flow run, shown as the lease holder.
        wait_seconds: how long to wait while the slot is taken (0: one try).

    Yields:
        The lease id (record it so a successor on this host can release it after a crash).

    Raises:
        LeaseUnavailableError: the slot stayed taken for ``wait_seconds``.
    """
    lease_seconds = max(LEASE_MIN_SECONDS, lease_seconds)
    deadline = time.monotonic() + wait_seconds
    await ensure_limit(name)
    holder = _holder(flow_run_id)
    async with AsyncExitStack() as stack:
        try:
            lease_id = await stack.enter_async_context(
                _slot(name, lease_seconds=lease_seconds, holder=holder, wait=None)
            )
        except LeaseUnavailableError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise
            lease_id = await stack.enter_async_context(
                _slot(name, lease_seconds=lease_seconds, holder=holder, wait=remaining)
            )
        yield lease_id


@asynccontextmanager
async def _slot(
    name: str, *, lease_seconds: float, holder: Any, wait: float | None
) -> AsyncIterator[UUID | None]:
    """One ``concurrency()`` hold: one try (``wait`` None), or tries for ``wait`` seconds."""
    from prefect.concurrency.asyncio import (
        AcquireConcurrencySlotTimeoutError,
        ConcurrencySlotAcquisitionError,
        concurrency,
    )
    from prefect.concurrency.context import ConcurrencyContext

    acquired = False
    with ConcurrencyContext() as context:
        try:
            async with concurrency(
                name,
                occupy=1,
                timeout_seconds=wait,
                max_retries=0 if wait is None else None,
                lease_duration=lease_seconds,
                strict=True,
                holder=holder,
                # a failed renewal must not kill a run midway: the next one may succeed
                raise_on_lease_renewal_failure=False,
            ):
                acquired = True
                leases = context.cleanup_lease_ids
                yield leases[-1] if leases else None
        except AcquireConcurrencySlotTimeoutError:
            if acquired:
                raise
            raise LeaseUnavailableError(name) from None
        except ConcurrencySlotAcquisitionError as error:
            if acquired or not _was_locked(error):
                raise
            raise LeaseUnavailableError(name) from None


async def release_lease(lease_id: str) -> None:
    """Release a lease by id: one a crashed run on this host left behind."""
    async with _client() as client:
        try:
            await client.release_concurrency_slots_with_lease(lease_id=UUID(lease_id))
        except Exception as exc:  # the lease expires on its own; never fail the run for it
            logger.warning("run guard: releasing lease %s failed (%s)", lease_id, exc)
