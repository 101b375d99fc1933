"""``barrack-ops plan retention``: what pruning would do now, for people and for scripts.

A plain function with typer options; the CLI registers it with
``plan_app.command("retention")(plan_retention)``. The plan comes from the same function
the nightly run plans with (``flows/nightly_snapshots/records.py``: ``plan_retention``),
so it is the plan a run at the same moment would carry out.

For people: a summary per instance first, then one line per snapshot, every name in
full at any terminal width and when piped (plain aligned text, never cut); a deletion
that ``max_deletions`` blocks reads ``delete (blocked: max_deletions)``. For scripts:
``--json``.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from barrack import BarrackError
from barrack_ops.params_file import ParamsFileError, load_params
from barrack_ops.runner import describe_contact_error, fail

if TYPE_CHECKING:
    from flows.nightly_snapshots.cost import RetentionCost
    from flows.nightly_snapshots.records import RetentionPlanning
    from flows.nightly_snapshots.retention import RetentionDecision

__all__ = ["Only", "SnapshotRow", "plan_retention", "render_text", "snapshot_rows"]

BLOCKED_ACTION = "delete (blocked: max_deletions)"


class Only(StrEnum):
    """``--only``: which snapshot lines to show."""

    DELETE = "delete"
    KEEP = "keep"
    BLOCKED = "blocked"
    HELD = "held"


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    """One snapshot's line of the plan."""

    instance_id: str
    instance: str
    snapshot_id: str
    snapshot: str
    created: str
    action: str
    blocked: bool
    held: bool
    reasons: tuple[str, ...]

    def shown(self, only: Only | None) -> bool:
        """Whether ``--only`` lets this line through (blocked deletions are deletions)."""
        if only is None:
            return True
        if only is Only.DELETE:
            return self.action.startswith("delete")
        if only is Only.KEEP:
            return self.action == "keep"
        if only is Only.BLOCKED:
            return self.blocked
        return self.held


def _row(decision: RetentionDecision) -> SnapshotRow:
    snap = decision.snapshot
    blocked = tuple(r for r in decision.reasons if r.startswith("blocked"))
    return SnapshotRow(
        instance_id=snap.instance_id,
        instance=snap.instance_name or snap.instance_id,
        snapshot_id=snap.id,
        snapshot=snap.name,
        created=f"{snap.created_at:%Y-%m-%d %H:%M}",
        action=BLOCKED_ACTION if blocked else decision.action.value,
        blocked=bool(blocked),
        held=bool(decision.holds),
        # The block is the action's qualifier; the reasons say what the rules wanted.
        reasons=tuple(r for r in decision.reasons if not r.startswith("blocked")),
    )


def snapshot_rows(
    planning: RetentionPlanning, instances: Sequence[str] = (), only: Only | None = None
) -> list[SnapshotRow]:
    """The plan's lines, filtered by instance name or id (globs) and ``--only``."""
    rows = [_row(d) for d in planning.plan.decisions]
    if instances:
        rows = [
            r
            for r in rows
            if any(fnmatch.fnmatchcase(r.instance, g) or r.instance_id == g for g in instances)
        ]
    return [r for r in rows if r.shown(only)]


def _table(header: Sequence[str], lines: Sequence[Sequence[str]]) -> list[str]:
    """Plain aligned columns; the last is never padded, nothing is ever cut."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines, strict=True)]
    return [
        "  ".join(
            [str(c).ljust(w) for c, w in zip(row[:-1], widths[:-1], strict=True)] + [str(row[-1])]
        ).rstrip()
        for row in [header, *lines]
    ]


def render_text(
    planning: RetentionPlanning,
    rows: Sequence[SnapshotRow],
    *,
    policy: str,
    cost: RetentionCost | None,
) -> list[str]:
    """The plan for people: summary per instance, totals, cost, then each snapshot."""
    plan = planning.plan
    shown_ids = {r.instance_id for r in rows}
    summary = []
    for instance in plan.instances:
        if rows and instance.instance_id not in shown_ids:
            continue
        blocked = sum(any(r.startswith("blocked") for r in d.reasons) for d in instance.keeps)
        note = planning.suspended.get(instance.instance_id)
        verdict = planning.verdicts.get(instance.instance_id)
        summary.append(
            [
                instance.instance_name or instance.instance_id,
                str(len(instance.decisions)),
                str(instance.keep_count - blocked),
                str(instance.delete_count + blocked),
                str(blocked) if blocked else "",
                verdict.level.value if verdict is not None else "",
                f"pruning suspended: {note}" if note else "",
            ]
        )
    out = [f"Retention plan: {policy}", ""]
    out += _table(
        ["instance", "snapshots", "keep", "delete", "blocked", "freshness", "note"], summary
    )
    blocked_total = sum(r.blocked for r in (_row(d) for d in plan.decisions))
    total = (
        f"{plan.delete_count + blocked_total} to delete, {plan.keep_count - blocked_total} to keep"
    )
    if plan.blocked:
        total += f"; nothing will be deleted: {plan.blocked}"
    out += ["", total]
    if cost is not None:
        out.append(cost.line(dry_run=True))
    else:
        out.append("retention cost: unknown (the price list has no snapshot rate)")
    out.append("")
    if rows:
        out += _table(
            ["instance", "snapshot", "created (UTC)", "action", "reasons"],
            [[r.instance, r.snapshot, r.created, r.action, "; ".join(r.reasons)] for r in rows],
        )
    else:
        out.append("no snapshot matches the filters")
    return out


def render_json(
    planning: RetentionPlanning,
    rows: Sequence[SnapshotRow],
    *,
    policy: str,
    cost: RetentionCost | None,
) -> dict[str, Any]:
    """The plan for scripts (the same filters apply to ``snapshots``)."""
    plan = planning.plan
    return {
        "policy": policy,
        "blocked": plan.blocked,
        "max_deletions": plan.max_deletions,
        "requested_deletions": plan.requested_deletions,
        "instances": [
            {
                "id": i.instance_id,
                "name": i.instance_name,
                "region": i.region,
                "snapshots": len(i.decisions),
                "keep": i.keep_count,
                "delete": i.delete_count,
                "freshness": (
                    planning.verdicts[i.instance_id].level.value
                    if i.instance_id in planning.verdicts
                    else None
                ),
                "pruning_suspended": planning.suspended.get(i.instance_id),
            }
            for i in plan.instances
        ],
        "snapshots": [
            {
                "instance_id": r.instance_id,
                "instance": r.instance,
                "id": r.snapshot_id,
                "name": r.snapshot,
                "created_at": r.created,
                "action": "delete" if r.blocked else r.action,
                "blocked": r.blocked,
                "held": r.held,
                "reasons": list(r.reasons),
            }
            for r in rows
        ],
        "cost": None
        if cost is None
        else {
            "currency": cost.currency,
            "kept": cost.kept,
            "pruned": cost.pruned,
            "per_day": str(cost.per_day),
            "per_month": str(cost.per_month),
            "saved_per_month": str(cost.saved_per_month),
        },
    }


def plan_retention(
    params: Annotated[
        Path | None,
        typer.Option("--params", "-p", help="YAML or JSON file of recipe parameters."),
    ] = None,
    instance: Annotated[
        list[str] | None,
        typer.Option("--instance", "-i", help="Only this instance (name, glob or id; repeat it)."),
    ] = None,
    only: Annotated[
        Only | None,
        typer.Option("--only", help="Only these snapshot lines: delete, keep, blocked, held."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the plan as JSON, for scripts.")
    ] = False,
) -> None:
    """Show what pruning would do now: a summary per instance, then keep or delete and why
    for every snapshot. Read-only; exit 2 when it cannot get the plan."""
    from flows.nightly_snapshots.params import NightlySnapshotsParams
    from flows.nightly_snapshots.preview import preview_planning, price_plan
    from tasks.connection import resolve_settings

    try:
        parsed = load_params(NightlySnapshotsParams, params)
    except ParamsFileError as exc:
        raise fail(str(exc)) from None
    try:
        settings = asyncio.run(resolve_settings(parsed.connection))
        settings.require_api_key()
    except BarrackError as exc:
        raise fail(str(exc)) from None

    async def compute() -> tuple[RetentionPlanning, RetentionCost | None]:
        from barrack import AsyncBarrack

        async with AsyncBarrack(settings=settings) as client:
            planning = await preview_planning(client, parsed)
            return planning, await price_plan(client, planning.plan)

    try:
        planning, cost = asyncio.run(compute())
    except BarrackError as exc:
        raise fail(describe_contact_error(exc, str(settings.base_url))) from None
    rows = snapshot_rows(planning, instance or (), only)
    policy = parsed.retention_policy().describe()
    if as_json:
        typer.echo(json.dumps(render_json(planning, rows, policy=policy, cost=cost), indent=2))
    else:
        typer.echo("\n".join(render_text(planning, rows, policy=policy, cost=cost)))
