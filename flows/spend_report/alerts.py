"""The recipe's alerts: the anomaly condition (deduped, repeated, resolved) and the digest."""

from __future__ import annotations

from flows.spend_report.report import SpendReport
from notifications import Alert, AlertKey, AlertKind, Amount, FactValue, Severity, Subject

__all__ = ["anomaly_alerts", "digest_alert"]


def _subject(report: SpendReport) -> Subject:
    return Subject.for_account(report.account_name)


def anomaly_alerts(report: SpendReport) -> tuple[list[Alert], list[AlertKey]]:
    """One ``spend-anomaly`` alert about the account while days exceed the baseline, or its
    key as cleared when none does (the notifier's ledger resolves an open one once).

    Critical when a day spent twice its limit or more, else a warning.
    """
    key = AlertKey(kind=AlertKind.SPEND_ANOMALY, subject=_subject(report))
    if not report.anomalies:
        return [], [key]
    worst = max(report.anomalies, key=lambda a: a.spent)
    limit = worst.baseline.limit
    critical = limit is not None and limit > 0 and worst.spent >= 2 * limit
    contributors = [
        f"{c.name}: +{report.money(c.extra)} ({report.money(c.spent)} that day)"
        for a in report.anomalies
        for c in a.contributors
    ]
    facts: dict[str, FactValue] = {
        "days": [f"{a.day}: {report.money(a.spent)}" for a in report.anomalies],
        "baseline": report.baseline.basis,
        "worst_day": Amount(value=worst.spent, currency=report.currency),
        "made_the_difference": contributors or ["(no single resource)"],
    }
    alert = Alert(
        kind=AlertKind.SPEND_ANOMALY,
        severity=Severity.CRITICAL if critical else Severity.WARNING,
        subject=_subject(report),
        title=f"Spend anomaly on {report.account_name}: "
        f"{len(report.anomalies)} day(s) above baseline in {report.spend.period.label}",
        facts=facts,
        flow_run_url=report.flow_run_url,
    )
    return [alert], []


def digest_alert(report: SpendReport) -> Alert:
    """What routes and titles the digest (info: every destination that takes info)."""
    return Alert(
        kind=AlertKind.SPEND_DIGEST,
        severity=Severity.INFO,
        subject=_subject(report),
        title=f"Spend {report.spend.period.label}: {report.money(report.spend.total)} "
        f"({report.account_name})",
        flow_run_url=report.flow_run_url,
    )
