"""The benchmark's figures: one row per measured run, printed as a Markdown table."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["Row", "render_routes", "render_table"]


@dataclass(frozen=True, slots=True)
class Row:
    """The figures of one measured run."""

    recipe: str
    instances: int
    wall_s: float
    floor_s: float
    calls: int
    calls_needed: int
    rate_limited: int
    task_runs: int
    peak_rss_mb: float
    flow_cpu_s: float
    server_cpu_s: float | None
    simulator_cpu_s: float
    load: float
    ok: bool
    summary: str
    routes: Counter[str] = field(default_factory=Counter)
    spans: dict[str, tuple[float, float]] = field(default_factory=dict)
    floor_calls: dict[str, int] = field(default_factory=dict)
    floor_waits: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def ratio(self) -> float:
        """Wall time over the floor."""
        return self.wall_s / self.floor_s if self.floor_s > 0 else float("inf")

    @property
    def calls_per_instance(self) -> float:
        """API calls per instance of the fleet."""
        return self.calls / self.instances if self.instances else 0.0


_HEADERS = (
    "recipe", "N", "wall s", "floor s", "wall/floor", "API calls", "calls/inst", "429s",
    "task runs", "peak MB", "flow CPU s", "server CPU s", "sim CPU s", "load", "ok",
)  # fmt: skip


def render_table(rows: list[Row]) -> str:
    """The rows as a Markdown table (aligned, so it reads in a terminal too)."""
    cells = [list(_HEADERS)] + [
        [
            row.recipe,
            f"{row.instances:,}",
            f"{row.wall_s:.1f}",
            f"{row.floor_s:.1f}",
            f"{row.ratio:.2f}",
            f"{row.calls:,}",
            f"{row.calls_per_instance:.2f}",
            f"{row.rate_limited:,}",
            f"{row.task_runs:,}",
            f"{row.peak_rss_mb:.0f}",
            f"{row.flow_cpu_s:.1f}",
            "-" if row.server_cpu_s is None else f"{row.server_cpu_s:.1f}",
            f"{row.simulator_cpu_s:.1f}",
            f"{row.load:.1f}",
            "yes" if row.ok else "NO",
        ]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(_HEADERS))]
    lines = [
        "| "
        + " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        + " |"
        for line in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def render_routes(row: Row) -> str:
    """A run's API calls by route, most first, each with when it was first and last seen
    (real seconds after the run's first call)."""
    needed = ", ".join(f"{what} {count:,}" for what, count in row.floor_calls.items())
    lines = [
        f"{row.recipe}, N={row.instances:,}: {row.summary}",
        f"    {row.calls:,} calls; the floor counts {row.calls_needed:,}: {needed}",
    ]
    if row.floor_waits:
        waits = ", ".join(f"{what} {seconds:.1f} s" for what, seconds in row.floor_waits.items())
        lines.append(f"    and waits for {waits}")
    for route, count in row.routes.most_common():
        first, last = row.spans.get(route, (0.0, 0.0))
        lines.append(f"    {count:>7,}  {route:<44} {first:7.1f} s - {last:7.1f} s")
    if row.note:
        lines.append(f"    note: {row.note}")
    return "\n".join(lines)
