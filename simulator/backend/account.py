"""The account: balance, top-ups, profile; and what the catalog offers."""

from __future__ import annotations

from decimal import Decimal

from barrack.models._rules import VOLUME_MAX_GB, VOLUME_MIN_GB, VOLUME_TYPE_TIERS
from simulator.backend._service import Service
from simulator.errors import ValidationFailed
from simulator.seed_data import GPU_COUNTS, GPU_SPECS, HIBERNATED_RATE
from simulator.stores import RegionCatalog

__all__ = ["AccountService", "CatalogService", "PriceRow"]

PriceRow = tuple[str, str, Decimal, int, Decimal]
"""(gpu_model, region, price_per_hour, gpu_count, hibernated_price_per_hour)."""


class AccountService(Service):
    """Balance, top-ups and the profile."""

    def balance(self) -> Decimal:
        """The posted balance now."""
        return self.w.balance()

    def top_up(self, amount: Decimal) -> Decimal:
        """Add credit (a control route: any positive amount) and return the new balance."""
        if not amount.is_finite() or amount <= 0:
            raise ValidationFailed("amount", f"amount must be a positive decimal, got {amount}")
        self.w.ledger.top_up(amount, self.w.now)
        self.w.state.account.top_ups.append((self.w.now, amount))
        self.backend.depletion.rates_changed()
        return self.w.balance()

    def set_profile_complete(self, complete: bool) -> None:
        """Complete the profile, or blank its billing address."""
        self.w.state.account.set_profile_complete(complete)


class CatalogService(Service):
    """Regions, stock, GPU specs, prices, OS images, volume types."""

    def regions(self) -> list[RegionCatalog]:
        """Every region."""
        return list(self.w.state.regions.values())

    def stock(self, region: str | None = None) -> list[tuple[RegionCatalog, str, int]]:
        """(region, gpu_model, free GPUs) for every offer, optionally of one region."""
        if region is not None:
            self.require_region(region)
        return [
            (catalog, model, free)
            for catalog in self.w.state.regions.values()
            if region is None or catalog.name == region
            for model, free in catalog.stock.items()
        ]

    def set_stock(self, region: str, gpu_model: str, available: int) -> int:
        """Set the free GPUs of a model in a region (a control route)."""
        catalog = self.require_region(region)
        if gpu_model not in GPU_SPECS:
            raise ValidationFailed("gpu_model", f"unknown GPU model {gpu_model!r}")
        if available < 0:
            raise ValidationFailed("available", "available must not be negative")
        catalog.stock[gpu_model] = available
        return available

    def specs(self) -> list[tuple[str, list[str]]]:
        """(gpu_model, regions offering it) for every GPU model."""
        return [
            (model, [c.name for c in self.w.state.regions.values() if model in c.stock])
            for model in GPU_SPECS
        ]

    def prices(
        self, gpu_model: str | None = None, region: str | None = None, gpu_count: int = 1
    ) -> list[PriceRow]:
        """Hourly prices in the account currency, by model and region offering it."""
        if region is not None:
            self.require_region(region)
        if gpu_model is not None and gpu_model not in GPU_SPECS:
            raise ValidationFailed("gpu_model", f"unknown GPU model {gpu_model!r}")
        if gpu_count not in GPU_COUNTS:
            raise ValidationFailed("gpu_count", f"gpu_count must be one of {list(GPU_COUNTS)}")
        currency = self.w.currency
        hibernated = HIBERNATED_RATE.get(currency, HIBERNATED_RATE["USD"])
        rows: list[PriceRow] = []
        for model, by_currency in self.w.state.prices.items():
            if gpu_model is not None and model != gpu_model:
                continue
            price = by_currency.get(currency)
            if price is None:
                continue
            for catalog in self.w.state.regions.values():
                if model in catalog.stock and region in (None, catalog.name):
                    rows.append((model, catalog.name, price * gpu_count, gpu_count, hibernated))
        return rows

    def os_images(self, region: str | None = None) -> list[tuple[str, RegionCatalog]]:
        """(image id, region) of every OS image, optionally of one region."""
        if region is not None:
            self.require_region(region)
        return [
            (image_id, catalog)
            for catalog in self.w.state.regions.values()
            if region is None or catalog.name == region
            for image_id in catalog.os_images
        ]

    def volume_types(self) -> list[tuple[str, str, int, int]]:
        """(type, tier, min GB, max GB) of every volume type."""
        return [
            (name, tier, VOLUME_MIN_GB, VOLUME_MAX_GB) for name, tier in VOLUME_TYPE_TIERS.items()
        ]
