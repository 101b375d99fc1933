"""Restore tasks: restore a snapshot into a new instance, wait for it, clean up after it.

A restore must never make two instances for one request. Three guards, in order:

* the ``Idempotency-Key`` the caller derives from the request: the client reuses it on
  every retry of the POST, so a retry whose first answer was lost gets that answer back;
* the instance name (unique per account, A3): a retry that meets ``DUPLICATE_NAME``
  looks the name up and adopts the instance when it was restored from the same snapshot;
* a look-up by name before the task gives up on a lost answer (connection cut after the
  server committed), so a Prefect retry starts only when nothing was made.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeGuard

import anyio
from prefect import task
from prefect.logging import get_run_logger
from pydantic import BaseModel, Field

from barrack import (
    APIConnectionError,
    APIResponseValidationError,
    DuplicateNameError,
    InvalidStateError,
    NotFoundError,
    RequestValidationError,
)
from barrack.models import Snapshot, VMInstance, VMStatus
from tasks._options import API_TASK
from tasks.connection import BarrackConnection, borrow_client

__all__ = [
    "CleanupOutcome",
    "CleanupResult",
    "ReadyOutcome",
    "ReadyWait",
    "RestoreResult",
    "delete_restored_instance",
    "find_instance_by_name",
    "get_snapshot",
    "instance_address",
    "record_sighting",
    "restore_snapshot",
    "wait_for_instance_ready",
]

_GONE = frozenset({VMStatus.DELETED, VMStatus.DELETING})
_MAX_DELETE_REQUESTS = 3


def instance_address(instance: VMInstance) -> str | None:
    """The address to reach an instance at: its public IP, or the private one when the
    public IP is switched off (a restore copies that setting from the snapshot)."""
    if instance.public_ip_enabled:
        return instance.ip_address
    return instance.private_ip


@task(name="get-snapshot", task_run_name="get-snapshot-{snapshot_id}", **API_TASK)
async def get_snapshot(connection: BarrackConnection, snapshot_id: str) -> Snapshot:
    """One snapshot, read fresh (``NotFoundError`` when it does not exist)."""
    client = await borrow_client(connection)
    return await client.snapshots.get(snapshot_id)


@task(name="find-instance-by-name", task_run_name="find-instance-{name}", **API_TASK)
async def find_instance_by_name(connection: BarrackConnection, name: str) -> VMInstance | None:
    """The instance holding ``name`` (names are unique), or None; deleted ones are ignored."""
    return await _find_by_name(connection, name)


async def _find_by_name(connection: BarrackConnection, name: str) -> VMInstance | None:
    client = await borrow_client(connection)
    async for instance in client.instances.list(per_page=100):
        if instance.name == name and instance.status != VMStatus.DELETED:
            return instance
    return None


class RestoreResult(BaseModel):
    """The instance a restore made, or adopted from an earlier attempt of the same request.

    Attributes:
        instance: the instance as the API last described it.
        adopted: True when an earlier attempt had made it (nothing new was created).
    """

    instance: VMInstance
    adopted: bool = False


@task(name="restore-snapshot", task_run_name="restore-{snapshot_id}-as-{name}", **API_TASK)
async def restore_snapshot(
    connection: BarrackConnection,
    snapshot_id: str,
    *,
    name: str,
    region: str | None,
    idempotency_key: str,
) -> RestoreResult:
    """Restore a snapshot into a new instance called ``name``, at most once.

    Args:
        connection: how to reach Barrack.
        snapshot_id: a ``SUCCESS`` snapshot.
        name: the new instance's name (2-30 characters, unique).
        region: where; None means the snapshot's region.
        idempotency_key: derived from the request, so every retry of it sends the same.

    Returns:
        The new instance (in ``CREATING``), or the one an earlier attempt made.

    Raises:
        OutOfStockError, RegionIncompatibleError, InsufficientCreditsError,
        ProfileIncompleteError, SnapshotDeletedError, InvalidSnapshotStatusError,
        InvalidNameFormatError: the API's refusals, for the flow to judge.
        DuplicateNameError: the name belongs to an instance not made from this snapshot.
    """
    if not snapshot_id or not name or not idempotency_key:
        raise RequestValidationError(
            "snapshots.restore", [("snapshot_id/name/idempotency_key", "required")]
        )
    client = await borrow_client(connection)
    logger = get_run_logger()
    try:
        instance = await client.snapshots.restore(
            snapshot_id, name=name, region=region, idempotency_key=idempotency_key
        )
    except DuplicateNameError:
        existing = await _find_by_name(connection, name)
        if not _adoptable(existing, snapshot_id):
            raise
        logger.info("%s already restored from %s (%s): adopted", name, snapshot_id, existing.id)
        return RestoreResult(instance=existing, adopted=True)
    except (APIConnectionError, APIResponseValidationError):
        # The answer was lost (the client's own retries included), or came with a success
        # status and an unreadable body. The server may have made the instance (it did,
        # for the latter): look before a retry could ask for a second one.
        existing = await _find_by_name(connection, name)
        if not _adoptable(existing, snapshot_id):
            raise
        logger.info("restore answer lost; %s exists (%s): adopted", name, existing.id)
        return RestoreResult(instance=existing, adopted=True)
    return RestoreResult(instance=instance)


def _adoptable(existing: VMInstance | None, snapshot_id: str) -> TypeGuard[VMInstance]:
    """An instance this request made earlier, and not on its way out."""
    return (
        existing is not None
        and existing.status not in _GONE
        and existing.restored_from(snapshot_id)
    )


class ReadyOutcome(StrEnum):
    """How a wait for a restored instance ended."""

    READY = "ready"
    ERROR = "error"
    SETTLED_OTHER = "settled elsewhere"
    GONE = "gone"
    TIMED_OUT = "timed out"


class ReadyWait(BaseModel):
    """The end of a wait for ``ACTIVE`` with an address.

    Attributes:
        outcome: ready, or how it failed.
        instance: the last state seen (None when the instance was never found).
        address: the IP to reach it at, once assigned.
        active_seen_at: when this wait first saw ``ACTIVE`` (local clock, UTC).
        address_seen_at: when it first saw the address (local clock, UTC).
        api_active_at: the instance's own ``updated_at`` at that first ``ACTIVE`` sighting,
            i.e. when the API says it became ``ACTIVE`` (the provider's clock).
        polls: how many times the instance was read.
        detail: the outcome in words.
    """

    outcome: ReadyOutcome
    instance: VMInstance | None = None
    address: str | None = None
    active_seen_at: datetime | None = None
    address_seen_at: datetime | None = None
    api_active_at: datetime | None = None
    polls: int = 0
    detail: str = ""


@task(name="wait-for-instance-ready", task_run_name="wait-for-{instance_id}-ready", **API_TASK)
async def wait_for_instance_ready(
    connection: BarrackConnection,
    instance_id: str,
    *,
    timeout_seconds: float = 1800.0,
    first_poll_seconds: float = 5.0,
    max_poll_seconds: float = 60.0,
) -> ReadyWait:
    """Wait until an instance is ``ACTIVE`` with an IP, polling with backoff (x1.5).

    It never raises for the instance's fate: ``ERROR``, another settled state (for
    example ``SHUTOFF`` on an empty balance), disappearance and the timeout all come back
    as an outcome with the last state seen.
    """
    if timeout_seconds <= 0 or first_poll_seconds <= 0 or max_poll_seconds <= 0:
        raise RequestValidationError(
            "wait-for-instance-ready", [("timeout/poll seconds", "must be positive")]
        )
    client = await borrow_client(connection)
    logger = get_run_logger()
    result = ReadyWait(outcome=ReadyOutcome.TIMED_OUT)
    deadline = time.monotonic() + timeout_seconds
    delay = first_poll_seconds
    last_seen: str | None = None
    while True:
        try:
            instance = await client.instances.get(instance_id)
        except NotFoundError:
            result.outcome = ReadyOutcome.GONE
            result.detail = f"{instance_id} was not found after the restore"
            return result
        result.polls += 1
        result.instance = instance
        if record_sighting(result, instance):
            return result
        if time.monotonic() >= deadline:
            result.outcome = ReadyOutcome.TIMED_OUT
            seen = "without an IP" if instance.status == VMStatus.ACTIVE else instance.status
            result.detail = f"still {seen} after {timeout_seconds:.0f}s"
            logger.warning("%s: %s", instance_id, result.detail)
            return result
        # One line per change of state, not per look: a restore polled every 0.1 s sent
        # thousands of identical lines to the Prefect API (and its stored logs).
        seen_now = f"{instance.status} {'with' if instance.ip_address else 'without'} an IP"
        if seen_now != last_seen:
            logger.info("%s is %s; looking again until it is ready", instance_id, seen_now)
            last_seen = seen_now
        await anyio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(max_poll_seconds, delay * 1.5)


def record_sighting(result: ReadyWait, instance: VMInstance) -> bool:
    """Record one sighting of a restored instance in ``result``; True when the wait is over."""
    now = datetime.now(UTC)
    status = instance.status
    if status == VMStatus.ACTIVE:
        if result.active_seen_at is None:
            result.active_seen_at = now
            result.api_active_at = instance.updated_at
        address = instance_address(instance)
        if address:
            result.address = address
            result.address_seen_at = now
            result.outcome = ReadyOutcome.READY
            result.detail = f"ACTIVE at {address}"
            return True
        return False
    if status == VMStatus.ERROR:
        result.outcome = ReadyOutcome.ERROR
        result.detail = "the restore ended in ERROR"
        return True
    if status in _GONE:
        result.outcome = ReadyOutcome.GONE
        result.detail = f"the instance is {status}"
        return True
    if status.is_settled:
        result.outcome = ReadyOutcome.SETTLED_OTHER
        result.detail = f"settled in {status} instead of ACTIVE"
        return True
    return False  # CREATING, another transitional state, or one this client does not know


class CleanupOutcome(StrEnum):
    """What became of an instance the recipe meant to delete."""

    DELETED = "deleted"
    DELETING = "deleting"
    ALREADY_GONE = "already gone"
    NOT_DELETED = "not deleted"


class CleanupResult(BaseModel):
    """The fate of a delete request.

    Attributes:
        outcome: deleted (confirmed gone), deleting (asked, not yet gone), already gone,
            or not deleted (it never settled, or every request was refused).
        detail: the outcome in words, naming the state it was left in.
        last_status: the last status seen, if any.
    """

    outcome: CleanupOutcome
    detail: str = ""
    last_status: str | None = None
    delete_requests: int = Field(default=0, ge=0)

    @property
    def done(self) -> bool:
        """True when the instance no longer bills (deleted, or being deleted)."""
        return self.outcome is not CleanupOutcome.NOT_DELETED


@task(
    name="delete-restored-instance",
    task_run_name="delete-restored-{instance_id}",
    **API_TASK,
)
async def delete_restored_instance(
    connection: BarrackConnection,
    instance_id: str,
    *,
    timeout_seconds: float = 600.0,
    first_poll_seconds: float = 5.0,
    max_poll_seconds: float = 30.0,
) -> CleanupResult:
    """Delete a restored instance and wait until it is gone, within ``timeout_seconds``.

    An instance can only be deleted from a settled state (B4), so one still ``CREATING``
    (a timed-out restore) is waited for first. A delete that ends in ``ERROR`` is asked
    again, at most three times in all. Never raises for the instance's fate: the result
    says what state it was left in, so the report can tell a person what to clean up.
    """
    if timeout_seconds <= 0 or first_poll_seconds <= 0 or max_poll_seconds <= 0:
        raise RequestValidationError(
            "delete-restored-instance", [("timeout/poll seconds", "must be positive")]
        )
    client = await borrow_client(connection)
    result = CleanupResult(outcome=CleanupOutcome.NOT_DELETED)
    deadline = time.monotonic() + timeout_seconds
    delay = first_poll_seconds
    while True:
        try:
            instance = await client.instances.get(instance_id)
        except NotFoundError:
            return _gone(result)
        status = instance.status
        result.last_status = str(status)
        if status == VMStatus.DELETED:
            return _gone(result)
        if status.is_settled and result.delete_requests < _MAX_DELETE_REQUESTS:
            try:
                await client.instances.delete(instance_id)
            except NotFoundError:
                return _gone(result)
            except InvalidStateError:
                pass  # it moved on meanwhile: look again
            else:
                result.delete_requests += 1
                status = VMStatus.DELETING
                result.last_status = str(status)
        if time.monotonic() >= deadline:
            if status == VMStatus.DELETING:
                result.outcome = CleanupOutcome.DELETING
                result.detail = f"delete requested; still DELETING after {timeout_seconds:.0f}s"
            else:
                result.outcome = CleanupOutcome.NOT_DELETED
                result.detail = (
                    f"left in {status} after {timeout_seconds:.0f}s "
                    f"({result.delete_requests} delete request(s)); delete it by hand"
                )
            return result
        await anyio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(max_poll_seconds, delay * 1.5)


def _gone(result: CleanupResult) -> CleanupResult:
    result.last_status = str(VMStatus.DELETED)
    if result.delete_requests:
        result.outcome, result.detail = CleanupOutcome.DELETED, "deleted (gone from the API)"
    else:
        result.outcome, result.detail = CleanupOutcome.ALREADY_GONE, "already gone"
    return result
