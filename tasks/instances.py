"""Instance tasks: one Prefect task per API intent."""

from __future__ import annotations

from prefect import task

from barrack.models import VMInstance
from tasks._options import API_TASK
from tasks.connection import BarrackConnection, borrow_client

__all__ = ["get_instance", "list_instances"]


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
