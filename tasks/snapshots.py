"""Snapshot tasks: one Prefect task per API intent."""

from __future__ import annotations

import time
from collections.abc import Sequence
from operator import attrgetter

import anyio
from prefect import task
from prefect.logging import get_run_logger
from pydantic import BaseModel, Field

from barrack import (
    APIResponseValidationError,
    DuplicateNameError,
    NotFoundError,
    RequestValidationError,
)
from barrack.models import READY_SNAPSHOT_STATUSES, Snapshot, SnapshotStatus
from tasks._options import API_TASK, PAGES_IN_FLIGHT
from tasks.connection import BarrackConnection, borrow_client

__all__ = [
    "WaitResult",
    "create_snapshot",
    "delete_snapshot",
    "list_snapshots",
    "wait_for_snapshots",
]


@task(name="list-snapshots", **API_TASK)
async def list_snapshots(
    connection: BarrackConnection,
    *,
    region: str | None = None,
    instance_id: str | None = None,
) -> list[Snapshot]:
    """Every snapshot of the account (or of one region or instance), all pages.

    The first page tells how many there are; the others are fetched a few at a time and
    joined in page order. A snapshot that shifts from one page to the next while the
    listing runs is kept once.
    """
    client = await borrow_client(connection)
    listing = client.snapshots.list(region=region, instance_id=instance_id)
    return await listing.to_list(concurrency=PAGES_IN_FLIGHT, key=attrgetter("id"))


@task(name="create-snapshot", task_run_name="create-snapshot-{name}", **API_TASK)
async def create_snapshot(
    connection: BarrackConnection,
    *,
    instance_id: str,
    name: str,
    description: str | None = None,
) -> Snapshot:
    """Snapshot an instance under a deterministic name, at most once.

    The name is the guard against duplicates: when it is taken already (a rerun of the
    same slot, or a retry whose first answer was lost), the existing snapshot of this
    instance is returned instead of a second one. The same name on another instance is an
    error, never silently adopted.
    """
    if not instance_id or not name:
        raise RequestValidationError("snapshots.create", [("instance_id/name", "required")])
    client = await borrow_client(connection)
    try:
        return await client.snapshots.create(
            instance_id=instance_id,
            name=name,
            description=description,
            idempotency_key=f"snapshot:{instance_id}:{name}",
        )
    except (DuplicateNameError, APIResponseValidationError):
        # Taken already, or made just now with an unreadable answer (a success status
        # whose body broke the contract): either way, find it rather than fail or retake.
        existing = await _find_by_name(connection, name=name, instance_id=instance_id)
        if existing is None:
            raise
        get_run_logger().info(
            "snapshot %s already exists for %s (%s): not taken twice",
            name,
            instance_id,
            existing.id,
        )
        return existing


async def _find_by_name(
    connection: BarrackConnection, *, name: str, instance_id: str
) -> Snapshot | None:
    client = await borrow_client(connection)
    async for snap in client.snapshots.list(instance_id=instance_id):
        if snap.name == name and snap.instance_id == instance_id:
            return snap
    return None


class WaitResult(BaseModel):
    """How a wait for snapshots ended.

    Attributes:
        snapshots: the last seen state of every awaited snapshot that still exists, by id.
        missing: awaited ids that disappeared (deleted by someone else meanwhile).
        timed_out: whether some snapshot was still not settled at the deadline.
    """

    snapshots: dict[str, Snapshot] = Field(default_factory=dict)
    missing: list[str] = Field(default_factory=list)
    timed_out: bool = False


@task(name="wait-for-snapshots", **API_TASK)
async def wait_for_snapshots(
    connection: BarrackConnection,
    snapshot_ids: Sequence[str],
    *,
    timeout_seconds: float = 3600.0,
    first_poll_seconds: float = 5.0,
    max_poll_seconds: float = 60.0,
) -> WaitResult:
    """Wait until every snapshot is ``SUCCESS`` or ``ERROR``, polling by list calls.

    Each round lists snapshots newest first and stops paging as soon as every pending id
    has been seen, so a round costs one or two calls however many snapshots are awaited
    (one GET per snapshot per round would cost N). The wait between rounds grows
    (x1.5) up to ``max_poll_seconds``. Snapshots that never settle are returned in their
    last state with ``timed_out`` set; ids that disappeared are listed in ``missing``.
    """
    if timeout_seconds <= 0 or first_poll_seconds <= 0 or max_poll_seconds <= 0:
        raise RequestValidationError(
            "wait-for-snapshots", [("timeout/poll seconds", "must be positive")]
        )
    client = await borrow_client(connection)
    logger = get_run_logger()
    result = WaitResult()
    pending = set(snapshot_ids)
    deadline = time.monotonic() + timeout_seconds
    last_pending = -1
    delay = first_poll_seconds
    while pending:
        seen: set[str] = set()
        async for snap in client.snapshots.list():
            if snap.id in pending:
                seen.add(snap.id)
                result.snapshots[snap.id] = snap
                if _settled(snap.status):
                    pending.discard(snap.id)
            if seen >= pending:
                break
        vanished = pending - seen
        for snapshot_id in vanished:
            result.missing.append(snapshot_id)
        pending -= vanished
        if not pending:
            break
        if time.monotonic() >= deadline:
            result.timed_out = True
            logger.warning(
                "%d snapshot(s) still not ready after %.0fs", len(pending), timeout_seconds
            )
            break
        if len(pending) != last_pending:  # a line when the count changes, not every look
            logger.info("%d snapshot(s) still creating", len(pending))
            last_pending = len(pending)
        await anyio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(max_poll_seconds, delay * 1.5)
    return result


def _settled(status: SnapshotStatus) -> bool:
    return status in READY_SNAPSHOT_STATUSES or status == SnapshotStatus.ERROR


@task(name="delete-snapshot", task_run_name="delete-snapshot-{snapshot_id}", **API_TASK)
async def delete_snapshot(connection: BarrackConnection, snapshot_id: str) -> str:
    """Delete one snapshot; ``"deleted"``, or ``"already gone"`` when it no longer exists.

    A refusal (for example a snapshot that came to back a custom image, or a ``200`` whose
    body says ``"success": false``) raises: the flow records it as that snapshot's failure
    and goes on with the others. A success status with an unreadable body is not believed
    until the snapshot is read back and found gone.
    """
    client = await borrow_client(connection)
    try:
        await client.snapshots.delete(snapshot_id)
    except NotFoundError:
        return "already gone"
    except APIResponseValidationError:
        try:
            await client.snapshots.get(snapshot_id)
        except NotFoundError:
            return "deleted"
        raise
    return "deleted"
