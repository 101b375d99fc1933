"""What a low-balance run found and did, and the alerts it raises.

Everything here is pure: the flow fills a :class:`LowBalanceReport`; this module turns it
into a Markdown summary, artifact tables and :class:`~notifications.alerts.Alert`\\ s.
Amounts are exact in the report and rounded only where they are shown.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from flows.common.report import ArtifactTable, RecipeReport, markdown_table, md
from notifications.alerts import (
    Alert,
    AlertKey,
    AlertKind,
    Amount,
    FactValue,
    Severity,
    Subject,
)
from notifications.text import describe_duration, format_money, slug

__all__ = [
    "BurnLine",
    "LowBalanceReport",
    "ProtectionOutcome",
    "ProtectionReport",
    "ProtectionStatus",
    "format_hours",
    "low_balance_alerts",
    "resolution_facts",
    "shown",
]


def shown(value: Decimal, places: int = 2) -> Decimal:
    """An amount rounded for display (half-even, as everywhere), never for arithmetic."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def format_hours(hours: Decimal | None) -> str:
    """A runway in hours for people (``1d 7h 30m``); ``unbounded`` for None."""
    if hours is None:
        return "unbounded"
    return describe_duration(timedelta(seconds=int(shown(hours * 3600, 0))))


_PROTECTION_COLUMNS = ("instance", "action", "saves", "snapshot", "outcome", "reason")


class ProtectionStatus(StrEnum):
    """What became of one step of the protective plan."""

    PLANNED = "planned (protection off)"
    HELD = "held (awaiting a second look)"
    WOULD_ACT = "would act (dry run)"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BurnLine(_Row):
    """One category of the burn breakdown."""

    category: str
    per_hour: Decimal
    count: int


class ProtectionOutcome(_Row):
    """One instance of the protective plan, and what became of it."""

    instance_id: str
    instance_name: str
    region: str
    action: str
    saving_per_hour: Decimal
    snapshot_first: bool
    snapshot_id: str | None = None
    status: ProtectionStatus
    reason: str


class ProtectionReport(_Row):
    """The protective plan of the run."""

    enabled: bool
    triggered: bool
    note: str
    target_hours: Decimal
    runway_after_hours: Decimal | None
    burn_after_per_hour: Decimal
    steps: list[ProtectionOutcome] = Field(default_factory=list)
    passed: list[str] = Field(default_factory=list, description="'name: reason' lines.")

    def done(self) -> list[ProtectionOutcome]:
        """Steps carried out."""
        return [s for s in self.steps if s.status is ProtectionStatus.DONE]

    def failed(self) -> list[ProtectionOutcome]:
        """Steps that failed."""
        return [s for s in self.steps if s.status is ProtectionStatus.FAILED]


class LowBalanceReport(RecipeReport):
    """The whole run."""

    account_name: str
    evaluated_at: datetime
    dry_run: bool
    currency: str
    balance: Decimal
    fleet_burn_per_hour: Decimal
    burn_lines: list[BurnLine] = Field(default_factory=list)
    measured_burn_per_hour: Decimal | None = None
    measured_modelled_per_hour: Decimal | None = None
    measured_note: str = ""
    spent_once: Decimal = Field(
        default=Decimal(0),
        description="Money gone in the window that neither the fleet model nor a lasting "
        "burn explains: spent once (a burst), not a rate.",
    )
    spent_once_when: str = Field(default="", description="The intervals that spent it.")
    runway_burn_per_hour: Decimal
    runway_basis: str
    runway_hours: Decimal | None
    depletion_at: datetime | None
    thresholds: list[str] = Field(default_factory=list)
    severity: Severity | None = None
    runway_severity: Severity | None = None
    protection_confirmed: bool = Field(
        default=False,
        description="The critical runway survives a second look: on the fleet model alone, "
        "or on the measured burn at the previous run too.",
    )
    protection_evidence: str = ""
    crossings: list[str] = Field(default_factory=list)
    top_up_to_clear: Decimal = Decimal(0)
    unpriced: list[str] = Field(default_factory=list)
    not_billed: list[str] = Field(default_factory=list)
    protection: ProtectionReport | None = None
    history: str = ""
    alert_outcomes: list[str] = Field(
        default_factory=list,
        description="Per alert: 'kind subject: new / repeat / escalated / suppressed / ...'.",
    )

    @property
    def ok(self) -> bool:
        """True when no threshold fired and no protective action failed."""
        failed = self.protection.failed() if self.protection else []
        return self.severity is None and not failed

    @property
    def depleted(self) -> bool:
        """True when the balance is at or below zero."""
        return self.balance <= 0

    def money(self, value: Decimal) -> str:
        """``USD 1,234.56`` (cents: the figures here are computed)."""
        return format_money(value, self.currency, places=2)

    def rate(self, value: Decimal) -> str:
        """``USD 60.52/h`` (four decimals under one unit an hour)."""
        places = 2 if abs(value) >= 1 or value == 0 else 4
        return f"{format_money(value, self.currency, places=places)}/h"

    def summary_line(self) -> str:
        """One line: balance, burn, runway, level."""
        level = self.severity.value if self.severity else "ok"
        until = f" (until {self.depletion_at:%Y-%m-%d %H:%M} UTC)" if self.depletion_at else ""
        return (
            f"{self.money(self.balance)} left, burn {self.rate(self.runway_burn_per_hour)}, "
            f"runway {format_hours(self.runway_hours)}{until}: {level}"
        )

    def burn_rows(self) -> list[dict[str, Any]]:
        """The burn-by-category table of the artifact."""
        rows: list[dict[str, Any]] = [
            {"category": line.category, "per_hour": self.rate(line.per_hour), "count": line.count}
            for line in self.burn_lines
        ]
        rows.append(
            {
                "category": "total (fleet model)",
                "per_hour": self.rate(self.fleet_burn_per_hour),
                "count": sum(line.count for line in self.burn_lines),
            }
        )
        return rows

    def protection_rows(self) -> list[dict[str, Any]]:
        """The protective plan table of the artifact."""
        if self.protection is None:
            return []
        return [
            {
                "instance": f"{s.instance_name} ({s.instance_id})",
                "region": s.region,
                "action": s.action,
                "saves": self.rate(s.saving_per_hour),
                "snapshot": s.snapshot_id or ("first" if s.snapshot_first else "not needed"),
                "outcome": s.status.value,
                "reason": s.reason,
            }
            for s in self.protection.steps
        ]

    def measured_text(self) -> str:
        """The measured burn in words."""
        if self.measured_burn_per_hour is None:
            return self.measured_note
        return f"{self.rate(self.measured_burn_per_hour)} ({self.measured_note})"

    def markdown(self) -> str:
        """A Markdown summary for the Prefect UI and the command line."""
        level = self.severity.value if self.severity else "ok"
        depletion = f"{self.depletion_at:%Y-%m-%d %H:%M} UTC" if self.depletion_at else "none"
        crossed = f": {'; '.join(self.crossings)}" if self.crossings else ""
        figures: list[list[object]] = [
            ["balance", self.money(self.balance)],
            ["burn, fleet model", self.rate(self.fleet_burn_per_hour)],
            ["burn, measured", self.measured_text()],
        ]
        if self.spent_once:
            figures.append(
                [
                    "spent once, not a burn",
                    f"{self.money(self.spent_once)} ({self.spent_once_when})",
                ]
            )
        figures += [
            [
                "runway",
                f"{format_hours(self.runway_hours)} at "
                f"{self.rate(self.runway_burn_per_hour)}: {self.runway_basis}",
            ],
            ["depletion", depletion],
            ["level", f"{level}{crossed}"],
        ]
        if self.severity is not None:
            figures.append(["top up to clear", self.money(self.top_up_to_clear)])
        lines = [
            f"# Low balance: {md(self.account_name)}{' (dry run)' if self.dry_run else ''}",
            "",
            md(self.summary_line()),
            "",
            *markdown_table(["", ""], figures),
            "",
            "## Burn by category",
            "",
            *markdown_table(
                ["category", "per hour", "resources"],
                [[r["category"], r["per_hour"], r["count"]] for r in self.burn_rows()],
            ),
        ]
        if self.unpriced:
            lines += ["", "**Unpriced (not in the fleet model):** " + md("; ".join(self.unpriced))]
        if self.not_billed:
            lines += ["", "Not billed: " + md("; ".join(self.not_billed))]
        lines += ["", "## Thresholds", "", *(f"- {md(t)}" for t in self.thresholds)]
        if self.protection is not None and self.protection.triggered:
            p = self.protection
            state = "enabled" if p.enabled else "off: plan only"
            lines += [
                "",
                f"## Protective plan ({state})",
                "",
                md(
                    f"{p.note}; runway after: {format_hours(p.runway_after_hours)} "
                    f"at {self.rate(p.burn_after_per_hour)}"
                ),
                "",
                f"Evidence: {md(self.protection_evidence)}",
            ]
            if p.steps:
                lines.append("")
                lines += markdown_table(
                    list(_PROTECTION_COLUMNS),
                    [[r[column] for column in _PROTECTION_COLUMNS] for r in self.protection_rows()],
                )
            if p.passed:
                lines += ["", "Left alone: " + md("; ".join(p.passed))]
        lines += ["", f"History: {md(self.history)}"]
        return "\n".join(lines + self.closing_lines())

    def artifact_key(self) -> str:
        """``low-balance-<account>``."""
        return f"low-balance-{slug(self.account_name, fallback='account')}"

    def artifact_tables(self) -> list[ArtifactTable]:
        """The burn by category always; the protective plan when there is one."""
        tables = [self.table("burn", self.burn_rows(), "Burn per hour by category")]
        rows = self.protection_rows()
        if rows:
            tables.append(self.table("protection", rows, "Protective plan and outcomes"))
        return tables


def _runway_delta(hours: Decimal | None) -> timedelta | None:
    if hours is None:
        return None
    return timedelta(seconds=int(shown(hours * 3600, 0)))


def _title(report: LowBalanceReport) -> str:
    left = report.money(report.balance)
    if report.depleted:
        return f"Barrack credit exhausted ({report.account_name}): instances are stopped"
    if report.runway_severity is not None and report.runway_hours is not None:
        return (
            f"Barrack credit runs out in {format_hours(report.runway_hours)} "
            f"({report.account_name}, {left} left)"
        )
    return f"Barrack balance low ({report.account_name}): {left} left"


def _facts(report: LowBalanceReport) -> dict[str, FactValue]:
    facts: dict[str, FactValue] = {
        "balance": Amount(value=shown(report.balance), currency=report.currency)
    }
    runway = _runway_delta(report.runway_hours)
    facts["runway"] = runway if runway is not None else "unbounded: nothing is billed"
    if report.depletion_at is not None:
        facts["depletion"] = report.depletion_at
    facts["burn"] = report.rate(report.runway_burn_per_hour)
    facts["burn_by_category"] = [
        f"{line.category}: {report.rate(line.per_hour)} ({line.count})"
        for line in report.burn_lines
        if line.count
    ]
    facts["measured_burn"] = report.measured_text()
    facts["runway_basis"] = report.runway_basis
    if report.spent_once:
        facts["spent_once"] = f"{report.money(report.spent_once)} ({report.spent_once_when})"
    facts["thresholds_crossed"] = list(report.crossings)
    if report.protection is not None and report.protection.steps:
        facts["protective_plan"] = [
            f"{s.action} {s.instance_name}: {s.status.value}" for s in report.protection.steps
        ]
    facts["what_to_do"] = (
        f"top up at least {report.money(report.top_up_to_clear)} to clear every threshold "
        "for a day at this burn"
    )
    return facts


def resolution_facts(report: LowBalanceReport) -> dict[str, FactValue]:
    """The facts of the "balance recovered" message: where the balance stands now."""
    facts: dict[str, FactValue] = {
        "balance": Amount(value=shown(report.balance), currency=report.currency),
        "burn": report.rate(report.runway_burn_per_hour),
    }
    runway = _runway_delta(report.runway_hours)
    facts["runway"] = runway if runway is not None else "unbounded: nothing is billed"
    if report.depletion_at is not None:
        facts["depletion"] = report.depletion_at
    return facts


def low_balance_alerts(report: LowBalanceReport) -> tuple[list[Alert], list[AlertKey]]:
    """The alerts a run raises, and the alert keys whose condition it saw clear.

    * one ``low-balance`` alert about the account at the worst severity that fired (the
      notifier sends it once, repeats it every interval, escalates it at once);
    * no threshold firing clears it: one "balance recovered" message (not in a dry run);
    * each protective hibernation done: a ``hibernated`` warning about the instance; each
      that failed: a critical ``hibernate-failed`` (cleared by a later success).
    """
    account = Subject.for_account(report.account_name)
    url = report.flow_run_url
    alerts: list[Alert] = []
    cleared: list[AlertKey] = []
    if report.severity is not None:
        alerts.append(
            Alert(
                kind=AlertKind.LOW_BALANCE,
                severity=report.severity,
                subject=account,
                title=_title(report),
                facts=_facts(report),
                flow_run_url=url,
            )
        )
    elif not report.dry_run:
        cleared.append(AlertKey(kind=AlertKind.LOW_BALANCE, subject=account))
    if report.protection is None:
        return alerts, cleared
    for step in report.protection.steps:
        subject = Subject.for_instance(
            step.instance_id, name=step.instance_name, region=step.region
        )
        if step.status is ProtectionStatus.DONE:
            verb = "Hibernated" if step.action == "hibernate" else "Stopped"
            alerts.append(
                Alert(
                    kind=AlertKind.HIBERNATED if step.action == "hibernate" else AlertKind.GENERIC,
                    severity=Severity.WARNING,
                    subject=subject,
                    title=f"{verb} {step.instance_name} to stretch the credit runway",
                    facts={
                        "saves": report.rate(step.saving_per_hour),
                        "snapshot": step.snapshot_id or "not needed: " + step.reason,
                        "runway_after_plan": format_hours(report.protection.runway_after_hours),
                    },
                    flow_run_url=url,
                )
            )
            cleared.append(AlertKey(kind=AlertKind.HIBERNATE_FAILED, subject=subject))
        elif step.status is ProtectionStatus.FAILED:
            alerts.append(
                Alert(
                    kind=AlertKind.HIBERNATE_FAILED,
                    severity=Severity.CRITICAL,
                    subject=subject,
                    title=f"Could not {step.action} {step.instance_name} to stretch the runway",
                    facts={"reason": step.reason, "still_costs": report.rate(step.saving_per_hour)},
                    flow_run_url=url,
                )
            )
    return alerts, cleared
