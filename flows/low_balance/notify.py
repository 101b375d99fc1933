"""Sending a run's alerts: one low-balance alert per crossing, its recovery with the figures."""

from __future__ import annotations

from flows.low_balance.report import LowBalanceReport, low_balance_alerts, resolution_facts
from notifications import AlertKind, DeliveryReport, Notifier

__all__ = ["notify_low_balance"]


def notify_low_balance(notifier: Notifier, report: LowBalanceReport) -> DeliveryReport:
    """Report the run's alerts and clearances to the notifier; never raises.

    The notifier's ledger does the rest: a new crossing goes out at once, the same level
    again only after the repeat interval, a worse level at once (escalated), and a
    cleared low balance once, as "balance recovered" with the new balance and runway.
    Call it only for a run that is not a dry run (a dry run must not move the ledger).
    """
    alerts, cleared = low_balance_alerts(report)
    recovered = [k for k in cleared if k.kind is AlertKind.LOW_BALANCE]
    others = [k for k in cleared if k.kind is not AlertKind.LOW_BALANCE]
    delivery = notifier.dispatch(alerts=alerts, cleared=others)
    for key in recovered:
        delivery = delivery.merge(
            notifier.resolve(
                key.kind,
                key.subject,
                facts=resolution_facts(report),
                flow_run_url=report.flow_run_url,
            )
        )
    return delivery
