"""What a nightly-snapshots run did, per instance and per snapshot, and the alerts it raises.

Everything here is pure: the flow fills a :class:`NightlyReport`; this module turns it
into artifact tables, a Markdown summary and :class:`~notifications.alerts.Alert`\\ s.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from flows.common.report import ArtifactTable, RecipeReport, markdown_table, md
from flows.nightly_snapshots.cost import RetentionCost
from notifications.alerts import Alert, AlertKey, AlertKind, Severity, Subject
from notifications.text import slug

__all__ = [
    "DeletionOutcome",
    "DeletionStatus",
    "InstanceOutcome",
    "NightlyReport",
    "SnapshotStatusOutcome",
    "nightly_alerts",
]


class SnapshotStatusOutcome(StrEnum):
    """What happened to an instance's snapshot for this slot."""

    CREATED = "created"
    EXISTS = "exists"
    WOULD_CREATE = "would create"
    SKIPPED = "skipped"
    FAILED = "failed"


class DeletionStatus(StrEnum):
    """What happened to a snapshot the retention plan marked for deletion."""

    DELETED = "deleted"
    ALREADY_GONE = "already gone"
    WOULD_DELETE = "would delete"
    BLOCKED = "blocked"
    REFUSED = "refused"
    FAILED = "failed"
    HELD = "held"


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InstanceOutcome(_Row):
    """One instance's line in the report."""

    instance_id: str
    instance_name: str
    region: str
    status: str = Field(description="The instance's status when the run looked.")
    outcome: SnapshotStatusOutcome
    snapshot_name: str | None = None
    snapshot_id: str | None = None
    reason: str = ""
    kept: int = 0
    deleted: int = 0
    pruning_suspended: str | None = None
    freshness: str = "ok"
    freshness_message: str = ""
    newest_success_at: datetime | None = None


class DeletionOutcome(_Row):
    """One snapshot the plan would delete, and what became of it."""

    snapshot_id: str
    snapshot_name: str
    instance_id: str
    instance_name: str
    region: str
    created_at: datetime
    status: DeletionStatus
    reason: str


class NightlyReport(RecipeReport):
    """The whole run."""

    policy_name: str
    slot: datetime
    evaluated_at: datetime
    dry_run: bool
    retention: str
    selection: str
    instances: list[InstanceOutcome] = Field(default_factory=list)
    excluded: list[str] = Field(default_factory=list, description="'name: reason' lines.")
    deletions: list[DeletionOutcome] = Field(default_factory=list)
    held: list[DeletionOutcome] = Field(
        default_factory=list,
        description="Snapshots kept whatever the rules say (pruning suspended, ...), "
        "status 'held', with why.",
    )
    blocked: str | None = None
    cost: RetentionCost | None = Field(
        default=None, description="What the kept snapshots cost; what pruning saves."
    )
    cost_note: str | None = Field(default=None, description="Why the cost is missing, when it is.")

    @property
    def failed_instances(self) -> list[InstanceOutcome]:
        """Instances whose snapshot for this slot failed."""
        return [i for i in self.instances if i.outcome is SnapshotStatusOutcome.FAILED]

    @property
    def failed_deletions(self) -> list[DeletionOutcome]:
        """Planned deletions the API refused or that failed."""
        return [
            d for d in self.deletions if d.status in (DeletionStatus.FAILED, DeletionStatus.REFUSED)
        ]

    @property
    def ok(self) -> bool:
        """True when nothing failed and nothing was blocked."""
        return not (self.failed_instances or self.failed_deletions or self.blocked)

    def count(self, outcome: SnapshotStatusOutcome) -> int:
        """How many instances ended with ``outcome``."""
        return sum(i.outcome is outcome for i in self.instances)

    def deleted_count(self) -> int:
        """Snapshots actually deleted (or, in a dry run, that would be)."""
        done = (DeletionStatus.DELETED, DeletionStatus.WOULD_DELETE)
        return sum(d.status in done for d in self.deletions)

    def summary_line(self) -> str:
        """One line: what was made, kept and pruned."""
        verb = "would prune" if self.dry_run else "pruned"
        made = self.count(SnapshotStatusOutcome.CREATED) + self.count(
            SnapshotStatusOutcome.WOULD_CREATE
        )
        return (
            f"slot {self.slot:%Y-%m-%d %H:%M}Z: {made} snapshot(s) "
            f"{'to take' if self.dry_run else 'taken'}, "
            f"{self.count(SnapshotStatusOutcome.EXISTS)} already there, "
            f"{self.count(SnapshotStatusOutcome.SKIPPED)} skipped, "
            f"{len(self.failed_instances)} failed; {verb} {self.deleted_count()}, "
            f"kept {sum(i.kept for i in self.instances)}"
        )

    def instance_rows(self) -> list[dict[str, Any]]:
        """The per-instance table of the artifact."""
        return [
            {
                "instance": f"{i.instance_name} ({i.instance_id})",
                "region": i.region,
                "snapshot": i.outcome.value,
                "name": i.snapshot_name or "",
                "reason": i.reason,
                "kept": i.kept,
                "deleted": i.deleted,
                "freshness": i.freshness,
                "detail": i.pruning_suspended or i.freshness_message,
            }
            for i in self.instances
        ]

    def deletion_rows(self) -> list[dict[str, Any]]:
        """The per-snapshot deletion table of the artifact."""
        return [
            {
                "snapshot": d.snapshot_name,
                "instance": d.instance_name,
                "region": d.region,
                "created": f"{d.created_at:%Y-%m-%d %H:%M}Z",
                "outcome": d.status.value,
                "reason": d.reason,
            }
            for d in self.deletions
        ]

    def markdown(self) -> str:
        """A Markdown summary for the Prefect UI and the command line."""
        lines = [
            f"# Nightly snapshots: {md(self.policy_name)}{' (dry run)' if self.dry_run else ''}",
            "",
            md(self.summary_line()),
            "",
            f"- retention: {md(self.retention)}",
            f"- selection: {md(self.selection)}",
        ]
        if self.cost is not None:
            lines.append(f"- {md(self.cost.line(dry_run=self.dry_run))}")
        elif self.cost_note:
            lines.append(f"- retention cost: {md(self.cost_note)}")
        if self.blocked:
            lines += ["", f"**Pruning blocked:** {md(self.blocked)}"]
        lines.append("")
        lines += markdown_table(
            ["instance", "region", "snapshot", "reason", "kept", "deleted", "freshness"],
            [
                (
                    i.instance_name,
                    i.region,
                    i.outcome.value,
                    i.reason,
                    i.kept,
                    i.deleted,
                    i.freshness,
                )
                for i in self.instances
            ],
        )
        if self.deletions:
            lines.append("")
            lines += markdown_table(
                ["pruned snapshot", "instance", "outcome", "reason"],
                [
                    [d.snapshot_name, d.instance_name, d.status.value, d.reason]
                    for d in self.deletions
                ],
            )
        if self.held:
            lines.append("")
            lines += markdown_table(
                ["held snapshot", "instance", "why"],
                [[h.snapshot_name, h.instance_name, h.reason] for h in self.held],
            )
        return "\n".join(lines + self.closing_lines(left_out=self.excluded))

    def artifact_key(self) -> str:
        """``nightly-snapshots-<policy>``."""
        return f"nightly-snapshots-{slug(self.policy_name, fallback='policy')}"

    def artifact_tables(self) -> list[ArtifactTable]:
        """Per instance always; the pruned snapshots when any."""
        tables = [
            self.table(
                "instances",
                self.instance_rows(),
                "Per instance: snapshot for this slot, kept, deleted, freshness",
            )
        ]
        if self.deletions:
            tables.append(
                self.table("pruned", self.deletion_rows(), "Snapshots pruned, with reasons")
            )
        return tables


def nightly_alerts(report: NightlyReport) -> tuple[list[Alert], list[AlertKey]]:
    """The alerts a run raises, and the alert keys whose condition it saw clear.

    * failed snapshots, one alert per region (``3 snapshots failed in CANADA-1``);
    * planned deletions that failed or were refused, one alert per region;
    * pruning blocked by ``max_deletions``: critical;
    * stale instances (freshness warning/critical), one alert each; an instance that is
      fresh again resolves its earlier staleness alert.
    """
    url = report.flow_run_url
    alerts: list[Alert] = []
    resolved: list[AlertKey] = []
    by_region: dict[str, list[InstanceOutcome]] = defaultdict(list)
    for item in report.failed_instances:
        by_region[item.region].append(item)
    for region, failed in sorted(by_region.items()):
        alerts.append(
            Alert(
                kind=AlertKind.SNAPSHOT_FAILED,
                severity=Severity.CRITICAL if len(failed) > 1 else Severity.WARNING,
                subject=Subject.for_region(region),
                title=f"{len(failed)} snapshot{'s' if len(failed) > 1 else ''} failed in {region}",
                facts={
                    "instances": [f"{i.instance_name}: {i.reason}" for i in failed],
                    "slot": report.slot,
                    "policy": report.policy_name,
                    "pruning": "suspended for these instances (old snapshots kept)",
                },
                flow_run_url=url,
            )
        )
    deletion_failures: dict[str, list[DeletionOutcome]] = defaultdict(list)
    for deletion in report.failed_deletions:
        deletion_failures[deletion.region].append(deletion)
    for region, items in sorted(deletion_failures.items()):
        alerts.append(
            Alert(
                kind=AlertKind.GENERIC,
                severity=Severity.WARNING,
                subject=Subject.for_region(region),
                title=f"{len(items)} snapshot deletion(s) failed in {region}",
                facts={"snapshots": [f"{d.snapshot_name}: {d.reason}" for d in items]},
                flow_run_url=url,
            )
        )
    if report.blocked:
        alerts.append(
            Alert(
                kind=AlertKind.RETENTION_BLOCKED,
                severity=Severity.CRITICAL,
                subject=Subject.for_flow(f"nightly-snapshots:{report.policy_name}"),
                title=f"Snapshot pruning blocked for policy {report.policy_name}",
                facts={
                    "reason": report.blocked,
                    "what_to_do": "check the retention policy and the snapshots, then raise "
                    "max_deletions for one run if the deletions are intended",
                },
                flow_run_url=url,
            )
        )
    for item in report.instances:
        subject = Subject.for_instance(
            item.instance_id, name=item.instance_name, region=item.region
        )
        if item.freshness in ("warning", "critical"):
            alerts.append(
                Alert(
                    kind=AlertKind.SNAPSHOT_STALE,
                    severity=Severity(item.freshness),
                    subject=subject,
                    title=f"Snapshots of {item.instance_name} are stale",
                    facts={"freshness": item.freshness_message, "region": item.region},
                    flow_run_url=url,
                )
            )
        elif item.freshness == "ok" and not report.dry_run:
            resolved.append(AlertKey(kind=AlertKind.SNAPSHOT_STALE, subject=subject))
    return alerts, resolved
