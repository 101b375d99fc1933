"""Fleet inventory tasks for cost models: volumes and the volume types' storage rates."""

from __future__ import annotations

from prefect import task

from barrack.models import VolumeResponse, VolumeType
from tasks._options import API_TASK
from tasks.connection import BarrackConnection, borrow_client

__all__ = ["list_volume_types", "list_volumes"]


@task(name="list-volumes", **API_TASK)
async def list_volumes(
    connection: BarrackConnection, *, region: str | None = None
) -> list[VolumeResponse]:
    """Every volume of the account (optionally of one region), with size and hourly price."""
    client = await borrow_client(connection)
    listing = await client.volumes.list(region=region)
    return list(listing.volumes)


@task(name="list-volume-types", **API_TASK)
async def list_volume_types(connection: BarrackConnection) -> list[VolumeType]:
    """The volume types with their storage rate per TB-hour (read, never hard-coded)."""
    client = await borrow_client(connection)
    return await client.volumes.types()
