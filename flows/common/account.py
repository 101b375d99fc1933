"""The whole account at one moment: balance, fleet and price list, read together.

The low-balance and spend-report recipes both start from this picture; reading it in
one place keeps the five calls concurrent and their order the same.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from barrack.models import Balance, PricingData, Snapshot, VMInstance, VolumeResponse
from flows.common.pricing import PriceIndex
from tasks.account import get_balance, get_pricing
from tasks.connection import BarrackConnection
from tasks.fleet import list_volumes
from tasks.instances import list_instances
from tasks.snapshots import list_snapshots

__all__ = ["AccountView", "read_account"]


@dataclass(frozen=True, slots=True)
class AccountView:
    """The balance, every instance, volume and snapshot, and the price list."""

    balance: Balance
    instances: list[VMInstance]
    volumes: list[VolumeResponse]
    snapshots: list[Snapshot]
    pricing: PricingData

    @property
    def currency(self) -> str:
        """The account currency (ISO 4217)."""
        return str(self.balance.currency)

    def prices(self) -> PriceIndex:
        """The price list indexed in the account currency."""
        return PriceIndex.from_pricing(self.currency, self.pricing)


async def read_account(connection: BarrackConnection) -> AccountView:
    """Read the balance, the fleet and the price list (five calls, concurrently)."""
    balance, instances, volumes, snapshots, pricing = await asyncio.gather(
        get_balance(connection),
        list_instances(connection),
        list_volumes(connection),
        list_snapshots(connection),
        get_pricing(connection),
    )
    return AccountView(balance, instances, volumes, snapshots, pricing)
