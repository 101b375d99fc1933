"""Instance tasks: one Prefect task per API intent."""

from __future__ import annotations

from prefect import task

from barrack import NotFoundError
from barrack.models import VMInstance
from tasks._options import API_TASK
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
    return await client.instances.list(region=region, status=status, per_page=100).to_list()


@task(name="get-instance", task_run_name="get-instance-{instance_id}", **API_TASK)
async def get_instance(connection: BarrackConnection, instance_id: str) -> VMInstance:
    """One instance, read fresh (for example right before acting on it)."""
    client = await borrow_client(connection)
    return await client.instances.get(instance_id)


@task(name="hibernate-instance", task_run_name="hibernate-instance-{instance_id}", **API_TASK)
async def hibernate_instance(connection: BarrackConnection, instance_id: str) -> VMInstance:
    """Hibernate an ACTIVE instance (it answers in ``HIBERNATING``)."""
    client = await borrow_client(connection)
    return await client.instances.hibernate(instance_id)


@task(name="stop-instance", task_run_name="stop-instance-{instance_id}", **API_TASK)
async def stop_instance(connection: BarrackConnection, instance_id: str) -> VMInstance:
    """Stop an ACTIVE instance (it answers in ``STOPPING``; stopped still pays full rate)."""
    client = await borrow_client(connection)
    return await client.instances.stop(instance_id)


@task(name="delete-instance", task_run_name="delete-instance-{instance_id}", **API_TASK)
async def delete_instance(connection: BarrackConnection, instance_id: str) -> str:
    """Delete an instance; ``"deleting"``, or ``"already gone"`` when it does not exist."""
    client = await borrow_client(connection)
    try:
        await client.instances.delete(instance_id)
    except NotFoundError:
        return "already gone"
    return "deleting"
