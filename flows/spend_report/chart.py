"""The daily spend chart: one bar per day, stacked by kind, as a PNG (matplotlib, Agg).

matplotlib is imported inside :func:`render_chart` with the non-interactive Agg backend
(no display, thread-safe enough for one figure per call, closed after saving), so
importing the recipe does not pay matplotlib's start-up.
"""

from __future__ import annotations

from pathlib import Path

from flows.spend_report.aggregate import Spend
from flows.spend_report.charges import KIND_LABELS, KINDS

__all__ = ["chart_totals", "render_chart"]

_COLOURS = {
    "gpu": "#3b6fb6",
    "hibernated": "#9bb7e0",
    "volumes": "#e2a33b",
    "snapshots": "#c0504d",
    "ai": "#6aa84f",
}


def chart_totals(spend: Spend) -> dict[str, float]:
    """What the chart draws per kind (the sum of its bars), for checking against the table."""
    return {
        kind: float(sum((spend.daily[day][kind] for day in spend.daily), start=0)) for kind in KINDS
    }


def render_chart(spend: Spend, currency: str, path: Path, *, title: str | None = None) -> Path:
    """Draw ``spend``'s days stacked by kind into ``path`` (PNG) and return it."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    days = sorted(spend.daily)
    labels = (
        [f"{day:%a}\n{day:%d %b}" for day in days]
        if len(days) <= 14
        else [f"{day:%d}" for day in days]
    )
    figure, axes = plt.subplots(figsize=(max(6.0, 0.55 * len(days) + 2), 4), dpi=100)
    try:
        bottom = [0.0] * len(days)
        for kind in KINDS:
            heights = [float(spend.daily[day][kind]) for day in days]
            if not any(heights):
                continue
            axes.bar(
                range(len(days)),
                heights,
                bottom=bottom,
                label=KIND_LABELS[kind],
                color=_COLOURS[kind],
                width=0.7,
            )
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        axes.set_xticks(range(len(days)), labels, fontsize=8)
        axes.set_ylabel(f"{currency} per day")
        axes.set_title(title or f"Daily spend {spend.period.label}", fontsize=11)
        axes.grid(axis="y", alpha=0.3)
        axes.set_axisbelow(True)
        if any(bottom):
            axes.legend(fontsize=8, loc="upper left", frameon=False)
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)
    return path
