"""What a restore drill found, per instance, and the notifications it raises.

Pure: the drill flow fills a :class:`DrillReport` with one
:class:`~flows.restore.report.RestoreReport` per instance drilled. The history table (one
row per instance: snapshot age, restore times, outcome) is published under one artifact
key every run, so Prefect keeps the drill history as that key's versions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from flows.common.report import ArtifactTable, RecipeReport, markdown_table, md
from flows.restore.report import (
    DRILL_HISTORY_KEY,
    RestoreReport,
    drill_history_row,
    drill_verdict,
    format_seconds,
)
from notifications.alerts import Alert, AlertKey, AlertKind, FactValue, Severity, Subject

__all__ = ["DRILL_FLOW_NAME", "DrillReport", "drill_alerts", "drill_verdict"]

DRILL_FLOW_NAME = "restore-drill"


class DrillReport(RecipeReport):
    """One drill run over the protected instances."""

    evaluated_at: datetime
    dry_run: bool = False
    selection: str = ""
    targets: list[str] = Field(default_factory=list)
    drills: list[RestoreReport] = Field(default_factory=list)
    excluded: list[str] = Field(default_factory=list, description="'name: reason' lines.")
    deferred: list[str] = Field(
        default_factory=list, description="Selected but left for a later run (max_drills)."
    )

    @property
    def failed(self) -> list[RestoreReport]:
        """Drills that did not pass (restore, verification or clean-up failed)."""
        return [d for d in self.drills if not d.ok]

    @property
    def passed(self) -> list[RestoreReport]:
        """Drills that passed."""
        return [d for d in self.drills if d.ok]

    @property
    def ok(self) -> bool:
        """True when every drill passed."""
        return not self.failed

    def summary_line(self) -> str:
        """One line: how many drills passed, and the slowest restore."""
        times = [
            d.timeline.active_after_s for d in self.passed if d.timeline.active_after_s is not None
        ]
        api_times = [
            d.timeline.api_active_after_s
            for d in self.passed
            if d.timeline.api_active_after_s is not None
        ]
        slowest = f"; slowest to ACTIVE {format_seconds(max(times))}" if times else ""
        if times and api_times:
            slowest += f" (API clock: {format_seconds(max(api_times))})"
        if self.dry_run:
            # Nothing was drilled: a dry run neither passes nor fails.
            blocked = f"; {len(self.failed)} could not go ahead" if self.failed else ""
            return f"would drill {len(self.drills)} instance(s){blocked}"
        return (
            f"drilled {len(self.drills)} instance(s): {len(self.passed)} passed, "
            f"{len(self.failed)} failed{slowest}"
        )

    def history_rows(self) -> list[dict[str, Any]]:
        """The drill history table: one row per instance drilled."""
        return [drill_history_row(d, self.evaluated_at) for d in self.drills]

    def markdown(self) -> str:
        """A Markdown summary for the Prefect UI and the command line."""
        lines = [
            f"# Restore drill{' (dry run)' if self.dry_run else ''}",
            "",
            md(self.summary_line()),
            "",
            f"- selection: {md(self.selection)}",
            f"- targets: {md(', '.join(self.targets))}",
            "",
        ]
        headers = ["instance", "snapshot", "to", "outcome", "ACTIVE", "IP", "verified"]
        lines += markdown_table(
            [*headers, "clean-up", "reason"],
            [
                [
                    d.source_label,
                    d.snapshot_name or "—",
                    d.chosen_region or "—",
                    drill_verdict(d),
                    format_seconds(d.timeline.active_after_s),
                    format_seconds(d.timeline.address_after_s),
                    format_seconds(d.timeline.verified_after_s),
                    d.cleanup or "—",
                    d.reason,
                ]
                for d in self.drills
            ],
        )
        if self.deferred:
            lines += ["", "Left for a later run (max_drills): " + md(", ".join(self.deferred))]
        return "\n".join(lines + self.closing_lines(left_out=self.excluded))

    def artifact_key(self) -> str:
        """``restore-drill``."""
        return "restore-drill"

    def artifact_tables(self) -> list[ArtifactTable]:
        """The drill history table (its versions under one key are the history)."""
        return [
            ArtifactTable(
                DRILL_HISTORY_KEY, self.history_rows(), "Restore drill: restore times per instance"
            )
        ]


def _failure_facts(drill: RestoreReport) -> dict[str, FactValue]:
    facts: dict[str, FactValue] = {"outcome": drill.outcome.value, "reason": drill.reason}
    facts.update(drill.facts())
    if drill.cleanup_done is False:
        facts["action_needed"] = "delete the drill instance by hand (it may still bill)"
    return facts


def drill_alerts(report: DrillReport) -> tuple[list[Alert], list[AlertKey]]:
    """The alerts a drill run raises, and the alert keys it clears.

    * each failed drill: ``DRILL_FAILED``, critical (a backup that does not restore, or a
      drill instance left billing), about the source instance;
    * each passed drill clears that instance's earlier ``DRILL_FAILED``;
    * when every drill passed: one ``DRILL_SUCCEEDED`` (info) for the run.

    A dry run raises nothing and clears nothing: it restored nothing.
    """
    if report.dry_run:
        return [], []
    url = report.flow_run_url
    alerts: list[Alert] = []
    cleared: list[AlertKey] = []
    for drill in report.failed:
        alerts.append(
            Alert(
                kind=AlertKind.DRILL_FAILED,
                severity=Severity.CRITICAL,
                subject=drill.subject(),
                title=f"Restore drill failed for {drill.source_label}"[:200],
                facts=_failure_facts(drill),
                flow_run_url=url,
            )
        )
    for drill in report.passed:
        cleared.append(AlertKey(kind=AlertKind.DRILL_FAILED, subject=drill.subject()))
    if report.drills and report.ok:
        times = [f"{d.source_label}: {d.timeline.describe()}" for d in report.passed]
        alerts.append(
            Alert(
                kind=AlertKind.DRILL_SUCCEEDED,
                severity=Severity.INFO,
                subject=Subject.for_flow(DRILL_FLOW_NAME),
                title=f"Restore drill passed for {len(report.drills)} instance(s)",
                facts={"restore_times": times},
                flow_run_url=url,
            )
        )
    return alerts, cleared
