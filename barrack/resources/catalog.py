"""Account and catalogue: balance, regions, GPU stock and specs, prices, OS images."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import TypedDict, Unpack

from barrack._pagination import AsyncPaginator
from barrack.models import (
    Balance,
    CreditBalanceResponse,
    CreditTransaction,
    CreditTransactionsResponse,
    GPUSpec,
    GPUSpecsResponse,
    GPUStockItem,
    GPUStocksResponse,
    OSImage,
    OSImagesResponse,
    PricingData,
    PricingRequest,
    PricingResponse,
    Region,
    RegionsResponse,
)
from barrack.resources._base import AsyncResource, timestamp_param

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
        return (await self._client.request("balance.get", CreditBalanceResponse)).payload

    def transactions(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        per_page: int = 100,
    ) -> AsyncPaginator[CreditTransaction]:
        """Credit added between ``start`` and ``end`` (top-ups), lazily, page by page."""
        return self._paginate(
            "balance.transactions",
            CreditTransactionsResponse,
            query={"start": timestamp_param(start), "end": timestamp_param(end)},
            per_page=per_page,
        )


class AsyncRegions(AsyncResource):
    """Regions."""

    async def list(self) -> builtins.list[Region]:
        """Every region, with whether it is available."""
        return (await self._client.request("regions.list", RegionsResponse)).payload


class AsyncGPUStocks(AsyncResource):
    """GPU stock availability."""

    async def list(self, *, region: str | None = None) -> builtins.list[GPUStockItem]:
        """Free GPUs per region and model (and per GPU count), optionally for one region."""
        envelope = await self._client.request(
            "gpu_stocks.list", GPUStocksResponse, query={"region": region}
        )
        return envelope.payload


class AsyncGPUSpecs(AsyncResource):
    """GPU specifications."""

    async def list(self) -> builtins.list[GPUSpec]:
        """The specifications of every GPU model."""
        return (await self._client.request("gpu_specs.list", GPUSpecsResponse)).payload


class AsyncPricing(AsyncResource):
    """Hourly prices (Part C's ``pricing_data``)."""

    async def get(self, **narrow: Unpack[PricingFilter]) -> PricingData:
        """The price list (``GET /pricing/``), narrowed by any of ``tier``, ``currency``,
        ``resource_type``, ``gpu_model``, ``gpu_count``, ``volume_type``, ``volume_size_gb``.

        Example:
            >>> data = await client.pricing.get(resource_type="gpus")  # doctest: +SKIP
            >>> data.gpus.pricing["advanced"]["H100-SXM5-80GB"].prices["USD"]
            Decimal('2.49')
        """
        request = self._client.build(PricingRequest, "pricing.list", **narrow)
        envelope = await self._client.request(
            "pricing.list", PricingResponse, query=request.model_dump(mode="json")
        )
        return envelope.payload

    async def quote(self, **narrow: Unpack[PricingFilter]) -> PricingData:
        """The prices of a configuration (``POST /pricing/``, Part C's C1): changes nothing.

        Takes the same fields as :meth:`get`, sent as a JSON body (and as query parameters).
        """
        body = self._client.build(PricingRequest, "pricing.quote", **narrow)
        return (await self._client.request("pricing.quote", PricingResponse, body=body)).payload


class PricingFilter(TypedDict, total=False):
    """What a pricing query may narrow by (every field of :class:`PricingRequest`)."""

    tier: str | None
    currency: str | None
    resource_type: str | None
    gpu_model: str | None
    gpu_count: int | None
    volume_type: str | None
    volume_size_gb: int | None


class AsyncOSImages(AsyncResource):
    """Operating system images."""

    async def list(self, *, region: str | None = None) -> builtins.list[OSImage]:
        """The OS images, optionally of one region."""
        envelope = await self._client.request(
            "os_images.list", OSImagesResponse, query={"region": region}
        )
        return envelope.payload
