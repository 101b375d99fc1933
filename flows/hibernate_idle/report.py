"""What a hibernate-idle run decided and did, per instance, and the alerts it raises.

Pure: the flow fills a :class:`HibernateReport`; this module turns it into artifact
tables, a Markdown summary and :class:`~notifications.alerts.Alert`\\ s.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from flows.common.report import ArtifactTable, RecipeReport, markdown_table, md
from notifications.alerts import Alert, AlertKey, AlertKind, Amount, Severity, Subject
from notifications.text import format_money, slug

__all__ = ["Action", "HibernateReport", "IdleInstanceOutcome", "hibernate_alerts"]


class Action(StrEnum):
    """What the run did to an instance."""

    LEFT_RUNNING = "left running"
    WARNED = "warned"
    WOULD_WARN = "would warn"
    WAITING = "waiting"
    HIBERNATED = "hibernated"
    WOULD_HIBERNATE = "would hibernate"
    HELD = "held"
    SKIPPED = "skipped"
    FAILED = "failed"


_WARNED = (Action.WARNED, Action.WOULD_WARN, Action.WAITING, Action.HELD)
_HIBERNATED = (Action.HIBERNATED, Action.WOULD_HIBERNATE)


class IdleInstanceOutcome(BaseModel):
    """One instance's line: the verdict, the evidence behind it, and what was done."""

    model_config = ConfigDict(extra="forbid")

    instance_id: str
    instance_name: str
    region: str
    status: str = Field(description="The status when the run listed it.")
    verdict: str
    action: Action
    reason: str
    probe: str | None = None
    evidence: str = Field(default="", description="What the probe saw, in one line.")
    max_util_pct: float | None = None
    avg_util_pct: float | None = None
    max_memory_mib: float | None = None
    samples: int = 0
    window_start: datetime | None = None
    window_end: datetime | None = None
    warned_at: datetime | None = None
    hibernate_after: datetime | None = None
    saving_per_day: Decimal | None = None
    currency: str | None = None
    rates_source: str | None = None
    probe_error: str | None = None

    @property
    def saving(self) -> Amount | None:
        """The daily saving with its currency, when known."""
        if self.saving_per_day is None or self.currency is None:
            return None
        return Amount(value=self.saving_per_day.quantize(Decimal("0.01")), currency=self.currency)

    @property
    def subject(self) -> Subject:
        """This instance as an alert subject."""
        return Subject.for_instance(self.instance_id, name=self.instance_name, region=self.region)


class HibernateReport(RecipeReport):
    """The whole run."""

    policy_name: str
    evaluated_at: datetime
    dry_run: bool
    probe: str
    rules: str = Field(description="Thresholds, window, uptime and grace in one line.")
    selection: str
    state_store: str = ""
    instances: list[IdleInstanceOutcome] = Field(default_factory=list)
    excluded: list[str] = Field(default_factory=list, description="'name: reason' lines.")

    def with_action(self, *actions: Action) -> list[IdleInstanceOutcome]:
        """The instances that ended with one of ``actions``."""
        return [i for i in self.instances if i.action in actions]

    @property
    def probe_failures(self) -> list[IdleInstanceOutcome]:
        """Instances kept running because the probe could not judge them."""
        return [i for i in self.instances if i.probe_error is not None]

    @property
    def ok(self) -> bool:
        """True when no hibernation failed and the probe judged every instance it tried."""
        return not (self.with_action(Action.FAILED) or self.probe_failures)

    def savings(self) -> dict[str, Decimal]:
        """Daily savings of this run's (possible, in a dry run) hibernations, per currency."""
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for item in self.with_action(*_HIBERNATED):
            if item.saving_per_day is not None and item.currency is not None:
                totals[item.currency] += item.saving_per_day
        return dict(totals)

    def summary_line(self) -> str:
        """One line: what was hibernated, warned and left alone."""
        hibernated = self.with_action(*_HIBERNATED)
        saved = ", ".join(
            f"{format_money(v, c, places=2)}/day" for c, v in sorted(self.savings().items())
        )
        counts = [
            f"{len(hibernated)} {'to hibernate' if self.dry_run else 'hibernated'}"
            + (f" (saves {saved})" if saved else ""),
            f"{len(self.with_action(Action.WARNED, Action.WOULD_WARN))} "
            f"{'to warn' if self.dry_run else 'warned'}",
            f"{len(self.with_action(Action.WAITING))} waiting",
            f"{len(self.with_action(Action.HELD))} held",
            f"{len(self.with_action(Action.LEFT_RUNNING))} left running",
            f"{len(self.probe_failures)} not judged",
            f"{len(self.with_action(Action.SKIPPED))} skipped",
            f"{len(self.with_action(Action.FAILED))} failed",
        ]
        return f"{self.evaluated_at:%Y-%m-%d %H:%M}Z: " + ", ".join(counts)

    def instance_rows(self) -> list[dict[str, Any]]:
        """The per-instance table of the artifact."""
        return [
            {
                "instance": f"{i.instance_name} ({i.instance_id})",
                "region": i.region,
                "verdict": i.verdict,
                "action": i.action.value,
                "evidence": i.evidence,
                "reason": i.reason,
                "saving/day": str(i.saving) if i.saving and i.action in _HIBERNATED else "",
            }
            for i in self.instances
        ]

    def hibernated_rows(self) -> list[dict[str, Any]]:
        """The hibernated instances and what each saves per day."""
        return [
            {
                "instance": f"{i.instance_name} ({i.instance_id})",
                "region": i.region,
                "saving/day": str(i.saving) if i.saving else "unknown",
                "rates": i.rates_source or "",
                "evidence": i.evidence,
            }
            for i in self.with_action(*_HIBERNATED)
        ]

    def markdown(self) -> str:
        """A Markdown summary for the Prefect UI and the command line."""
        lines = [
            f"# Hibernate idle: {md(self.policy_name)}{' (dry run)' if self.dry_run else ''}",
            "",
            md(self.summary_line()),
            "",
            f"- probe: {md(self.probe)}",
            f"- rules: {md(self.rules)}",
            f"- selection: {md(self.selection)}",
        ]
        if self.state_store:
            lines.append(f"- memory: {md(self.state_store)}")
        lines.append("")
        lines += markdown_table(
            ["instance", "verdict", "action", "evidence", "reason"],
            [
                [i.instance_name, i.verdict, i.action.value, i.evidence, i.reason]
                for i in self.instances
            ],
        )
        hibernated = self.with_action(*_HIBERNATED)
        if hibernated:
            lines.append("")
            lines += markdown_table(
                ["hibernated", "saving/day", "rates"],
                [
                    [i.instance_name, i.saving or "unknown", i.rates_source or ""]
                    for i in hibernated
                ],
            )
        if self.probe_failures:
            lines += ["", "Kept awake because the probe could not judge them:"]
            lines += [
                f"- {md(i.instance_name)}: {md(i.probe)} probe: {md(i.probe_error)}"
                for i in self.probe_failures
            ]
        return "\n".join(lines + self.closing_lines(left_out=self.excluded))

    def artifact_key(self) -> str:
        """``hibernate-idle-<policy>``."""
        return f"hibernate-idle-{slug(self.policy_name, fallback='policy')}"

    def artifact_tables(self) -> list[ArtifactTable]:
        """Per instance always; the hibernated instances and their savings when any."""
        rows = self.instance_rows()
        tables = [self.table("instances", rows, "Per instance: verdict, evidence, action, reason")]
        hibernated = self.hibernated_rows()
        if hibernated:
            description = "Hibernated instances and their estimated savings per day"
            tables.append(self.table("hibernated", hibernated, description))
        return tables


def hibernate_alerts(report: HibernateReport) -> tuple[list[Alert], list[AlertKey]]:
    """The alerts a run raises, and the alert keys whose condition it saw clear.

    * an idle warning per warned (or still waiting, or held) instance;
    * a hibernated notice per hibernated instance, with its saving per day;
    * a hibernate-failed alert per instance whose pre-hibernate command or hibernation
      failed (it keeps running);
    * one alert naming every instance the probe could not judge (they stay up).

    An instance no longer idle (or hibernated, exempt, snoozed, stopped) resolves its idle
    warning; one hibernated or no longer idle resolves its failure alert. A dry run
    resolves nothing.
    """
    url = report.flow_run_url
    alerts: list[Alert] = []
    cleared: list[AlertKey] = []
    for item in report.instances:
        if item.action in _WARNED:
            alerts.append(_idle_warning(item, url))
        elif item.action in _HIBERNATED:
            alerts.append(_hibernated(item, url))
        elif item.action is Action.FAILED:
            alerts.append(_failed(item, url))
        if report.dry_run:
            continue
        if item.action not in (*_WARNED, Action.FAILED):
            cleared.append(AlertKey(kind=AlertKind.IDLE_WARNING, subject=item.subject))
        if item.action not in (*_WARNED, Action.FAILED, Action.SKIPPED):
            cleared.append(AlertKey(kind=AlertKind.HIBERNATE_FAILED, subject=item.subject))
    probe_subject = Subject.for_flow(f"hibernate-idle:{report.policy_name}")
    if report.probe_failures:
        failures = report.probe_failures
        alerts.append(
            Alert(
                kind=AlertKind.GENERIC,
                severity=Severity.WARNING,
                subject=probe_subject,
                title=f"Idle probe could not judge {len(failures)} instance(s); they stay up",
                facts={
                    "probe": report.probe,
                    "instances": [f"{i.instance_name}: {i.probe_error}" for i in failures],
                    "what_to_do": "check the probe's settings and that it can reach them",
                },
                flow_run_url=url,
            )
        )
    elif not report.dry_run:
        cleared.append(AlertKey(kind=AlertKind.GENERIC, subject=probe_subject))
    return alerts, cleared


def _idle_warning(item: IdleInstanceOutcome, url: str | None) -> Alert:
    when = f"{item.hibernate_after:%H:%M}Z" if item.hibernate_after else "a later run"
    facts: dict[str, Any] = {
        "evidence": item.evidence,
        "hibernates_after": item.hibernate_after or "a later run",
        "to_keep_it_up": "use its GPU, or add a snooze (snoozes) or an exemption for it",
    }
    if item.saving is not None:
        facts["saves_per_day"] = item.saving
    return Alert(
        kind=AlertKind.IDLE_WARNING,
        severity=Severity.WARNING,
        subject=item.subject,
        title=f"{item.instance_name} is idle: hibernates after {when} unless used",
        facts=facts,
        flow_run_url=url,
    )


def _hibernated(item: IdleInstanceOutcome, url: str | None) -> Alert:
    saving = f": saves {item.saving}/day" if item.saving else ""
    verb = "Hibernated" if item.action is Action.HIBERNATED else "Would hibernate"
    facts: dict[str, Any] = {"evidence": item.evidence, "reason": item.reason}
    if item.saving is not None:
        facts["saves_per_day"] = item.saving
    facts["to_resume"] = "restore it from hibernation (hibernate-restore)"
    return Alert(
        kind=AlertKind.HIBERNATED,
        severity=Severity.INFO,
        subject=item.subject,
        title=f"{verb} {item.instance_name}{saving}"[:200],
        facts=facts,
        flow_run_url=url,
    )


def _failed(item: IdleInstanceOutcome, url: str | None) -> Alert:
    return Alert(
        kind=AlertKind.HIBERNATE_FAILED,
        severity=Severity.WARNING,
        subject=item.subject,
        title=f"Hibernation of {item.instance_name} cancelled; it keeps running",
        facts={"reason": item.reason, "evidence": item.evidence},
        flow_run_url=url,
    )
