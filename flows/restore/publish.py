"""Publishing restore and drill reports as Prefect artifacts."""

from __future__ import annotations

from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact

from flows.restore.drill_report import DrillReport
from flows.restore.report import RestoreReport

__all__ = ["DRILL_HISTORY_KEY", "artifact_slug", "publish_drill", "publish_restore"]

DRILL_HISTORY_KEY = "restore-drill-history"
"""One key for every drill run's history table: its versions are the drill history."""


def artifact_slug(text: str) -> str:
    """Lowercase letters, digits and dashes only (Prefect's artifact key rule)."""
    slug = "".join(c if c.isalnum() else "-" for c in text.lower())
    return "-".join(part for part in slug.split("-") if part) or "source"


async def publish_restore(report: RestoreReport) -> None:
    """The restore's Markdown summary and its candidate table (and, for a drill, a history row)."""
    key = f"restore-to-region-{artifact_slug(report.source_label)}"
    await acreate_markdown_artifact(
        markdown=report.markdown(), key=key, description=report.summary_line()
    )
    if report.candidates:
        await acreate_table_artifact(
            table=report.candidate_rows(),
            key=f"{key}-candidates",
            description="Every candidate region with its verdict and reason",
        )
    if report.mode == "drill":
        single = DrillReport(
            evaluated_at=report.evaluated_at,
            dry_run=report.dry_run,
            targets=report.targets,
            drills=[report],
        )
        await acreate_table_artifact(
            table=single.history_rows(),
            key=DRILL_HISTORY_KEY,
            description="Restore drill: restore times per instance",
        )


async def publish_drill(report: DrillReport) -> None:
    """The drill run's Markdown summary and its history table."""
    await acreate_markdown_artifact(
        markdown=report.markdown(), key="restore-drill", description=report.summary_line()
    )
    await acreate_table_artifact(
        table=report.history_rows(),
        key=DRILL_HISTORY_KEY,
        description="Restore drill: restore times per instance",
    )
