"""Per-minute billing of instances and snapshots, and hourly billing of volumes.

The shapes are generic on purpose: a bill is a list of periods, each at one rate, so the
simulator can compute it from a resource's status history and the client can sum it.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from barrack.models._base import BarrackModel, Envelope, Money, UTCDateTime
from barrack.models.enums import CurrencyEnum, ResourceTypeEnum

__all__ = [
    "AccountBillingRecord",
    "AggregatedBillingResponse",
    "Billing",
    "BillingRecord",
    "BillingRecordsResponse",
    "BillingSummary",
    "SnapshotBillingResponse",
    "VolumeBilling",
    "VolumeBillingRecord",
    "VolumeBillingSummary",
    "VolumeHourlyBillingResponse",
]


class BillingRecord(BarrackModel):
    """One period billed at one rate (per minute, no rounding, no minimum).

    Attributes:
        start: period start.
        end: period end (None while the period is still running).
        status: the resource's status in the period (``ACTIVE``, ``HIBERNATED``...).
        minutes: billed minutes, fractional.
        rate_per_hour: the rate in the period.
        amount: ``minutes / 60 * rate_per_hour``.
    """

    start: UTCDateTime
    end: UTCDateTime | None = None
    status: str | None = None
    minutes: Decimal
    rate_per_hour: Money
    amount: Money


class BillingSummary(BarrackModel):
    """Totals of a bill.

    Attributes:
        total_minutes: billed minutes.
        total_amount: billed amount.
        currency: the account currency.
        by_status: billed amount per status.
    """

    total_minutes: Decimal = Decimal(0)
    total_amount: Money
    currency: CurrencyEnum
    by_status: dict[str, Money] = Field(default_factory=dict)


class Billing(BarrackModel):
    """The bill of one instance or snapshot over a time window.

    Attributes:
        resource_id: the instance or snapshot.
        resource_type: ``instance`` or ``snapshot``.
        currency: the account currency.
        start: window start.
        end: window end.
        total: billed amount in the window.
        records: the billed periods.
        summary: totals.
    """

    resource_id: str
    resource_type: ResourceTypeEnum
    currency: CurrencyEnum
    start: UTCDateTime | None = None
    end: UTCDateTime | None = None
    total: Money
    records: list[BillingRecord] = Field(default_factory=list)
    summary: BillingSummary | None = None


class AggregatedBillingResponse(Envelope[Billing]):
    """``GET /instances/{id}/billing?start=&end=``."""


class SnapshotBillingResponse(Envelope[Billing]):
    """``GET /snapshots/{id}/billing``."""


class VolumeBillingRecord(BarrackModel):
    """One hour (or part of one) of a volume's storage.

    Attributes:
        start: period start.
        end: period end.
        size_gb: volume size in the period.
        hours: billed hours, fractional.
        rate_per_tb_hour: storage rate (0.1 per TB-hour in A3).
        amount: ``size_gb / 1000 * hours * rate_per_tb_hour``.
    """

    start: UTCDateTime
    end: UTCDateTime | None = None
    size_gb: int
    hours: Decimal
    rate_per_tb_hour: Money
    amount: Money


class VolumeBillingSummary(BarrackModel):
    """Totals of a volume's bill.

    Attributes:
        volume_id: the volume.
        currency: the account currency.
        total_hours: billed hours.
        total_amount: billed amount.
        hourly_cost: what the volume costs per hour at its current size.
    """

    volume_id: str
    currency: CurrencyEnum
    total_hours: Decimal = Decimal(0)
    total_amount: Money
    hourly_cost: Money | None = None


class VolumeBilling(BarrackModel):
    """The ``data`` of :class:`VolumeHourlyBillingResponse`.

    Attributes:
        records: the billed periods.
        summary: totals.
    """

    records: list[VolumeBillingRecord] = Field(default_factory=list)
    summary: VolumeBillingSummary


class VolumeHourlyBillingResponse(Envelope[VolumeBilling]):
    """``GET /volumes/{id}/billing``."""


class AccountBillingRecord(BarrackModel):
    """One billed period of any resource of the account (``GET /billing/records``, guessed).

    The account-wide list carries what a bill is about beside the period, so that a
    report over last week still knows the GPU model and region of an instance deleted
    since, and the instance a snapshot or volume belonged to.

    Attributes:
        resource_type: ``gpus`` (an instance), ``volumes`` or ``snapshots``.
        resource_id: the instance, volume or snapshot.
        resource_name: its name.
        instance_id: the instance it belongs to (itself for an instance; the source of a
            snapshot; the attachment of a volume, None when detached).
        region: where it is.
        tier: its tier (``legacy``, ``advanced``).
        gpu_model: the GPU model (instances and snapshots).
        gpu_count: GPUs (instances and snapshots).
        status: the resource's status in the period (``ACTIVE``, ``HIBERNATED``...).
        start: period start (clipped to the window asked for).
        end: period end (None while the period is still running at the window's end).
        minutes: billed minutes, fractional.
        rate_per_hour: the rate in the period.
        amount: ``minutes / 60 * rate_per_hour``, exact.
        currency: the account currency.
    """

    resource_type: ResourceTypeEnum
    resource_id: str
    resource_name: str | None = None
    instance_id: str | None = None
    region: str | None = None
    tier: str | None = None
    gpu_model: str | None = None
    gpu_count: int | None = None
    status: str | None = None
    start: UTCDateTime
    end: UTCDateTime | None = None
    minutes: Decimal
    rate_per_hour: Money
    amount: Money
    currency: CurrencyEnum


class BillingRecordsResponse(Envelope[list[AccountBillingRecord]]):
    """``GET /billing/records?start=&end=&resource_type=`` (paginated, guessed)."""
