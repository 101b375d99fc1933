"""From the readings to the verdict: runway, levels and the report that carries them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flows.common.burn import FleetBurn
from flows.common.runway import compute_runway
from flows.low_balance.evidence import protection_evidence, runway_critical
from flows.low_balance.history import BalanceSample, MeasuredBurn
from flows.low_balance.report import BurnLine, LowBalanceReport
from flows.low_balance.runway import runway_burn
from flows.low_balance.thresholds import Thresholds, assess, top_up_to_clear
from notifications.alerts import Severity

__all__ = ["assess_balance"]


def assess_balance(
    *,
    account_name: str,
    now: datetime,
    balance: Decimal,
    currency: str,
    fleet: FleetBurn,
    measured: MeasuredBurn,
    thresholds: Thresholds,
    dry_run: bool = False,
    history: str = "",
    flow_run_url: str | None = None,
    previous: tuple[BalanceSample, MeasuredBurn] | None = None,
) -> LowBalanceReport:
    """The run's report before any protective action: burn, runway, depletion, levels.

    Args:
        account_name: the account (alert subject).
        now: the evaluation time.
        balance: the balance, exact.
        currency: the account currency.
        fleet: the fleet model's burn.
        measured: the burn measured from the balance history.
        thresholds: the thresholds of the run.
        dry_run: whether the run changes nothing (no clearance is reported then).
        history: where the balance history is kept, for the report.
        flow_run_url: the flow run's UI page.
        previous: the previous run's sample and the burn measured as of it (the
            protective plan's second look, :mod:`flows.low_balance.evidence`).
    """
    per_hour, basis = runway_burn(fleet.total, measured)
    runway = compute_runway(balance, per_hour, now, basis)
    assessment = assess(
        balance=balance, runway_hours=runway.hours, currency=currency, thresholds=thresholds
    )
    evidence = protection_evidence(
        critical=assessment.severity_of("runway") is Severity.CRITICAL,
        fleet_critical=runway_critical(
            balance=balance, burn_per_hour=fleet.total, currency=currency, thresholds=thresholds
        ),
        previous=previous,
        currency=currency,
        thresholds=thresholds,
    )
    split = measured.unmodelled
    return LowBalanceReport(
        account_name=account_name,
        evaluated_at=now,
        dry_run=dry_run,
        currency=currency,
        balance=balance,
        fleet_burn_per_hour=fleet.total,
        burn_lines=[
            BurnLine(category=line.category.value, per_hour=line.per_hour, count=line.count)
            for line in fleet.by_category()
        ],
        measured_burn_per_hour=measured.per_hour,
        measured_modelled_per_hour=measured.modelled_per_hour,
        measured_note=measured.note,
        spent_once=split.spent if split is not None else Decimal(0),
        spent_once_when=split.spent_when() if split is not None else "",
        runway_burn_per_hour=runway.burn_per_hour,
        runway_basis=runway.basis,
        runway_hours=runway.hours,
        depletion_at=runway.depletion_at,
        thresholds=thresholds.describe(currency),
        severity=assessment.severity,
        runway_severity=assessment.severity_of("runway"),
        protection_confirmed=evidence.confirmed,
        protection_evidence=evidence.reason,
        crossings=[c.text for c in assessment.crossings],
        top_up_to_clear=top_up_to_clear(
            balance=balance, burn_per_hour=per_hour, currency=currency, thresholds=thresholds
        ),
        unpriced=[f"{u.kind} {u.name}: {u.reason}" for u in fleet.unpriced],
        not_billed=[f"{u.name}: {u.reason}" for u in fleet.uncharged if not u.unpriced],
        history=history,
        flow_run_url=flow_run_url,
    )
