"""Instance tasks: one Prefect task per API intent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from operator import attrgetter

from prefect import task
from prefect.logging import get_run_logger

from barrack import APIResponseValidationError, AsyncBarrack, InvalidStateError, NotFoundError
from barrack.models import InstanceActionResponse, VMInstance, VMStatus
from tasks._options import API_TASK, PAGES_IN_FLIGHT
from tasks.connection import BarrackConnection, borrow_client

__all__ = [
    "delete_instance",
    "get_instance",
    "hibernate_instance",
    "list_instances",
    "stop_instance",
]


@task(name="list-instances", **API_TASK)
async def list_instances(
    connection: BarrackConnection,
    *,
    region: str | None = None,
    status: str | None = None,
) -> list[VMInstance]:
    """Every instance of the account (optionally of one region or status), all pages."""
    client = await borrow_client(connection)
    listing = client.instances.list(region=region, status=status, per_page=100)
    return await listing.to_list(concurrency=PAGES_IN_FLIGHT, key=attrgetter("id"))


@task(name="get-instance", task_run_name="get-instance-{instance_id}", **API_TASK)
async def get_instance(connection: BarrackConnection, instance_id: str) -> VMInstance:
    """One instance, read fresh (for example right before acting on it)."""
    client = await borrow_client(connection)
    return await client.instances.get(instance_id)


@task(name="hibernate-instance", task_run_name="hibernate-instance-{instance_id}", **API_TASK)
async def hibernate_instance(connection: BarrackConnection, instance_id: str) -> VMInstance:
    """Hibernate an ACTIVE instance (it answers in ``HIBERNATING``), at most once.

    A retry whose earlier attempt lost its answer may meet ``INVALID_STATE`` because that
    attempt did hibernate it: then the instance is returned, not an error. So is it after
    a success status whose body was unreadable (the hibernation was accepted).
    """
    client = await borrow_client(connection)
    return await _act_once(
        client,
        instance_id,
        client.instances.hibernate,
        reached=(VMStatus.HIBERNATING, VMStatus.HIBERNATED),
        doing="hibernating",
    )


@task(name="stop-instance", task_run_name="stop-instance-{instance_id}", **API_TASK)
async def stop_instance(connection: BarrackConnection, instance_id: str) -> VMInstance:
    """Stop an ACTIVE instance (it answers in ``STOPPING``; stopped still pays full rate).

    As :func:`hibernate_instance`, a retry that finds it stopping after a lost answer, or
    a success status with an unreadable body, counts as done.
    """
    client = await borrow_client(connection)
    return await _act_once(
        client,
        instance_id,
        client.instances.stop,
        reached=(VMStatus.STOPPING, VMStatus.SHUTOFF),
        doing="stopping",
    )


async def _act_once(
    client: AsyncBarrack,
    instance_id: str,
    action: Callable[[str], Awaitable[InstanceActionResponse]],
    *,
    reached: tuple[VMStatus, ...],
    doing: str,
) -> VMInstance:
    """Run a state-changing ``action``; its own earlier effect counts as done, not an error.

    The action answers flat (``instance_id``, ``status``, ``tier``); the instance is read
    back once so callers get it whole, in the state the action left it.
    """
    try:
        await action(instance_id)
        return await client.instances.get(instance_id)
    except InvalidStateError as exc:
        if not _own_earlier_attempt(exc, reached):
            raise
    except APIResponseValidationError:
        # A success status with an unreadable body: the action was taken; read it back.
        current = await client.instances.get(instance_id)
        if current.status not in reached:
            raise
        return current
    get_run_logger().info("%s is %s after an answer was lost: done", instance_id, doing)
    return await client.instances.get(instance_id)


def _own_earlier_attempt(error: InvalidStateError, reached: tuple[VMStatus, ...]) -> bool:
    """True when the refusal is most likely an earlier attempt's own effect.

    The instance is already where the action leads, and an earlier attempt of this call
    (the client's retry after a cut connection or a timeout) or of this task (a Prefect
    retry after a transient failure, whose change a gateway error may hide) may have
    made the change.
    """
    from prefect.runtime import task_run

    earlier = error.retried_after_lost_answer or int(task_run.run_count or 0) > 1
    return earlier and error.current_status in {str(status) for status in reached}


@task(name="delete-instance", task_run_name="delete-instance-{instance_id}", **API_TASK)
async def delete_instance(connection: BarrackConnection, instance_id: str) -> str:
    """Delete an instance; ``"deleting"``, or ``"already gone"`` when it does not exist."""
    client = await borrow_client(connection)
    try:
        await client.instances.delete(instance_id)
    except NotFoundError:
        return "already gone"
    return "deleting"
