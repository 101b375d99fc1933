"""Account and catalogue: balance, regions, GPU stock and specs, prices, OS images."""

from __future__ import annotations

import builtins

from barrack.models import (
    Balance,
    CreditBalanceResponse,
    GPUSpec,
    GPUSpecsResponse,
    GPUStockItem,
    GPUStocksResponse,
    OSImage,
    OSImagesResponse,
    Price,
    PricingRequest,
    PricingResponse,
    Region,
    RegionsResponse,
)
from barrack.resources._base import AsyncResource

__all__ = [
    "AsyncBalance",
    "AsyncGPUSpecs",
    "AsyncGPUStocks",
    "AsyncOSImages",
    "AsyncPricing",
    "AsyncRegions",
]


class AsyncBalance(AsyncResource):
    """The prepaid credit balance."""

    async def get(self) -> Balance:
        """The current balance, in the account currency.

        Example:
            >>> (await client.balance.get()).balance  # doctest: +SKIP
            Decimal('42.1700')
        """
        return (await self._client.request("balance.get", CreditBalanceResponse)).data


class AsyncRegions(AsyncResource):
    """Regions."""

    async def list(self) -> builtins.list[Region]:
        """Every region, with whether it is available."""
        return (await self._client.request("regions.list", RegionsResponse)).data


class AsyncGPUStocks(AsyncResource):
    """GPU stock availability."""

    async def list(self, *, region: str | None = None) -> builtins.list[GPUStockItem]:
        """Free GPUs per region and model (and per GPU count), optionally for one region."""
        envelope = await self._client.request(
            "gpu_stocks.list", GPUStocksResponse, query={"region": region}
        )
        return envelope.data


class AsyncGPUSpecs(AsyncResource):
    """GPU specifications."""

    async def list(self) -> builtins.list[GPUSpec]:
        """The specifications of every GPU model."""
        return (await self._client.request("gpu_specs.list", GPUSpecsResponse)).data


class AsyncPricing(AsyncResource):
    """Hourly prices."""

    async def list(
        self, *, gpu_model: str | None = None, region: str | None = None
    ) -> builtins.list[Price]:
        """The price list, optionally for one GPU model and/or region."""
        envelope = await self._client.request(
            "pricing.list", PricingResponse, query={"gpu_model": gpu_model, "region": region}
        )
        return envelope.data

    async def quote(
        self, *, gpu_model: str, gpu_count: int = 1, region: str | None = None
    ) -> builtins.list[Price]:
        """The price of a configuration (``gpu_count`` GPUs of ``gpu_model``)."""
        body = self._client.build(
            PricingRequest, "pricing.quote", gpu_model=gpu_model, gpu_count=gpu_count, region=region
        )
        return (await self._client.request("pricing.quote", PricingResponse, body=body)).data


class AsyncOSImages(AsyncResource):
    """Operating system images."""

    async def list(self, *, region: str | None = None) -> builtins.list[OSImage]:
        """The OS images, optionally of one region."""
        envelope = await self._client.request(
            "os_images.list", OSImagesResponse, query={"region": region}
        )
        return envelope.data
