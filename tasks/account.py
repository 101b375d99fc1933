"""Account and catalogue tasks: balance, prices, stock, regions."""

from __future__ import annotations

from prefect import task

from barrack.models import Balance, GPUStockItem, PricingData, Region
from tasks._options import API_TASK
from tasks.connection import BarrackConnection, borrow_client

__all__ = ["get_balance", "get_pricing", "list_gpu_stock", "list_regions"]


@task(name="get-balance", **API_TASK)
async def get_balance(connection: BarrackConnection) -> Balance:
    """The prepaid balance, in the account currency."""
    client = await borrow_client(connection)
    return await client.balance.get()


@task(name="get-pricing", **API_TASK)
async def get_pricing(connection: BarrackConnection) -> PricingData:
    """The whole price list (GPUs, volumes, snapshots), read from the API, never hard-coded.

    Index it with ``flows.common.pricing.PriceIndex.from_pricing``.
    """
    client = await borrow_client(connection)
    return await client.pricing.get()


@task(name="list-gpu-stock", **API_TASK)
async def list_gpu_stock(
    connection: BarrackConnection, *, region: str | None = None
) -> list[GPUStockItem]:
    """Free GPUs per region, model and count."""
    client = await borrow_client(connection)
    return await client.gpu_stocks.list(region=region)


@task(name="list-regions", **API_TASK)
async def list_regions(connection: BarrackConnection) -> list[Region]:
    """The regions and whether they take new resources."""
    client = await borrow_client(connection)
    return await client.regions.list()
