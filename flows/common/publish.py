"""Publish a recipe's report as Prefect artifacts (the I/O half of ``flows.common.report``)."""

from __future__ import annotations

from typing import Protocol

from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact

from flows.common.report import ArtifactTable

__all__ = ["Publishable", "publish_report"]


class Publishable(Protocol):
    """What publishing needs of a report (:class:`flows.common.report.RecipeReport` has it)."""

    def markdown(self) -> str: ...

    def artifact_key(self) -> str: ...

    def summary_line(self) -> str: ...

    def artifact_tables(self) -> list[ArtifactTable]: ...


async def publish_report(report: Publishable) -> None:
    """Publish the report's Markdown summary and its tables as Prefect artifacts."""
    await acreate_markdown_artifact(
        markdown=report.markdown(), key=report.artifact_key(), description=report.summary_line()
    )
    for table in report.artifact_tables():
        await acreate_table_artifact(table=table.rows, key=table.key, description=table.description)
