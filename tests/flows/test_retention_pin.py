"""Pinned snapshots: the pin marker keeps a snapshot from every policy, whatever happens."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from flows.nightly_snapshots.retention import (
    PRESETS,
    REASON_NOT_OWNED,
    InstancePlan,
    RetentionAction,
    RetentionPolicy,
    SnapshotRecord,
    plan_fleet,
    plan_instance,
)

MARKER = "managed-by=barrack-ops policy=daily slot=2026-10-01T02:00Z"


def at(when: str) -> datetime:
    return datetime.fromisoformat(when).replace(tzinfo=ZoneInfo("UTC"))


def snap(
    sid: str, created_at: datetime, *, description: str = MARKER, owned: bool = True
) -> SnapshotRecord:
    return SnapshotRecord(
        id=sid,
        name=f"auto-a-{sid}",
        instance_id="i-1",
        instance_name="a",
        region="NORWAY-1",
        status="SUCCESS",
        created_at=created_at,
        owned=owned,
        backs_image=False,
        description=description,
    )


def reasons(plan: InstancePlan, sid: str) -> tuple[str, ...]:
    return next(d.reasons for d in plan.decisions if d.snapshot.id == sid)


def action(plan: InstancePlan, sid: str) -> RetentionAction:
    return next(d.action for d in plan.decisions if d.snapshot.id == sid)


# Daily for 60 days from 1 October 2026; the oldest is pinned ("before the upgrade").
HISTORY = [snap(f"d{n:02d}", at("2026-10-01 02:00") + timedelta(days=n)) for n in range(1, 60)] + [
    snap("pinned", at("2026-10-01 02:00"), description=f"{MARKER} before the upgrade [keep]")
]

POLICIES = [
    *({"preset": name} for name in PRESETS),
    {"keep_last": 1},
    {"keep_hourly": 1},
    {"keep_daily": 1},
    {"keep_weekly": 1},
    {"keep_monthly": 1},
    {"keep_yearly": 1},
    {"keep_within": "1d"},
    {"keep_within_daily": "2d"},
    {"keep_within_hourly": "1h"},
]


def policy_from(rules: dict[str, object]) -> RetentionPolicy:
    if "preset" in rules:
        return RetentionPolicy.from_preset(str(rules["preset"]))
    return RetentionPolicy.model_validate(rules)


@pytest.mark.parametrize("rules", POLICIES, ids=lambda rules: ",".join(map(str, rules.values())))
def test_a_pinned_snapshot_survives_every_policy(rules: dict[str, object]) -> None:
    plan = plan_instance(HISTORY, policy_from(rules))

    assert action(plan, "pinned") is RetentionAction.KEEP
    assert reasons(plan, "pinned")[0] == "pinned ([keep])"
    assert plan.delete_count > 0, "the policy deletes others around it"


def test_a_pin_in_the_name_counts_too() -> None:
    by_name = replace(HISTORY[-1], name="auto-a-20261001-0200-[keep]", description=MARKER)
    plan = plan_instance([*HISTORY[:-1], by_name], RetentionPolicy(keep_last=1))

    assert reasons(plan, "pinned") == ("pinned ([keep])",)


def test_a_pin_survives_a_max_deletions_block() -> None:
    plan = plan_fleet(HISTORY, RetentionPolicy(keep_last=1), max_deletions=3)

    assert plan.blocked is not None
    (decision,) = [d for d in plan.decisions if d.snapshot.id == "pinned"]
    assert decision.action is RetentionAction.KEEP
    assert decision.holds == ("pinned ([keep])",)
    assert not any(r.startswith("blocked") for r in decision.reasons), "never a deletion"


def test_a_pin_survives_both_policies_of_a_two_policy_instance() -> None:
    weekly_marker = "managed-by=barrack-ops policy=weekly slot=2026-10-04T02:00Z"
    weekly = [
        snap(f"w{n}", at("2026-10-04 02:00") + timedelta(weeks=n), description=weekly_marker)
        for n in range(8)
    ]
    daily_view = [*HISTORY, *(replace(w, owned=False) for w in weekly)]
    weekly_view = [replace(s, owned=False) for s in HISTORY] + weekly

    for view, policy in (
        (daily_view, RetentionPolicy(keep_daily=3)),
        (weekly_view, RetentionPolicy(keep_weekly=2)),
    ):
        plan = plan_instance(view, policy)
        assert action(plan, "pinned") is RetentionAction.KEEP
        assert "pinned ([keep])" in reasons(plan, "pinned")
    assert REASON_NOT_OWNED in reasons(
        plan_instance(weekly_view, RetentionPolicy(keep_weekly=2)), "pinned"
    )


def test_a_pinned_snapshot_still_counts_in_its_bucket() -> None:
    records = [
        snap("d3", at("2026-11-03 02:00")),
        snap("d2-pinned", at("2026-11-02 14:00"), description=f"{MARKER} [keep]"),
        snap("d2-early", at("2026-11-02 02:00")),
        snap("d1", at("2026-11-01 02:00")),
    ]
    plan = plan_instance(records, RetentionPolicy(keep_daily=2))

    assert reasons(plan, "d2-pinned") == ("pinned ([keep])", "daily bucket 2026-11-02 (2/2)")
    assert {d.snapshot.id for d in plan.deletions} == {"d2-early", "d1"}


def test_the_policy_chooses_the_marker() -> None:
    records = [
        snap("new", at("2026-11-03 02:00")),
        snap("hold", at("2026-11-02 02:00"), description=f"{MARKER} #hold"),
        snap("keep", at("2026-11-01 02:00"), description=f"{MARKER} [keep]"),
        snap("upper", at("2026-10-31 02:00"), description=f"{MARKER} #HOLD"),
    ]
    plan = plan_instance(records, RetentionPolicy(keep_last=1, pin_marker="#hold"))

    assert {d.snapshot.id for d in plan.deletions} == {"keep", "upper"}
    assert reasons(plan, "hold") == ("pinned (#hold)",)


@pytest.mark.parametrize(
    ("marker", "problem"),
    [
        ("", "must not be empty"),
        ("  ", "must not be empty"),
        (" [keep]", "must not start or end with blanks"),
        ("x" * 41, "at most 40 characters"),
        ("managed-by=me", "must not look like an ownership marker"),
    ],
)
def test_a_bad_pin_marker_is_refused_naming_the_field(marker: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem) as caught:
        RetentionPolicy(keep_last=1, pin_marker=marker)
    assert caught.value.errors()[0]["loc"] == ("pin_marker",)
