"""The base of every backend service, and the guards several services share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulator.errors import (
    DuplicateName,
    InsufficientCredits,
    ProfileIncomplete,
    RegionIncompatible,
    ValidationFailed,
)
from simulator.seed_data import MIN_BALANCE
from simulator.stores import RegionCatalog, Table

if TYPE_CHECKING:
    from simulator.backend import Backend
    from simulator.backend.world import World

__all__ = ["Service"]


class Service:
    """One group of operations; reaches state and sibling services through the backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @property
    def w(self) -> World:
        """The current world (replaced on reset)."""
        return self.backend.world

    def require_can_create(self) -> None:
        """A3: creating (or restoring) needs a complete profile and the minimum balance.

        Raises:
            ProfileIncomplete: name, address, postal code or country missing.
            InsufficientCredits: the balance is below USD 1 / EUR 1 / INR 100.
        """
        account = self.w.state.account
        if not account.profile_complete:
            missing = [
                name
                for name in ("full_name", "billing_address", "postal_code", "country")
                if not getattr(account, name)
            ]
            raise ProfileIncomplete(
                "complete the account profile before creating resources",
                {"missing": missing},
            )
        minimum = MIN_BALANCE.get(account.currency, MIN_BALANCE["USD"])
        balance = self.w.balance()
        if balance < minimum:
            raise InsufficientCredits(
                f"a balance of at least {minimum} {account.currency} is needed to create "
                f"resources; it is {balance}",
                {
                    "balance": str(balance),
                    "minimum": str(minimum),
                    "currency": account.currency,
                },
            )

    def require_unique_name(
        self, table: Table[Any], name: str, field: str = "name", ignore_id: str | None = None
    ) -> None:
        """Raise DuplicateName when another record of the table has this name."""
        existing = table.by_name(name)
        if existing is not None and existing.id != ignore_id:
            raise DuplicateName(table.kind, name, existing.id)

    def require_region(self, region: str, field: str = "region") -> RegionCatalog:
        """The catalog of an existing region.

        Raises:
            ValidationFailed: no such region.
        """
        catalog = self.w.state.region(region)
        if catalog is None:
            raise ValidationFailed(
                field, f"unknown region {region!r}; one of {sorted(self.w.state.regions)}"
            )
        return catalog

    def require_same_region(
        self, what: str, what_region: str, target: str, target_region: str
    ) -> None:
        """Region-bound resources combine only within one region (STORE_SCOPES).

        Raises:
            RegionIncompatible: the two regions differ.
        """
        if what_region != target_region:
            raise RegionIncompatible(
                f"{what} is in {what_region} but {target} is in {target_region}",
                {"region": what_region, "target_region": target_region},
            )

    def require_offered(self, catalog: RegionCatalog, gpu_model: str) -> None:
        """The region offers the GPU model (else 422 REGION_INCOMPATIBLE)."""
        if gpu_model not in catalog.stock:
            raise RegionIncompatible(
                f"{catalog.name} does not offer {gpu_model}",
                {
                    "region": catalog.name,
                    "gpu_model": gpu_model,
                    "offered": sorted(catalog.stock),
                },
            )
        if not catalog.available:
            raise RegionIncompatible(
                f"{catalog.name} is not accepting new instances",
                {"region": catalog.name, "available": False},
            )
