"""What a restore did, with the reasons, and the notifications it raises.

Everything here is pure: the flow fills a :class:`RestoreReport`; this module turns it
into Markdown, table rows and :class:`~notifications.alerts.Alert`\\ s.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from barrack.models import Money
from flows.common.report import ArtifactTable, RecipeReport, markdown_table, md
from flows.restore.candidates import Candidate
from notifications.alerts import Alert, AlertKey, AlertKind, Amount, FactValue, Severity, Subject
from notifications.text import describe_duration, format_decimal, format_money, slug

__all__ = [
    "DRILL_HISTORY_KEY",
    "Attempt",
    "RestoreOutcome",
    "RestoreReport",
    "Timeline",
    "drill_history_row",
    "drill_verdict",
    "format_seconds",
    "restore_alerts",
]

DRILL_HISTORY_KEY = "restore-drill-history"
"""One key for every drill run's history table: its versions are the drill history."""


class RestoreOutcome(StrEnum):
    """How a restore ended."""

    RESTORED = "restored"
    WOULD_RESTORE = "would restore"
    VERIFY_FAILED = "verification failed"
    BLOCKED = "blocked"
    FAILED = "failed"
    TIMED_OUT = "timed out"


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Attempt(_Row):
    """One restore request and its answer.

    Attributes:
        region: where it asked.
        name: the instance name it asked for.
        result: ``created``, ``adopted`` or ``refused``.
        reason: the API's answer in words.
    """

    region: str
    name: str
    result: Literal["created", "adopted", "refused"]
    reason: str = ""


def format_seconds(seconds: float | None) -> str:
    """A time in seconds for people (``3m 12s``); an em dash for unknown, never negative."""
    if seconds is None:
        return "—"
    return describe_duration(timedelta(seconds=max(seconds, 0)))


class Timeline(_Row):
    """When the restored machine came up, counted from the restore request.

    The ``*_after_s`` figures are measured by the recipe on its own clock (what a person
    waiting for the machine experiences); ``api_active_after_s`` is the API's own account
    (the instance's ``created_at`` to its ``updated_at`` when first seen ``ACTIVE``).
    """

    requested_at: datetime | None = None
    active_after_s: float | None = None
    address_after_s: float | None = None
    verified_after_s: float | None = None
    api_active_after_s: float | None = None

    def describe(self) -> str:
        """``ACTIVE 3m 12s, IP 3m 12s, verified 3m 40s (API: ACTIVE after 3m 5s)``."""
        parts = [
            f"ACTIVE {format_seconds(self.active_after_s)}",
            f"IP {format_seconds(self.address_after_s)}",
        ]
        if self.verified_after_s is not None:
            parts.append(f"verified {format_seconds(self.verified_after_s)}")
        text = ", ".join(parts)
        if self.api_active_after_s is not None:
            text += f" (API: ACTIVE after {format_seconds(self.api_active_after_s)})"
        return text


class RestoreReport(RecipeReport):
    """One restore (or one drill of one instance), from request to outcome."""

    mode: Literal["restore", "drill"] = "restore"
    requested: str = Field(description="The source as asked: a snapshot, or an instance.")
    dry_run: bool = False
    evaluated_at: datetime
    targets: list[str] = Field(default_factory=list)
    snapshot_id: str | None = None
    snapshot_name: str | None = None
    snapshot_created_at: datetime | None = None
    source_instance_id: str | None = None
    source_instance_name: str | None = None
    source_region: str | None = None
    gpu_model: str | None = None
    gpu_count: int | None = None
    candidates: list[Candidate] = Field(default_factory=list)
    attempts: list[Attempt] = Field(default_factory=list)
    chosen_region: str | None = None
    chosen_reason: str = ""
    instance_id: str | None = None
    instance_name: str | None = None
    address: str | None = None
    adopted: bool = False
    hourly_price: Money | None = None
    currency: str | None = None
    balance: Money | None = None
    fleet_burn: Money | None = None
    runway_hours: float | None = None
    warnings: list[str] = Field(default_factory=list)
    timeline: Timeline = Field(default_factory=Timeline)
    verification: str | None = None
    verified: bool | None = None
    outcome: RestoreOutcome = RestoreOutcome.FAILED
    reason: str = ""
    cleanup: str | None = None
    cleanup_done: bool | None = None

    @property
    def ok(self) -> bool:
        """True when the machine is up (or, in a dry run, would be restored); a drill also
        needs its instance cleaned up."""
        if self.outcome not in (RestoreOutcome.RESTORED, RestoreOutcome.WOULD_RESTORE):
            return False
        return not (self.mode == "drill" and self.cleanup_done is False)

    @property
    def source_label(self) -> str:
        """The source instance's name, else the snapshot's, else what was asked."""
        return self.source_instance_name or self.snapshot_name or self.requested

    def subject(self) -> Subject:
        """What alerts about this restore are about: the source instance."""
        return Subject.for_instance(
            self.source_instance_id or self.snapshot_id or self.requested,
            name=self.source_instance_name or self.snapshot_name,
            region=self.source_region,
        )

    def price_label(self) -> str:
        """``USD 21.52/h`` or an em dash."""
        if self.hourly_price is None or self.currency is None:
            return "—"
        return f"{format_money(self.hourly_price, self.currency)}/h"

    def summary_line(self) -> str:
        """One line: what happened to which source, where."""
        what = "Drill of" if self.mode == "drill" else "Restore of"
        where = f" in {self.chosen_region}" if self.chosen_region else ""
        named = f" as {self.instance_name}" if self.instance_name else ""
        line = f"{what} {self.source_label}: {self.outcome.value}{where}{named}"
        if self.reason:
            line += f" ({self.reason})"
        return line

    def candidate_rows(self) -> list[dict[str, Any]]:
        """Every candidate region, as table rows."""
        return [
            {
                "region": c.region,
                "verdict": c.verdict.value,
                "order": c.preference if c.preference is not None else "",
                "deployable": c.deployable if c.deployable is not None else "",
                "price_per_hour": format_decimal(c.hourly_price)
                if c.hourly_price is not None
                else "",
                "name": c.name,
                "reason": c.reason,
            }
            for c in self.candidates
        ]

    def markdown(self) -> str:
        """A Markdown summary for the Prefect UI and the command line."""
        title = "Restore drill" if self.mode == "drill" else "Restore"
        source = self.requested
        if self.snapshot_id and self.snapshot_created_at:
            source += (
                f" -> snapshot {self.snapshot_name} ({self.snapshot_id}) of "
                f"{self.snapshot_created_at:%Y-%m-%d %H:%M}Z in {self.source_region}, "
                f"{self.gpu_count}x {self.gpu_model}"
            )
        lines = [
            f"# {title}: {md(self.source_label)}{' (dry run)' if self.dry_run else ''}",
            "",
            f"**{self.outcome.value}**" + (f": {md(self.reason)}" if self.reason else ""),
            "",
            f"- source: {md(source)}",
            f"- targets: {md(', '.join(self.targets) or '—')}",
        ]
        if self.chosen_region:
            lines.append(
                f"- region: **{md(self.chosen_region)}**, because {md(self.chosen_reason)}"
            )
        if self.instance_name:
            adopted = " (made by an earlier attempt of this request: adopted)"
            lines.append(
                f"- instance: {md(self.instance_name)} ({md(self.instance_id or 'not created')})"
                + (adopted if self.adopted else "")
            )
        lines.append(f"- hourly price: {md(self.price_label())}")
        if self.balance is not None:
            runway = (
                f", runway about {describe_duration(timedelta(hours=self.runway_hours))} "
                "with it running"
                if self.runway_hours is not None
                else ""
            )
            balance = (
                format_money(self.balance, self.currency)
                if self.currency
                else format_decimal(self.balance)
            )
            lines.append(f"- balance: {md(balance)}{runway}")
        if self.address:
            lines.append(f"- address: {md(self.address)}")
        if self.timeline.requested_at is not None:
            lines.append(f"- timings: {md(self.timeline.describe())}")
        if self.verification:
            lines.append(f"- SSH verification: {md(self.verification)}")
        if self.cleanup:
            lines.append(f"- clean-up: {md(self.cleanup)}")
        lines += [f"- **warning:** {md(warning)}" for warning in self.warnings]
        if self.candidates:
            lines.append("")
            lines += markdown_table(
                ["region", "verdict", "order", "deployable", "price/h", "name", "reason"],
                [list(row.values()) for row in self.candidate_rows()],
            )
        if self.attempts:
            lines.append("")
            lines += markdown_table(
                ["attempt", "region", "name", "result", "reason"],
                [
                    [number, a.region, a.name, a.result, a.reason]
                    for number, a in enumerate(self.attempts, start=1)
                ],
            )
        return "\n".join(lines + self.closing_lines())

    def artifact_key(self) -> str:
        """``restore-to-region-<source>``."""
        return f"restore-to-region-{slug(self.source_label, fallback='source')}"

    def artifact_tables(self) -> list[ArtifactTable]:
        """The candidate regions; for a drill, its row of the drill history too."""
        tables: list[ArtifactTable] = []
        if self.candidates:
            description = "Every candidate region with its verdict and reason"
            tables.append(self.table("candidates", self.candidate_rows(), description))
        if self.mode == "drill":
            tables.append(
                ArtifactTable(
                    DRILL_HISTORY_KEY,
                    [drill_history_row(self, self.evaluated_at)],
                    "Restore drill: restore times per instance",
                )
            )
        return tables

    def facts(self) -> dict[str, FactValue]:
        """The facts a person acts on, for alerts."""
        facts: dict[str, FactValue] = {}
        if self.snapshot_id:
            facts["snapshot"] = f"{self.snapshot_name} ({self.snapshot_id})"
        if self.chosen_region:
            facts["region"] = f"{self.chosen_region}: {self.chosen_reason}"
        if self.instance_name:
            facts["instance"] = f"{self.instance_name} ({self.instance_id or 'not created'})"
        if self.address:
            facts["address"] = self.address
        if self.hourly_price is not None and self.currency:
            facts["hourly_price"] = Amount(value=self.hourly_price, currency=self.currency)
        if self.timeline.active_after_s is not None:
            facts["time_to_active"] = format_seconds(self.timeline.active_after_s)
        if self.verification:
            facts["ssh_verification"] = self.verification
        refused = [f"{a.region}: {a.reason}" for a in self.attempts if a.result == "refused"]
        if refused:
            facts["refused_by"] = refused
        if self.cleanup:
            facts["clean_up"] = self.cleanup
        if self.runway_hours is not None:
            facts["runway"] = timedelta(hours=self.runway_hours)
        if self.warnings:
            facts["warnings"] = list(self.warnings)
        return facts


def drill_verdict(drill: RestoreReport) -> str:
    """``passed``, ``failed: <outcome>``, ``failed: clean-up``, or the dry run's outcome."""
    if drill.dry_run:
        return drill.outcome.value
    if drill.ok:
        return "passed"
    if drill.outcome is RestoreOutcome.RESTORED:
        return "failed: clean-up"
    return f"failed: {drill.outcome.value}"


def drill_history_row(drill: RestoreReport, drilled_at: datetime) -> dict[str, Any]:
    """One instance's row of the drill history table (snapshot age, restore times, outcome)."""
    age = (
        round((drilled_at - drill.snapshot_created_at).total_seconds() / 3600, 1)
        if drill.snapshot_created_at
        else ""
    )
    timeline = drill.timeline
    return {
        "date": f"{drilled_at:%Y-%m-%d}",
        "instance": drill.source_label,
        "snapshot": drill.snapshot_name or "",
        "snapshot_age_h": age,
        "from": drill.source_region or "",
        "to": drill.chosen_region or "",
        "outcome": drill_verdict(drill),
        "to_active_s": timeline.active_after_s or "",
        "to_ip_s": timeline.address_after_s or "",
        "verified_s": timeline.verified_after_s or "",
        "api_to_active_s": timeline.api_active_after_s or "",
        "clean_up": drill.cleanup or "",
        "reason": drill.reason,
    }


_FAILED_SEVERITY = {
    RestoreOutcome.VERIFY_FAILED: Severity.WARNING,
    RestoreOutcome.BLOCKED: Severity.CRITICAL,
    RestoreOutcome.FAILED: Severity.CRITICAL,
    RestoreOutcome.TIMED_OUT: Severity.CRITICAL,
}


def _action_needed(report: RestoreReport) -> str | None:
    """A step a person must take beyond the generic hint every RESTORE_FAILED carries."""
    if report.outcome is RestoreOutcome.VERIFY_FAILED:
        return "the machine is up (and kept) but did not answer as expected: log in and check"
    if report.cleanup_done is False:
        return "delete the failed instance by hand (it may still bill), then run again"
    return None


def restore_alerts(report: RestoreReport) -> tuple[list[Alert], list[AlertKey]]:
    """The alerts a single restore raises, and the alert keys it clears.

    * restored: ``RESTORE_FINISHED`` (info; warning when the runway is short), and any
      earlier ``RESTORE_FAILED`` about the source is resolved;
    * verification failed: ``RESTORE_FAILED`` (warning; the machine is kept);
    * blocked, failed or timed out: ``RESTORE_FAILED`` (critical), naming any step a
      person must take (a failed instance that could not be deleted);
    * a dry run raises nothing it would not raise for real, and clears nothing.

    Drills are reported by :func:`flows.restore.drill_report.drill_alerts`.
    """
    subject = report.subject()
    url = report.flow_run_url
    if report.outcome is RestoreOutcome.WOULD_RESTORE:
        return [], []
    if report.outcome is RestoreOutcome.RESTORED:
        severity = Severity.WARNING if report.warnings else Severity.INFO
        alert = Alert(
            kind=AlertKind.RESTORE_FINISHED,
            severity=severity,
            subject=subject,
            title=f"Restored {report.source_label} in {report.chosen_region} as "
            f"{report.instance_name}"[:200],
            facts=report.facts(),
            flow_run_url=url,
        )
        cleared = (
            [] if report.dry_run else [AlertKey(kind=AlertKind.RESTORE_FAILED, subject=subject)]
        )
        return [alert], cleared
    facts = {"reason": report.reason or report.outcome.value, **report.facts()}
    action = _action_needed(report)
    if action is not None:
        facts["action_needed"] = action
    alert = Alert(
        kind=AlertKind.RESTORE_FAILED,
        severity=_FAILED_SEVERITY.get(report.outcome, Severity.CRITICAL),
        subject=subject,
        title=f"Restore of {report.source_label} {report.outcome.value}"[:200],
        facts=facts,
        flow_run_url=url,
    )
    return [alert], []
