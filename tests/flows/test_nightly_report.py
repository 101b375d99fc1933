"""The nightly report: summary, tables and the alerts it raises (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from flows.nightly_snapshots.report import (
    DeletionOutcome,
    DeletionStatus,
    InstanceOutcome,
    NightlyReport,
    SnapshotStatusOutcome,
    nightly_alerts,
)
from notifications import AlertKind, Severity

SLOT = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def outcome(name: str, region: str, result: SnapshotStatusOutcome, **kw: object) -> InstanceOutcome:
    return InstanceOutcome(
        instance_id=f"BRK-{name.upper():0<7}"[:11],
        instance_name=name,
        region=region,
        status="ACTIVE",
        outcome=result,
        **kw,  # type: ignore[arg-type]
    )


def report(**kw: object) -> NightlyReport:
    base: dict[str, object] = {
        "policy_name": "nightly",
        "slot": SLOT,
        "evaluated_at": SLOT,
        "dry_run": False,
        "retention": "daily 7",
        "selection": "names *",
    }
    base.update(kw)
    return NightlyReport(**base)  # type: ignore[arg-type]


def test_failed_snapshots_are_grouped_by_region() -> None:
    r = report(
        instances=[
            outcome("a", "CANADA-1", SnapshotStatusOutcome.FAILED, reason="ERROR"),
            outcome("b", "CANADA-1", SnapshotStatusOutcome.FAILED, reason="timeout"),
            outcome("c", "CANADA-1", SnapshotStatusOutcome.FAILED, reason="ERROR"),
            outcome("d", "US-1", SnapshotStatusOutcome.FAILED, reason="ERROR"),
            outcome("e", "US-1", SnapshotStatusOutcome.CREATED),
        ]
    )
    alerts, _ = nightly_alerts(r)
    failed = [a for a in alerts if a.kind is AlertKind.SNAPSHOT_FAILED]
    assert [a.title for a in failed] == [
        "3 snapshots failed in CANADA-1",
        "1 snapshot failed in US-1",
    ]
    assert failed[0].severity is Severity.CRITICAL
    assert failed[1].severity is Severity.WARNING
    assert not r.ok


def test_blocked_pruning_is_critical() -> None:
    r = report(blocked="blocked: 80 deletions exceed max_deletions=50")
    alerts, _ = nightly_alerts(r)
    assert [(a.kind, a.severity) for a in alerts] == [
        (AlertKind.RETENTION_BLOCKED, Severity.CRITICAL)
    ]
    assert "80 deletions" in str(alerts[0].facts["reason"])


def test_stale_alerts_and_resolutions() -> None:
    r = report(
        instances=[
            outcome(
                "old",
                "US-1",
                SnapshotStatusOutcome.SKIPPED,
                freshness="critical",
                freshness_message="no SUCCESS snapshot at all",
            ),
            outcome("late", "US-1", SnapshotStatusOutcome.CREATED, freshness="warning"),
            outcome("fine", "US-1", SnapshotStatusOutcome.CREATED, freshness="ok"),
        ]
    )
    alerts, cleared = nightly_alerts(r)
    stale = {a.subject.name: a.severity for a in alerts if a.kind is AlertKind.SNAPSHOT_STALE}
    assert stale == {"old": Severity.CRITICAL, "late": Severity.WARNING}
    assert [k.subject.name for k in cleared] == ["fine"]


def test_dry_run_resolves_nothing() -> None:
    r = report(dry_run=True, instances=[outcome("fine", "US-1", SnapshotStatusOutcome.EXISTS)])
    assert nightly_alerts(r) == ([], [])


def test_failed_deletions_alert_and_count() -> None:
    deletion = DeletionOutcome(
        snapshot_id="s1",
        snapshot_name="auto-a-20261101-0200",
        instance_id="BRK-A",
        instance_name="a",
        region="NORWAY-1",
        created_at=SLOT,
        status=DeletionStatus.REFUSED,
        reason="409 INVALID_STATE: backs image img-1",
    )
    r = report(deletions=[deletion])
    alerts, _ = nightly_alerts(r)
    assert alerts[0].title == "1 snapshot deletion(s) failed in NORWAY-1"
    assert r.failed_deletions == [deletion]
    assert not r.ok


def test_summary_and_tables() -> None:
    deletion = DeletionOutcome(
        snapshot_id="s1",
        snapshot_name="auto-a-20261101-0200",
        instance_id="BRK-A",
        instance_name="a",
        region="US-1",
        created_at=SLOT,
        status=DeletionStatus.DELETED,
        reason="no rule keeps it",
    )
    r = report(
        instances=[
            outcome("a", "US-1", SnapshotStatusOutcome.CREATED, kept=7, deleted=1),
            outcome("b", "US-1", SnapshotStatusOutcome.SKIPPED, reason="not ACTIVE (SHUTOFF)"),
        ],
        deletions=[deletion],
    )
    assert r.summary_line() == (
        "slot 2026-11-27 02:00Z: 1 snapshot(s) taken, 0 already there, 1 skipped, "
        "0 failed; pruned 1, kept 7"
    )
    assert r.ok
    assert r.instance_rows()[1]["reason"] == "not ACTIVE (SHUTOFF)"
    assert r.deletion_rows()[0]["outcome"] == "deleted"
    text = r.markdown()
    assert "auto-a-20261101-0200" in text
    assert "no rule keeps it" in text


def test_markdown_keeps_a_pipe_in_a_name_inside_its_cell() -> None:
    failed = outcome(
        "train|gpu_1", "US-1", SnapshotStatusOutcome.FAILED, reason="create failed: *quota*"
    )
    r = report(instances=[failed])
    row = next(line for line in r.markdown().splitlines() if "train" in line)
    assert row == r"| train\|gpu\_1 | US-1 | failed | create failed: \*quota\* | 0 | 0 | ok |"
    assert r.artifact_key() == "nightly-snapshots-nightly"
    assert [t.key for t in r.artifact_tables()] == ["nightly-snapshots-nightly-instances"]
