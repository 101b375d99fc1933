"""The retention planner against hand-worked timelines, and every safety rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.nightly_snapshots.retention import (
    REASON_BACKS_IMAGE,
    REASON_NEWEST,
    REASON_NO_RULE,
    REASON_NOT_OWNED,
    InstancePlan,
    RetentionAction,
    RetentionPolicy,
    SnapshotRecord,
    plan_fleet,
    plan_instance,
)


def at(when: str, tz: str = "UTC") -> datetime:
    """A local time in ``tz``; a string with its own offset keeps it (for repeated hours)."""
    value = datetime.fromisoformat(when)
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(tz))


def snap(
    sid: str,
    created_at: datetime,
    *,
    owned: bool = True,
    status: str = "SUCCESS",
    backs_image: bool = False,
    instance: str = "i-1",
) -> SnapshotRecord:
    return SnapshotRecord(
        id=sid,
        name=f"auto-{instance}-{sid}",
        instance_id=instance,
        instance_name=f"name-{instance}",
        region="NORWAY-1",
        status=status,
        created_at=created_at,
        owned=owned,
        backs_image=backs_image,
    )


def kept(plan: InstancePlan) -> set[str]:
    return {d.snapshot.id for d in plan.keeps}


def deleted(plan: InstancePlan) -> set[str]:
    return {d.snapshot.id for d in plan.deletions}


def reasons(plan: InstancePlan, sid: str) -> tuple[str, ...]:
    return next(d.reasons for d in plan.decisions if d.snapshot.id == sid)


# --- daily buckets with irregular gaps ----------------------------------------------------

# Nightly at 02:00 UTC on 1-20 November, with the 15th and 17th missing and an extra
# afternoon snapshot on the 19th.
GAPPY_NOVEMBER = [
    snap(f"n{day:02d}", at(f"2026-11-{day:02d} 02:00"))
    for day in range(1, 21)
    if day not in (15, 17)
] + [snap("n19pm", at("2026-11-19 14:00"))]


def test_daily_counts_days_that_have_a_snapshot_and_keeps_the_newest_of_each() -> None:
    plan = plan_instance(GAPPY_NOVEMBER, RetentionPolicy(keep_daily=5))

    # The 5 latest days with snapshots are 20, 19, 18, 16, 14 (15 and 17 are skipped).
    assert kept(plan) == {"n20", "n19pm", "n18", "n16", "n14"}
    assert reasons(plan, "n20") == (REASON_NEWEST, "daily bucket 2026-11-20 (1/5)")
    assert reasons(plan, "n19pm") == ("daily bucket 2026-11-19 (2/5)",)
    assert reasons(plan, "n14") == ("daily bucket 2026-11-14 (5/5)",)
    # The morning snapshot of the 19th is not the newest of its day.
    assert reasons(plan, "n19") == (REASON_NO_RULE,)
    assert deleted(plan) == {s.id for s in GAPPY_NOVEMBER} - kept(plan)


def test_decisions_come_newest_first_with_ties_broken_by_id() -> None:
    same_time = at("2026-11-21 02:00")
    records = [*GAPPY_NOVEMBER, snap("tie-a", same_time), snap("tie-b", same_time)]
    plan = plan_instance(reversed(records), RetentionPolicy(keep_last=1))

    ids = [d.snapshot.id for d in plan.decisions]
    assert ids[:5] == ["tie-b", "tie-a", "n20", "n19pm", "n19"]
    assert ids[-1] == "n01"


# --- ISO week 53, month and year boundaries -------------------------------------------------

# Daily at 02:00 UTC from 2026-12-20 to 2027-01-06. 2026 has an ISO week 53 (Mon 28 Dec to
# Sun 3 Jan 2027), so 1-3 January 2027 belong to week-year 2026.
YEAR_END = [
    snap(day.strftime("%m-%d"), day)
    for day in (at("2026-12-20 02:00") + timedelta(days=n) for n in range(18))
]


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({"keep_weekly": 3}, {"01-06", "01-03", "12-27"}),
        ({"keep_weekly": 5}, {"01-06", "01-03", "12-27", "12-20"}),
        ({"keep_monthly": 2}, {"01-06", "12-31"}),
        ({"keep_yearly": 2}, {"01-06", "12-31"}),
        # Only two years have a snapshot, so the rule has counts left when it reaches
        # the oldest snapshot and keeps it too (restic 0.16+: "oldest").
        ({"keep_yearly": 5}, {"01-06", "12-31", "12-20"}),
        ({"keep_daily": 3}, {"01-06", "01-05", "01-04"}),
        (
            {"keep_weekly": 3, "keep_monthly": 2, "keep_yearly": 3},
            {"01-06", "01-03", "12-27", "12-31", "12-20"},
        ),
        ({"keep_last": 2, "keep_weekly": 2}, {"01-06", "01-05", "01-03"}),
    ],
)
def test_buckets_across_week_53_and_the_year_boundary(
    rules: dict[str, int], expected: set[str]
) -> None:
    plan = plan_instance(YEAR_END, RetentionPolicy.model_validate(rules))

    assert kept(plan) == expected


def test_week_53_is_labelled_with_its_week_year() -> None:
    policy = RetentionPolicy(keep_weekly=3, keep_monthly=2, keep_yearly=3)
    plan = plan_instance(YEAR_END, policy)

    assert reasons(plan, "01-06") == (
        REASON_NEWEST,
        "weekly bucket 2027-W01 (1/3)",
        "monthly bucket 2027-01 (1/2)",
        "yearly bucket 2027 (1/3)",
    )
    assert reasons(plan, "01-03") == ("weekly bucket 2026-W53 (2/3)",)
    assert reasons(plan, "12-31") == ("monthly bucket 2026-12 (2/2)", "yearly bucket 2026 (2/3)")


@pytest.mark.parametrize(
    ("timezone", "expected_kept", "expected_deleted"),
    [
        # 23:30 UTC on 30 November is still November in UTC...
        ("UTC", {"dec01", "nov30-late"}, {"nov15"}),
        # ...but already 00:30 on 1 December in Oslo, so December's newest wins there.
        ("Europe/Oslo", {"dec01", "nov15"}, {"nov30-late"}),
    ],
)
def test_month_buckets_follow_the_policy_timezone(
    timezone: str, expected_kept: set[str], expected_deleted: set[str]
) -> None:
    records = [
        snap("nov15", at("2026-11-15 02:00")),
        snap("nov30-late", at("2026-11-30 23:30")),
        snap("dec01", at("2026-12-01 12:00")),
    ]
    plan = plan_instance(records, RetentionPolicy(keep_monthly=2, timezone=timezone))

    assert (kept(plan), deleted(plan)) == (expected_kept, expected_deleted)


def test_yearly_buckets_across_new_year() -> None:
    records = [
        snap("2024-12-31", at("2024-12-31 02:00")),
        snap("2025-01-01", at("2025-01-01 02:00")),
        snap("2025-06-15", at("2025-06-15 02:00")),
        snap("2025-12-31", at("2025-12-31 02:00")),
        snap("2026-01-02", at("2026-01-02 02:00")),
    ]
    plan = plan_instance(records, RetentionPolicy(keep_yearly=3))

    assert kept(plan) == {"2026-01-02", "2025-12-31", "2024-12-31"}
    assert reasons(plan, "2024-12-31") == ("yearly bucket 2024 (3/3)",)


def test_unlimited_keeps_the_newest_of_every_bucket() -> None:
    records = [
        snap(day.strftime("%m-%d"), day)
        for day in (at("2026-01-01 02:00") + timedelta(days=n) for n in range(100))
    ]
    plan = plan_instance(records, RetentionPolicy(keep_monthly=-1))

    # An unlimited rule always has counts left, so the oldest is kept as well.
    assert kept(plan) == {"04-10", "03-31", "02-28", "01-31", "01-01"}
    assert reasons(plan, "01-31") == ("monthly bucket 2026-01 (4/unlimited)",)
    assert reasons(plan, "01-01") == ("oldest monthly: the rule has counts left (4/unlimited)",)


# --- daylight saving time in the policy zone ------------------------------------------------

# Nightly at 00:30 Oslo time around the change of 29 March 2026 (02:00 CET -> 03:00 CEST),
# plus one late-evening snapshot on the 29th.
OSLO_MARCH = [
    snap("m27", at("2026-03-27 00:30", "Europe/Oslo")),  # 26 Mar 23:30Z
    snap("m28", at("2026-03-28 00:30", "Europe/Oslo")),  # 27 Mar 23:30Z
    snap("m29", at("2026-03-29 00:30", "Europe/Oslo")),  # 28 Mar 23:30Z (still CET)
    snap("m29-late", at("2026-03-29 23:50", "Europe/Oslo")),  # 29 Mar 21:50Z (CEST)
    snap("m30", at("2026-03-30 00:30", "Europe/Oslo")),  # 29 Mar 22:30Z
    snap("m31", at("2026-03-31 00:30", "Europe/Oslo")),  # 30 Mar 22:30Z
]

# Nightly at 00:30 Toronto time around the change of 1 November 2026 (02:00 EDT -> 01:00 EST).
TORONTO_NOVEMBER = [
    snap("t31", at("2026-10-31 00:30", "America/Toronto")),  # 31 Oct 04:30Z (EDT)
    snap("t01", at("2026-11-01 00:30", "America/Toronto")),  # 1 Nov 04:30Z (EDT)
    snap("t01-late", at("2026-11-01 23:45", "America/Toronto")),  # 2 Nov 04:45Z (EST)
    snap("t02", at("2026-11-02 00:30", "America/Toronto")),  # 2 Nov 05:30Z
    snap("t03", at("2026-11-03 00:30", "America/Toronto")),  # 3 Nov 05:30Z
]


@pytest.mark.parametrize(
    ("records", "timezone", "expected_deleted"),
    [
        # Local days: 31, 30, 29 (late wins over 00:30), 28, 27.
        (OSLO_MARCH, "Europe/Oslo", {"m29"}),
        # UTC days: the late snapshot and m30 share 29 March UTC; m29 is alone on the 28th.
        (OSLO_MARCH, "UTC", {"m29-late"}),
        (TORONTO_NOVEMBER, "America/Toronto", {"t01"}),
        (TORONTO_NOVEMBER, "UTC", {"t01-late"}),
    ],
)
def test_daily_buckets_are_local_days_across_dst(
    records: list[SnapshotRecord], timezone: str, expected_deleted: set[str]
) -> None:
    plan = plan_instance(records, RetentionPolicy(keep_daily=7, timezone=timezone))

    assert deleted(plan) == expected_deleted


def test_daily_bucket_label_is_the_local_date() -> None:
    plan = plan_instance(OSLO_MARCH, RetentionPolicy(keep_daily=7, timezone="Europe/Oslo"))

    assert reasons(plan, "m30") == ("daily bucket 2026-03-30 (2/7)",)
    assert reasons(plan, "m29-late") == ("daily bucket 2026-03-29 (3/7)",)


# --- keep_within and OR-ed rules --------------------------------------------------------------

# Every 12 hours from 10 November 00:00 to 14 November 00:00 UTC: w0 ... w8.
TWICE_DAILY = [snap(f"w{n}", at("2026-11-10 00:00") + timedelta(hours=12 * n)) for n in range(9)]


def test_keep_within_counts_back_from_the_newest_snapshot_not_the_clock() -> None:
    plan = plan_instance(TWICE_DAILY, RetentionPolicy.model_validate({"keep_within": "2d"}))

    # Strictly newer than 14 Nov 00:00 - 2d: w4, exactly 2 days older, goes (as in restic).
    assert kept(plan) == {"w8", "w7", "w6", "w5"}
    assert reasons(plan, "w5") == ("within 2d of newest",)


def test_keep_within_is_anchored_on_the_newest_snapshot_the_policy_made() -> None:
    foreign_and_newer = snap("manual", at("2026-11-30 00:00"), owned=False)
    policy = RetentionPolicy.model_validate({"keep_within": "36h"})
    plan = plan_instance([*TWICE_DAILY, foreign_and_newer], policy)

    assert kept(plan) == {"manual", "w8", "w7", "w6"}


def test_rules_are_ored_and_each_rule_that_keeps_a_snapshot_is_named() -> None:
    records = [
        snap("a", at("2026-11-20 14:00")),
        snap("b", at("2026-11-20 02:00")),
        snap("c", at("2026-11-19 14:00")),
        snap("d", at("2026-11-19 02:00")),
        snap("e", at("2026-11-18 02:00")),
    ]
    plan = plan_instance(records, RetentionPolicy(keep_last=2, keep_daily=2))

    assert kept(plan) == {"a", "b", "c"}
    assert reasons(plan, "a") == (
        REASON_NEWEST,
        "last snapshots (1/2)",
        "daily bucket 2026-11-20 (1/2)",
    )
    assert reasons(plan, "b") == ("last snapshots (2/2)",)
    assert reasons(plan, "c") == ("daily bucket 2026-11-19 (2/2)",)


# --- safety -----------------------------------------------------------------------------------

SAFETY_TIMELINE = [
    snap("creating", at("2026-11-21 02:00"), status="CREATING"),
    snap("manual", at("2026-11-20 12:00"), owned=False),
    snap("s20", at("2026-11-20 02:00")),
    snap("s19-image", at("2026-11-19 02:00"), backs_image=True),
    snap("s18-legacy", at("2026-11-18 02:00"), status="available"),
    snap("s17-error", at("2026-11-17 02:00"), status="ERROR"),
    snap("s16", at("2026-11-16 02:00")),
    snap("old-manual", at("2026-11-01 02:00"), owned=False),
]


def test_only_owned_ready_snapshots_backing_no_image_are_counted_or_deleted() -> None:
    plan = plan_instance(SAFETY_TIMELINE, RetentionPolicy(keep_last=2))

    # keep_last=2 walks s20 and s18-legacy only: the image-backing, failed, foreign and
    # unfinished snapshots take no slot and are kept for their own reason.
    assert deleted(plan) == {"s16"}
    assert reasons(plan, "creating") == ("not ready (CREATING)",)
    assert reasons(plan, "manual") == (REASON_NOT_OWNED, REASON_NEWEST)
    assert reasons(plan, "s20") == ("last snapshots (1/2)",)
    assert reasons(plan, "s19-image") == (REASON_BACKS_IMAGE,)
    assert reasons(plan, "s18-legacy") == ("last snapshots (2/2)",)
    assert reasons(plan, "s17-error") == ("not ready (ERROR)",)
    assert reasons(plan, "old-manual") == (REASON_NOT_OWNED,)


def test_the_newest_ready_snapshot_is_protected_even_when_it_backs_an_image() -> None:
    records = [
        snap("newest", at("2026-11-20 02:00"), backs_image=True),
        snap("older", at("2026-11-19 02:00")),
        snap("oldest", at("2026-11-18 02:00")),
    ]
    plan = plan_instance(records, RetentionPolicy(keep_last=1))

    assert reasons(plan, "newest") == (REASON_BACKS_IMAGE, REASON_NEWEST)
    assert kept(plan) == {"newest", "older"}


def test_a_legacy_available_snapshot_counts_as_newest_ready() -> None:
    records = [snap("legacy", at("2026-11-20 02:00"), status="available", owned=False)]
    plan = plan_instance(records, RetentionPolicy(keep_last=1))

    assert reasons(plan, "legacy") == (REASON_NOT_OWNED, REASON_NEWEST)


def test_suspended_pruning_deletes_nothing_and_says_why() -> None:
    plan = plan_instance(
        SAFETY_TIMELINE,
        RetentionPolicy(keep_last=2),
        suspend_pruning_reason="tonight's snapshot failed",
    )

    assert plan.delete_count == 0
    assert plan.suspended_reason == "tonight's snapshot failed"
    assert reasons(plan, "s16") == (REASON_NO_RULE, "pruning suspended: tonight's snapshot failed")
    # Snapshots kept anyway do not mention the suspension.
    assert reasons(plan, "s20") == ("last snapshots (1/2)",)


def test_a_suspension_is_worded_once_even_if_the_caller_already_worded_it() -> None:
    plan = plan_instance(
        SAFETY_TIMELINE,
        RetentionPolicy(keep_last=1),
        suspend_pruning_reason="pruning suspended: freshness critical",
    )

    assert reasons(plan, "s16") == (REASON_NO_RULE, "pruning suspended: freshness critical")
    assert next(d for d in plan.decisions if d.snapshot.id == "s16").holds == (
        "pruning suspended: freshness critical",
    )


def test_a_snapshot_in_use_is_held_and_still_counts_in_its_bucket() -> None:
    records = [
        snap("s3", at("2026-11-03 02:00")),
        snap("s2", at("2026-11-02 02:00")),
        SnapshotRecord(
            "s1",
            "auto-s1",
            "i-1",
            "name-i-1",
            "NORWAY-1",
            "SUCCESS",
            at("2026-11-01 02:00"),
            owned=True,
            backs_image=False,
            in_use_by="instance copy (i-9) is CREATING from it",
        ),
    ]
    plan = plan_instance(records, RetentionPolicy(keep_daily=2))

    assert kept(plan) == {"s3", "s2", "s1"}
    assert reasons(plan, "s1") == ("in use: instance copy (i-9) is CREATING from it",)
    # The rule has used its two days before it: only the reader keeps it.
    assert reasons(plan, "s2") == ("daily bucket 2026-11-02 (2/2)",)


def test_an_instance_with_no_ready_snapshot_keeps_everything() -> None:
    records = [
        snap("c1", at("2026-11-20 02:00"), status="CREATING"),
        snap("e1", at("2026-11-19 02:00"), status="ERROR"),
    ]
    plan = plan_instance(records, RetentionPolicy(keep_last=1))

    assert plan.delete_count == 0
    assert plan.keep_count == 2


def test_instance_plan_fields_come_from_the_newest_snapshot() -> None:
    plan = plan_instance(GAPPY_NOVEMBER, RetentionPolicy(keep_last=1))

    assert (plan.instance_id, plan.instance_name, plan.region) == ("i-1", "name-i-1", "NORWAY-1")
    assert plan.keep_count + plan.delete_count == len(GAPPY_NOVEMBER)


# --- the fleet and max_deletions --------------------------------------------------------------


def fleet() -> list[SnapshotRecord]:
    """Two instances with five nightly snapshots each: keep_last=2 deletes three of each."""
    return [
        snap(f"{instance}-{day}", at(f"2026-11-{day:02d} 02:00"), instance=instance)
        for instance in ("i-b", "i-a")
        for day in range(16, 21)
    ]


def test_fleet_plans_every_instance_in_id_order() -> None:
    plan = plan_fleet(fleet(), RetentionPolicy(keep_last=2), max_deletions=6)

    assert [p.instance_id for p in plan.instances] == ["i-a", "i-b"]
    assert plan.blocked is None
    assert (plan.delete_count, plan.keep_count, plan.requested_deletions) == (6, 4, 6)
    assert {d.snapshot.id for d in plan.deletions} == {
        f"{i}-{day}" for i in ("i-a", "i-b") for day in (16, 17, 18)
    }
    assert plan.by_instance["i-b"].delete_count == 3
    assert len(plan.decisions) == len(plan.keeps) + len(plan.deletions) == 10


def test_over_max_deletions_nothing_is_deleted_and_the_plan_says_why() -> None:
    plan = plan_fleet(fleet(), RetentionPolicy(keep_last=2), max_deletions=5)

    assert plan.blocked == "blocked: 6 deletions exceed max_deletions=5"
    assert plan.delete_count == 0
    assert plan.deletions == ()
    assert plan.requested_deletions == 6
    assert reasons(plan.by_instance["i-a"], "i-a-16") == (REASON_NO_RULE, plan.blocked)
    assert reasons(plan.by_instance["i-a"], "i-a-20") == (REASON_NEWEST, "last snapshots (1/2)")


def test_max_deletions_zero_blocks_any_deletion_but_not_an_empty_plan() -> None:
    assert plan_fleet(fleet(), RetentionPolicy(keep_last=2), max_deletions=0).blocked
    unblocked = plan_fleet(fleet(), RetentionPolicy(keep_last=5), max_deletions=0)
    assert unblocked.blocked is None
    assert unblocked.delete_count == 0


def test_suspended_instances_count_no_deletions_towards_the_limit() -> None:
    plan = plan_fleet(
        fleet(),
        RetentionPolicy(keep_last=2),
        max_deletions=3,
        suspended={"i-b": "freshness is critical", "i-unknown": "no snapshots at all"},
    )

    assert plan.blocked is None
    assert plan.by_instance["i-b"].delete_count == 0
    assert plan.by_instance["i-b"].suspended_reason == "freshness is critical"
    assert plan.by_instance["i-a"].delete_count == 3


def test_fleet_accepts_snapshots_grouped_by_instance() -> None:
    records = fleet()
    grouped = {
        "i-a": [s for s in records if s.instance_id == "i-a"],
        "i-b": [s for s in records if s.instance_id == "i-b"],
        "i-empty": [],
    }
    policy = RetentionPolicy(keep_last=2)

    assert plan_fleet(grouped, policy) == plan_fleet(records, policy)


# --- bad input --------------------------------------------------------------------------------


def test_plan_instance_refuses_several_instances() -> None:
    with pytest.raises(ValueError, match="one instance"):
        plan_instance(fleet(), RetentionPolicy(keep_last=1))


def test_plan_instance_refuses_no_snapshots() -> None:
    with pytest.raises(ValueError, match="at least one snapshot"):
        plan_instance([], RetentionPolicy(keep_last=1))


def test_a_repeated_snapshot_id_is_refused() -> None:
    twice = [snap("dup", at("2026-11-20 02:00")), snap("dup", at("2026-11-19 02:00"))]
    with pytest.raises(ValueError, match="'dup' appears more than once"):
        plan_instance(twice, RetentionPolicy(keep_last=1))
    across = [
        snap("dup", at("2026-11-20 02:00")),
        snap("dup", at("2026-11-20 02:00"), instance="x"),
    ]
    with pytest.raises(ValueError, match="'dup' appears more than once"):
        plan_fleet(across, RetentionPolicy(keep_last=1))


def test_a_group_under_the_wrong_instance_key_is_refused() -> None:
    with pytest.raises(ValueError, match=r"snapshots\['i-b'\].*belongs to instance 'i-1'"):
        plan_fleet({"i-b": [snap("s", at("2026-11-20 02:00"))]}, RetentionPolicy(keep_last=1))


def test_negative_max_deletions_is_refused() -> None:
    with pytest.raises(ValueError, match="max_deletions"):
        plan_fleet(fleet(), RetentionPolicy(keep_last=1), max_deletions=-1)


def test_a_naive_creation_time_is_refused_and_aware_ones_are_stored_in_utc() -> None:
    with pytest.raises(ValueError, match="created_at"):
        snap("naive", datetime(2026, 11, 20, 2, 0))
    record = snap("oslo", at("2026-11-20 03:00", "Europe/Oslo"))
    assert record.created_at == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert record.created_at.tzinfo is UTC


def test_decision_reason_joins_the_reasons() -> None:
    plan = plan_instance(SAFETY_TIMELINE, RetentionPolicy(keep_last=1))

    assert plan.decisions[1].reason == f"{REASON_NOT_OWNED}; {REASON_NEWEST}"
    assert plan.decisions[1].action is RetentionAction.KEEP
