"""What people read: the digest as Markdown, tables, a chat summary, an email, CSV and JSON.

Pure rendering of :class:`SpendReport`; money goes through the recipe's one formatter
(:func:`flows.spend_report.money.format_money`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flows.common.report import ArtifactTable
from flows.spend_report.aggregate import BalanceMoves, Spend
from flows.spend_report.anomaly import Anomaly, Baseline
from flows.spend_report.charges import KIND_LABELS, KINDS
from flows.spend_report.money import format_money
from flows.spend_report.waste import Waste
from notifications.text import slug

__all__ = ["SpendReport"]

CHAT_LINES = 6
"""Waste lines a chat summary names (the email has them all)."""


def _change(now: Decimal, before: Decimal) -> str:
    if not before:
        return "new" if now else "-"
    pct = (now - before) / before * 100
    return f"{pct:+.0f}%"


@dataclass
class SpendReport:
    """A spend report over one period, with the period before for comparison."""

    account_name: str
    currency: str
    now: datetime
    spend: Spend
    previous: Spend
    balance: BalanceMoves | None
    waste: Waste
    baseline: Baseline
    anomalies: list[Anomaly]
    incomplete: list[str] = field(default_factory=list)
    chart_path: Path | None = None
    chart_note: str | None = None
    dry_run: bool = False
    notifications: str | None = None
    flow_run_url: str | None = None

    def artifact_key(self) -> str:
        """``spend-report-<account slug>`` (Prefect keys: lowercase letters, digits, dashes)."""
        return f"spend-report-{slug(self.account_name, fallback='account')}"

    def artifact_tables(self) -> list[ArtifactTable]:
        """Spend by resource and by day, and the waste lines when there are any."""
        key = self.artifact_key()
        tables = [
            ArtifactTable(f"{key}-resources", self.instance_rows(), "Spend by resource"),
            ArtifactTable(f"{key}-daily", self.daily_rows(), "Spend by day and kind"),
        ]
        if self.waste.lines:
            tables.append(ArtifactTable(f"{key}-waste", self.waste_rows(), "Waste and what to do"))
        return tables

    def money(self, amount: Decimal) -> str:
        """An amount for people, in the account currency."""
        return format_money(amount, self.currency)

    # -- tables -----------------------------------------------------------------------

    def kind_rows(self) -> list[dict[str, str]]:
        """Spend per kind against the period before."""
        rows = [
            {
                "kind": KIND_LABELS[kind],
                "spent": self.money(self.spend.by_kind[kind]),
                "previous": self.money(self.previous.by_kind.get(kind, Decimal(0))),
                "change": _change(
                    self.spend.by_kind[kind], self.previous.by_kind.get(kind, Decimal(0))
                ),
            }
            for kind in KINDS
        ]
        rows.append(
            {
                "kind": "total",
                "spent": self.money(self.spend.total),
                "previous": self.money(self.previous.total),
                "change": _change(self.spend.total, self.previous.total),
            }
        )
        return rows

    def instance_rows(self) -> list[dict[str, str]]:
        """Spend per resource, largest first."""
        entries = sorted(self.spend.by_instance.values(), key=lambda e: (-e.total, e.name))
        return [
            {
                "resource": entry.name,
                "id": entry.key,
                "region": entry.region,
                "gpu_model": entry.gpu_model,
                "tier": entry.tier,
                **{kind: self.money(entry.by_kind.get(kind, Decimal(0))) for kind in KINDS},
                "total": self.money(entry.total),
            }
            for entry in entries
        ]

    def dimension_rows(self, name: str, table: dict[str, Decimal]) -> list[dict[str, str]]:
        """Spend per value of one dimension (region, GPU model, tier), largest first."""
        return [
            {name: key, "spent": self.money(amount)}
            for key, amount in sorted(table.items(), key=lambda kv: (-kv[1], kv[0]))
        ]

    def daily_rows(self) -> list[dict[str, str]]:
        """Spend per day and kind (what the chart draws)."""
        return [
            {
                "day": day.isoformat(),
                **{kind: self.money(kinds[kind]) for kind in KINDS},
                "total": self.money(sum(kinds.values(), Decimal(0))),
            }
            for day, kinds in sorted(self.spend.daily.items())
        ]

    def waste_rows(self) -> list[dict[str, str]]:
        """Waste lines with what to do."""
        return [
            {
                "finding": line.category,
                "resource": f"{line.name} ({line.resource_id})",
                "cost": self.money(line.cost),
                "monthly": self.money(line.monthly) if line.monthly is not None else "-",
                "why": line.detail,
                "what to do": line.action,
            }
            for line in self.waste.lines
        ]

    # -- text -------------------------------------------------------------------------

    def summary_line(self) -> str:
        """One line: the total, the change, the waste, the anomalies."""
        parts = [
            f"{self.account_name} {self.spend.period.label}: spent {self.money(self.spend.total)} "
            f"({_change(self.spend.total, self.previous.total)} on the period before)",
            f"waste {self.money(self.waste.total)} in {len(self.waste.lines)} finding(s)",
        ]
        if self.anomalies:
            parts.append(f"{len(self.anomalies)} anomalous day(s)")
        if self.incomplete:
            parts.append("INCOMPLETE")
        return "; ".join(parts)

    def chat_summary(self) -> str:
        """A Slack-length digest (a dozen lines)."""
        s = self.spend
        top = sorted(KINDS, key=lambda k: -s.by_kind[k])
        lines = [
            f"*{self.money(s.total)}* spent {s.period.label} "
            f"({_change(s.total, self.previous.total)} vs {self.money(self.previous.total)})",
            "By kind: "
            + ", ".join(
                f"{KIND_LABELS[k]} {self.money(s.by_kind[k])}" for k in top if s.by_kind[k]
            ),
        ]
        if self.balance is not None:
            lines.append(
                f"Balance {self.money(self.balance.opening)} -> {self.money(self.balance.closing)}"
                + (f" (top-ups {self.money(self.balance.top_ups)})" if self.balance.top_ups else "")
            )
        if self.waste.lines:
            lines.append(f"Waste: {self.money(self.waste.total)}")
            for line in self.waste.lines[:CHAT_LINES]:
                lines.append(f"- {line.name}: {self.money(line.cost)}, {line.detail}")
            if len(self.waste.lines) > CHAT_LINES:
                lines.append(f"- and {len(self.waste.lines) - CHAT_LINES} more (see the email)")
        if self.waste.hibernation_saved:
            lines.append(f"Hibernation saved {self.money(self.waste.hibernation_saved)}")
        for anomaly in self.anomalies:
            lines.append(
                f"Anomaly {anomaly.day}: {self.money(anomaly.spent)} "
                f"(baseline {self.money(anomaly.baseline.limit or Decimal(0))})"
            )
        if self.incomplete:
            lines.append("Incomplete: " + "; ".join(self.incomplete))
        if self.flow_run_url:
            lines.append(self.flow_run_url)
        return "\n".join(lines)

    def markdown(self) -> str:
        """The full report (the Prefect artifact and the email body)."""
        s = self.spend
        out = [f"# Spend {s.period.label} ({s.period.tz.key}): {self.account_name}", ""]
        if self.incomplete:
            out += [
                "**Incomplete:** " + "; ".join(self.incomplete) + " (totals are a lower bound).",
                "",
            ]
        out += [
            f"Spent **{self.money(s.total)}**; the {s.period.day_count} days before: "
            f"{self.money(self.previous.total)} ({_change(s.total, self.previous.total)}).",
            "",
        ]
        if self.balance is not None:
            b = self.balance
            out += [
                f"Balance at the start {self.money(b.opening)}, "
                f"at the end {self.money(b.closing)}; "
                f"top-ups {self.money(b.top_ups)}; billed {self.money(b.spent)}.",
                "",
            ]
        out += ["## By kind", "", *_table(self.kind_rows()), ""]
        out += ["## By day", "", *_table(self.daily_rows()), ""]
        if self.chart_path is not None:
            out += [f"Chart: `{self.chart_path.name}`", ""]
        elif self.chart_note:
            out += [f"Chart: {self.chart_note}", ""]
        out += ["## Waste", ""]
        if self.waste.lines:
            out += [f"Total {self.money(self.waste.total)}.", "", *_table(self.waste_rows()), ""]
        else:
            out += ["Nothing found.", ""]
        out += [
            f"Hibernation saved {self.money(self.waste.hibernation_saved)} "
            f"over {self.waste.hibernated_hours:.1f} hibernated instance-hours.",
            "",
            "## Anomalies",
            "",
            f"Baseline: {self.baseline.basis}.",
            "",
        ]
        for a in self.anomalies:
            who = ", ".join(f"{c.name} +{self.money(c.extra)}" for c in a.contributors) or "-"
            out.append(f"- {a.day}: {self.money(a.spent)}, {self.money(a.excess)} over; {who}")
        if not self.anomalies:
            out.append("None.")
        out += ["", "## By resource", "", *_table(self.instance_rows()), ""]
        out += ["## By region", "", *_table(self.dimension_rows("region", s.by_region)), ""]
        out += [
            "## By GPU model",
            "",
            *_table(self.dimension_rows("gpu_model", s.by_gpu_model)),
            "",
        ]
        out += ["## By tier", "", *_table(self.dimension_rows("tier", s.by_tier)), ""]
        if self.notifications:
            out += [f"Notifications: {self.notifications}", ""]
        return "\n".join(out)

    # -- machine-readable -------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """Exact amounts as strings (every digit), for ``--json``."""
        s = self.spend

        def amounts(table: dict[str, Decimal]) -> dict[str, str]:
            return {k: _exact(v) for k, v in table.items()}

        return {
            "account": self.account_name,
            "currency": self.currency,
            "period": {
                "first": s.period.first.isoformat(),
                "last": s.period.last.isoformat(),
                "timezone": s.period.tz.key,
                "start": s.period.start.isoformat(),
                "end": s.period.end.isoformat(),
            },
            "total": _exact(s.total),
            "previous_total": _exact(self.previous.total),
            "by_kind": amounts(s.by_kind),
            "by_region": amounts(s.by_region),
            "by_gpu_model": amounts(s.by_gpu_model),
            "by_tier": amounts(s.by_tier),
            "by_resource": {
                e.key: {
                    "name": e.name,
                    "region": e.region,
                    "gpu_model": e.gpu_model,
                    "tier": e.tier,
                    "total": _exact(e.total),
                    "by_kind": amounts(e.by_kind),
                }
                for e in s.by_instance.values()
            },
            "daily": {day.isoformat(): amounts(kinds) for day, kinds in sorted(s.daily.items())},
            "balance": None
            if self.balance is None
            else {
                "opening": _exact(self.balance.opening),
                "closing": _exact(self.balance.closing),
                "top_ups": _exact(self.balance.top_ups),
                "spent": _exact(self.balance.spent),
            },
            "waste": [
                {
                    "category": w.category,
                    "resource_id": w.resource_id,
                    "name": w.name,
                    "detail": w.detail,
                    "cost": _exact(w.cost),
                    "monthly": None if w.monthly is None else _exact(w.monthly),
                    "action": w.action,
                }
                for w in self.waste.lines
            ],
            "hibernation_saved": _exact(self.waste.hibernation_saved),
            "anomalies": [
                {
                    "day": a.day.isoformat(),
                    "spent": _exact(a.spent),
                    "limit": None if a.baseline.limit is None else _exact(a.baseline.limit),
                    "contributors": [
                        {"resource": c.name, "extra": _exact(c.extra)} for c in a.contributors
                    ],
                }
                for a in self.anomalies
            ],
            "baseline": self.baseline.basis,
            "incomplete": self.incomplete,
        }

    def to_csv(self) -> str:
        """One row per resource and kind, exact amounts."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(
            [
                "period",
                "resource_id",
                "resource",
                "region",
                "gpu_model",
                "tier",
                "kind",
                "amount",
                "currency",
            ]
        )
        for e in sorted(self.spend.by_instance.values(), key=lambda e: (-e.total, e.name)):
            for kind in KINDS:
                if kind in e.by_kind:
                    writer.writerow(
                        [
                            self.spend.period.label,
                            e.key,
                            e.name,
                            e.region,
                            e.gpu_model,
                            e.tier,
                            kind,
                            _exact(e.by_kind[kind]),
                            self.currency,
                        ]
                    )
        return buffer.getvalue()


def _exact(amount: Decimal) -> str:
    """Every digit, no trailing zeros, never an exponent (``50``, ``4.035``)."""
    text = f"{amount.normalize():f}"
    return "0" if text in {"-0", ""} else text


def _table(rows: list[dict[str, str]]) -> list[str]:
    if not rows:
        return ["(none)"]
    heads = list(rows[0])
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    lines += ["| " + " | ".join(str(r[h]).replace("|", "\\|") for h in heads) + " |" for r in rows]
    return lines
