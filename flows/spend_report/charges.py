"""Billing records as charges, and a charge's share of a time window (exact ``Decimal``).

Barrack bills per minute at a constant rate per period, so the part of a period that falls
in a window costs the period's amount times the share of its seconds in the window. Shares
are cut so that the parts of one charge add up to its amount exactly (the last part takes
the remainder), whatever the number of days a charge is cut into. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Final, Literal

from barrack.models import AccountBillingRecord, AITransaction

__all__ = [
    "KINDS",
    "KIND_LABELS",
    "SHARE_UNIT",
    "Charge",
    "Kind",
    "charges_from_records",
    "clip",
    "split",
]

Kind = Literal["gpu", "hibernated", "volumes", "snapshots", "ai"]
KINDS: Final[tuple[Kind, ...]] = ("gpu", "hibernated", "volumes", "snapshots", "ai")
KIND_LABELS: Final[dict[str, str]] = {
    "gpu": "GPU instances",
    "hibernated": "hibernated",
    "volumes": "volumes",
    "snapshots": "snapshots",
    "ai": "AI usage",
}
_TYPES: Final = {"gpus": "gpu", "volumes": "volumes", "snapshots": "snapshots"}
SHARE_UNIT: Final = Decimal("1e-10")
"""What shares of a billed period are kept to: a share of a period is a division that may
not end (a third of a day), and Decimal arithmetic keeps 28 digits, so sums of such
shares would depend on their order. Kept to ten decimals, every sum of a report is exact
and the same in any order (a rounding of at most 0.00000000005 per share)."""


@dataclass(frozen=True)
class Charge:
    """One billed period (or one AI request, where ``start == end``).

    Attributes:
        kind: ``gpu`` (an instance at its full or transitional rate), ``hibernated``,
            ``volumes``, ``snapshots`` or ``ai``.
        resource_id: the instance, volume, snapshot or AI transaction.
        name: its name (the AI model for AI usage).
        instance_id: the instance it is about (snapshots: their source; volumes: their
            attachment); None when none.
        region, tier, gpu_model: what it is; ``-`` when not known or not applicable.
        status: the resource's status in the period.
        start, end: the period (``end`` resolved to the window's end when still running).
        rate_per_hour: the rate in force (0 for AI usage).
        amount: what it cost, exact.
        gpu_count: GPUs (instances and snapshots; 0 otherwise).
    """

    kind: str
    resource_id: str
    name: str
    instance_id: str | None
    region: str
    tier: str
    gpu_model: str
    status: str
    start: datetime
    end: datetime
    rate_per_hour: Decimal
    amount: Decimal
    gpu_count: int = 0


def charges_from_records(
    records: Iterable[AccountBillingRecord],
    transactions: Iterable[AITransaction],
    *,
    until: datetime,
) -> list[Charge]:
    """Charges from the account's billing records and AI transactions.

    ``until`` closes periods still running (the end of the window they were read for).
    An instance's ``HIBERNATED`` periods are kind ``hibernated``; its other periods ``gpu``.
    """
    charges: list[Charge] = []
    for record in records:
        kind = _TYPES.get(str(record.resource_type.value), str(record.resource_type.value))
        status = record.status or "-"
        if kind == "gpu" and status == "HIBERNATED":
            kind = "hibernated"
        charges.append(
            Charge(
                kind=kind,
                resource_id=record.resource_id,
                name=record.resource_name or record.resource_id,
                instance_id=record.instance_id,
                region=record.region or "-",
                tier=record.tier or "-",
                gpu_model=record.gpu_model or "-",
                status=status,
                start=record.start,
                end=record.end if record.end is not None else max(until, record.start),
                rate_per_hour=record.rate_per_hour,
                amount=record.amount,
                gpu_count=record.gpu_count or 0,
            )
        )
    for txn in transactions:
        charges.append(
            Charge(
                kind="ai",
                resource_id=txn.id,
                name=txn.model,
                instance_id=None,
                region="-",
                tier="-",
                gpu_model="-",
                status="-",
                start=txn.created_at,
                end=txn.created_at,
                rate_per_hour=Decimal(0),
                amount=txn.cost,
            )
        )
    return charges


def _seconds(start: datetime, end: datetime) -> Decimal:
    delta = end - start
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds).scaleb(-6)


def clip(charge: Charge, start: datetime, end: datetime) -> Charge | None:
    """The part of ``charge`` in ``[start, end)``, priced pro rata; None when none.

    An instant charge (AI usage) is in the window when ``start <= at < end``.
    """
    if charge.start == charge.end:
        return charge if start <= charge.start < end else None
    lo, hi = max(charge.start, start), min(charge.end, end)
    if hi <= lo:
        return None
    if lo == charge.start and hi == charge.end:
        return charge
    share = charge.amount * _seconds(lo, hi) / _seconds(charge.start, charge.end)
    return replace(charge, start=lo, end=hi, amount=share.quantize(SHARE_UNIT))


def split(charge: Charge, bounds: Sequence[tuple[datetime, datetime]]) -> list[Decimal]:
    """``charge``'s amount in each of the windows ``bounds`` (sorted, not overlapping).

    The parts add up exactly to the charge's amount inside the windows: each part is its
    pro-rata share, and when the charge lies wholly inside them the last non-empty part
    takes the remainder, so no rounding of the division is lost.
    """
    parts: list[Decimal] = []
    for lo, hi in bounds:
        piece = clip(charge, lo, hi)
        parts.append(piece.amount if piece is not None else Decimal(0))
    inside = bounds and bounds[0][0] <= charge.start and charge.end <= bounds[-1][1]
    if inside and charge.start != charge.end:
        nonzero = [i for i, part in enumerate(parts) if part]
        if nonzero:
            last = nonzero[-1]
            parts[last] = charge.amount - sum(
                (p for i, p in enumerate(parts) if i != last), Decimal(0)
            )
    return parts
