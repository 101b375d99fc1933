"""Spend over a period, by instance, region, GPU model, tier, kind and day. Pure.

Every figure is a sum of exact charge shares (:mod:`flows.spend_report.charges`), so the
totals by kind, by region and by day of one period are the same number to the last digit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from flows.spend_report.charges import KINDS, SHARE_UNIT, Charge, clip, split
from flows.spend_report.periods import Period

__all__ = ["BalanceMoves", "InstanceSpend", "Spend", "balance_moves", "spend_over"]


@dataclass(frozen=True)
class InstanceSpend:
    """What one resource group cost: an instance with its snapshots' and volumes' share
    reported separately by kind."""

    key: str
    name: str
    region: str
    gpu_model: str
    tier: str
    by_kind: dict[str, Decimal]

    @property
    def total(self) -> Decimal:
        """Every kind together."""
        return sum(self.by_kind.values(), Decimal(0))


@dataclass
class Spend:
    """A period's spend.

    Attributes:
        period: the period.
        total: everything billed in it.
        by_kind: per kind (:data:`~flows.spend_report.charges.KINDS`, all present).
        by_region, by_gpu_model, by_tier: per value (``-``: not applicable, e.g. AI usage).
        by_instance: per billed resource (instance, volume, snapshot or AI model).
        daily: per local day, per kind (every day and kind present, zeros included).
        daily_by_resource: per local day, per resource key (for anomaly contributors).
    """

    period: Period
    total: Decimal = Decimal(0)
    by_kind: dict[str, Decimal] = field(default_factory=dict)
    by_region: dict[str, Decimal] = field(default_factory=dict)
    by_gpu_model: dict[str, Decimal] = field(default_factory=dict)
    by_tier: dict[str, Decimal] = field(default_factory=dict)
    by_instance: dict[str, InstanceSpend] = field(default_factory=dict)
    daily: dict[date, dict[str, Decimal]] = field(default_factory=dict)
    daily_by_resource: dict[date, dict[str, Decimal]] = field(default_factory=dict)

    def day_totals(self) -> dict[date, Decimal]:
        """Each day's total."""
        return {day: sum(kinds.values(), Decimal(0)) for day, kinds in self.daily.items()}


def _add(table: dict[str, Decimal], key: str, amount: Decimal) -> None:
    table[key] = table.get(key, Decimal(0)) + amount


def _resource_key(charge: Charge) -> tuple[str, str]:
    """(key, label): AI usage groups per model; everything else per resource."""
    if charge.kind == "ai":
        return f"ai:{charge.name}", f"AI {charge.name}"
    return charge.resource_id, charge.name


def spend_over(charges: Iterable[Charge], period: Period) -> Spend:
    """Aggregate the charges' shares that fall in ``period``."""
    days = period.days()
    bounds = [(lo, hi) for _, lo, hi in days]
    spend = Spend(period=period)
    spend.by_kind = dict.fromkeys(KINDS, Decimal(0))
    spend.daily = {day: dict.fromkeys(KINDS, Decimal(0)) for day, _, _ in days}
    spend.daily_by_resource = {day: {} for day, _, _ in days}
    groups: dict[str, tuple[Charge, str, dict[str, Decimal]]] = {}
    for charge in charges:
        inside = clip(charge, period.start, period.end)
        if inside is None or not inside.amount:
            continue
        amount = inside.amount.quantize(SHARE_UNIT)
        inside = replace(inside, amount=amount)
        spend.total += amount
        _add(spend.by_kind, charge.kind, amount)
        _add(spend.by_region, charge.region, amount)
        _add(spend.by_gpu_model, charge.gpu_model, amount)
        _add(spend.by_tier, charge.tier, amount)
        key, label = _resource_key(charge)
        _, _, by_kind = groups.setdefault(key, (charge, label, {}))
        _add(by_kind, charge.kind, amount)
        for (day, _, _), part in zip(days, split(inside, bounds), strict=True):
            if part:
                _add(spend.daily[day], charge.kind, part)
                _add(spend.daily_by_resource[day], key, part)
    spend.by_instance = {
        key: InstanceSpend(
            key=key,
            name=label,
            region=first.region,
            gpu_model=first.gpu_model,
            tier=first.tier,
            by_kind=by_kind,
        )
        for key, (first, label, by_kind) in groups.items()
    }
    return spend


@dataclass(frozen=True)
class BalanceMoves:
    """The balance over a period, from the ledger identity
    ``balance(t) = balance(anchor) + spend(t, anchor) - top-ups(t, anchor)``.

    Attributes:
        opening: the balance at the period's start.
        closing: the balance at its end.
        top_ups: credit added in it.
        spent: billed in it.
        anchor: when the balance the figures start from was read.
    """

    opening: Decimal
    closing: Decimal
    top_ups: Decimal
    spent: Decimal
    anchor: datetime


def _between(charges: Sequence[Charge], start: datetime, end: datetime) -> Decimal:
    total = Decimal(0)
    for charge in charges:
        piece = clip(charge, start, end)
        if piece is not None:
            total += piece.amount.quantize(SHARE_UNIT)
    return total


def balance_moves(
    charges: Sequence[Charge],
    top_ups: Sequence[tuple[datetime, Decimal]],
    *,
    balance: Decimal,
    anchor: datetime,
    period: Period,
) -> BalanceMoves:
    """Opening and closing balance of ``period`` from the balance read at ``anchor``.

    ``charges`` and ``top_ups`` must cover ``[period.start, anchor]``; ``anchor`` is the
    moment the balance was last posted (the API's ``updated_at``), at or after the end.
    """

    def at(moment: datetime) -> Decimal:
        if moment >= anchor:
            return balance
        added = sum((amount for when, amount in top_ups if moment <= when < anchor), Decimal(0))
        return balance + _between(charges, moment, anchor) - added

    opening, closing = at(period.start), at(min(period.end, anchor))
    added = sum(
        (amount for when, amount in top_ups if period.start <= when < period.end), Decimal(0)
    )
    return BalanceMoves(
        opening=opening,
        closing=closing,
        top_ups=added,
        spent=_between(charges, period.start, min(period.end, anchor)),
        anchor=anchor,
    )
