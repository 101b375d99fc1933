"""Hibernated instances and what hibernation saves (``GET /instances/hibernated``)."""

from __future__ import annotations

from pydantic import Field

from barrack.models._base import BarrackModel, Envelope, Money, UTCDateTime
from barrack.models.enums import CurrencyEnum, RegionEnum
from barrack.models.instances import VMFlavor

__all__ = [
    "GetHibernatedVMsResponse",
    "HibernatedVMs",
    "HibernationBillingMetrics",
    "RecentHibernation",
]


class RecentHibernation(BarrackModel):
    """One hibernated instance.

    Attributes:
        instance_id: the instance.
        instance_name: its name.
        region: where it is.
        flavor: its hardware.
        hibernated_at: when it reached ``HIBERNATED``.
        hourly_price: what it costs per hour while hibernated.
        active_hourly_price: what it would cost per hour if running.
        accrued_cost: charged since it was hibernated.
    """

    instance_id: str
    instance_name: str | None = None
    region: RegionEnum | None = None
    flavor: VMFlavor | None = None
    hibernated_at: UTCDateTime | None = None
    hourly_price: Money | None = None
    active_hourly_price: Money | None = None
    accrued_cost: Money | None = None


class HibernationBillingMetrics(BarrackModel):
    """Totals over the hibernated instances.

    Attributes:
        hibernated_count: how many instances are hibernated.
        currency: the account currency.
        total_hourly_cost: what they cost together per hour.
        total_hourly_savings: what hibernation saves per hour against running them.
        total_accrued_cost: charged for them since each was hibernated.
    """

    hibernated_count: int = Field(default=0, ge=0)
    currency: CurrencyEnum | None = None
    total_hourly_cost: Money | None = None
    total_hourly_savings: Money | None = None
    total_accrued_cost: Money | None = None


class HibernatedVMs(BarrackModel):
    """The ``data`` of :class:`GetHibernatedVMsResponse`.

    Attributes:
        instances: the hibernated instances.
        metrics: totals over them.
    """

    instances: list[RecentHibernation] = Field(default_factory=list)
    metrics: HibernationBillingMetrics = Field(default_factory=HibernationBillingMetrics)


class GetHibernatedVMsResponse(Envelope[HibernatedVMs]):
    """``GET /instances/hibernated``."""
