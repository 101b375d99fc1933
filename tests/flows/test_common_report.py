"""The report base every recipe shares: Markdown with user text escaped, closing lines."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from flows.common.report import ArtifactTable, RecipeReport, markdown_table, md
from flows.hibernate_idle.report import HibernateReport, IdleInstanceOutcome
from flows.nightly_snapshots.report import InstanceOutcome, NightlyReport, SnapshotStatusOutcome

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


class _TinyReport(RecipeReport):
    name: str

    @property
    def ok(self) -> bool:
        return True

    def summary_line(self) -> str:
        return f"{self.name}: fine"

    def markdown(self) -> str:
        return "\n".join([f"# {md(self.name)}", *self.closing_lines()])

    def artifact_key(self) -> str:
        return "tiny"

    def artifact_tables(self) -> list[ArtifactTable]:
        return [ArtifactTable("tiny-rows", [{"name": self.name}], "rows")]


def test_a_table_escapes_every_cell_once() -> None:
    lines = markdown_table(
        ["instance", "reason"], [["gpu_box *1*", "a | b"], ["`x`", "[warning] full"]]
    )
    assert lines == [
        "| instance | reason |",
        "|---|---|",
        r"| gpu\_box \*1\* | a \| b |",
        r"| \`x\` | \[warning\] full |",
    ]


def test_numbers_and_none_free_cells_are_written_as_they_are() -> None:
    assert markdown_table(["n", "m"], [[3, Decimal("1.50")]])[-1] == "| 3 | 1.50 |"


def test_closing_lines_list_alerts_and_notifications_escaped() -> None:
    report = _TinyReport(
        name="a_b",
        alerts=["Snapshot of gpu_1 failed", "[critical] pruning blocked"],
        notifications="1 new; 1/1 deliveries ok",
    )
    assert report.markdown().splitlines() == [
        r"# a\_b",
        "",
        r"Alerts: Snapshot of gpu\_1 failed; \[critical\] pruning blocked",
        "",
        "Notifications: 1 new; 1/1 deliveries ok",
    ]


def test_no_alerts_no_closing_lines() -> None:
    assert _TinyReport(name="x").closing_lines() == []


def test_nightly_markdown_keeps_a_pipe_in_a_name_inside_its_cell() -> None:
    report = NightlyReport(
        policy_name="nightly",
        slot=NOW,
        evaluated_at=NOW,
        dry_run=False,
        retention="keep 7 daily",
        selection="label backup=nightly",
        instances=[
            InstanceOutcome(
                instance_id="BRK-1",
                instance_name="train|gpu_1",
                region="US-1",
                status="ACTIVE",
                outcome=SnapshotStatusOutcome.FAILED,
                reason="create failed: *quota* exceeded",
            )
        ],
    )
    row = next(line for line in report.markdown().splitlines() if "BRK" in line or "train" in line)
    assert (
        row == r"| train\|gpu\_1 | US-1 | failed | create failed: \*quota\* exceeded | 0 | 0 | ok |"
    )
    assert report.artifact_key() == "nightly-snapshots-nightly"
    assert [t.key for t in report.artifact_tables()] == ["nightly-snapshots-nightly-instances"]


def test_hibernate_savings_use_the_one_money_format() -> None:
    line = IdleInstanceOutcome(
        instance_id="BRK-2",
        instance_name="idle-box",
        region="US-1",
        status="ACTIVE",
        verdict="idle",
        action="hibernated",
        reason="idle 2h",
        saving_per_day=Decimal("1241.005"),
        currency="USD",
    )
    report = HibernateReport(
        policy_name="Idle GPUs",
        evaluated_at=NOW,
        dry_run=False,
        probe="prometheus",
        rules="below 5%",
        selection="all",
        instances=[line],
    )
    assert "(saves USD 1,241.00/day)" in report.summary_line()  # half-even: .005 -> .00
    assert report.artifact_key() == "hibernate-idle-idle-gpus"
