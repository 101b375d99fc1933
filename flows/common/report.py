"""What every recipe's report shares: ok, one summary line, the alerts raised, Markdown
and tables, and publishing them as Prefect artifacts.

A recipe's report subclasses :class:`RecipeReport` and keeps only its own rows and
alerts: it says what its summary line, Markdown body and tables are; this module
publishes them (:func:`publish_report`) and writes the lines every report ends with.
User text (instance names, reasons, error messages) reaches Markdown only through
:func:`markdown_table` and :func:`md`, which escape it with
:func:`notifications.text.escape_markdown`, so a ``|`` in a name cannot break a table
and a ``*`` cannot turn a reason bold.

Example:
    >>> markdown_table(["instance", "reason"], [["gpu_1", "a | b"]])
    ['| instance | reason |', '|---|---|', '| gpu\\\\_1 | a \\\\| b |']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from notifications.text import escape_markdown

__all__ = ["ArtifactTable", "RecipeReport", "markdown_table", "md"]


def md(text: object) -> str:
    """User text as literal inline Markdown (see :func:`notifications.text.escape_markdown`)."""
    return escape_markdown(text)


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """A Markdown table, one string per line; every cell is escaped."""
    lines = [_table_line(headers), "|" + "---|" * len(headers)]
    lines += [_table_line(row) for row in rows]
    return lines


def _table_line(cells: Sequence[object]) -> str:
    return "| " + " | ".join(md(cell) for cell in cells) + " |"


@dataclass(frozen=True)
class ArtifactTable:
    """A table artifact: its full key (lowercase letters, digits, dashes), rows, description."""

    key: str
    rows: list[dict[str, Any]]
    description: str


class RecipeReport(BaseModel):
    """The base of a recipe run's report.

    Subclasses implement :attr:`ok`, :meth:`summary_line`, :meth:`markdown`,
    :meth:`artifact_key` and :meth:`artifact_tables`; the notify path
    (:func:`flows.common.alerting.notify_report`) fills :attr:`alerts` and
    :attr:`notifications`.
    """

    model_config = ConfigDict(extra="forbid")

    flow_run_url: str | None = None
    alerts: list[str] = Field(default_factory=list, description="Alerts this run raised.")
    notifications: str | None = Field(
        default=None, description="What the notifier did (destinations masked)."
    )

    @property
    def ok(self) -> bool:
        """True when the run did what it was asked without a failure."""
        raise NotImplementedError

    def summary_line(self) -> str:
        """The run in one line (the log line and the artifact's description)."""
        raise NotImplementedError

    def markdown(self) -> str:
        """A Markdown summary for the Prefect UI and the command line."""
        raise NotImplementedError

    def artifact_key(self) -> str:
        """The Markdown artifact's key; table keys usually extend it."""
        raise NotImplementedError

    def artifact_tables(self) -> list[ArtifactTable]:
        """The table artifacts this run publishes besides the Markdown summary."""
        return []

    def table(self, suffix: str, rows: list[dict[str, Any]], description: str) -> ArtifactTable:
        """A table artifact keyed ``<artifact_key>-<suffix>``."""
        return ArtifactTable(f"{self.artifact_key()}-{suffix}", rows, description)

    def closing_lines(self, *, left_out: Sequence[str] = ()) -> list[str]:
        """The Markdown lines every report ends with: what the selection left out ('name:
        reason' lines), alerts raised, what the notifier did."""
        lines: list[str] = []
        if left_out:
            lines += ["", "Left out: " + md("; ".join(left_out))]
        if self.alerts:
            lines += ["", "Alerts: " + md("; ".join(self.alerts))]
        if self.notifications:
            lines += ["", f"Notifications: {md(self.notifications)}"]
        return lines
