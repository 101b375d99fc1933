"""The report base every recipe shares: Markdown with user text escaped, closing lines."""

from __future__ import annotations

from decimal import Decimal

from flows.common.report import ArtifactTable, RecipeReport, markdown_table, md


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
