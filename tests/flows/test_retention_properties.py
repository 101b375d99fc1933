"""Properties of the retention planner that hold for every timeline and every policy."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from flows.nightly_snapshots.retention import (
    REASON_NO_RULE,
    RetentionPolicy,
    SnapshotRecord,
    plan_fleet,
    plan_instance,
)

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)
ZONES = ["UTC", "Europe/Oslo", "America/Toronto", "Asia/Kolkata", "Australia/Lord_Howe"]
EPOCH = datetime(2025, 12, 1, tzinfo=UTC)
# Spreads from "many snapshots per hour" to "a few per year", so buckets both collide
# and stay apart.
SPREADS_MINUTES = [6 * 60, 10 * 24 * 60, 120 * 24 * 60, 3 * 365 * 24 * 60]


STATUSES = ["SUCCESS", "available", "SUCCESS", "CREATING", "ERROR"]


def record_from(index: int, minute: int, flags: int, instance: str) -> SnapshotRecord:
    """One snapshot; ``flags`` (0-99) picks status, ownership and image backing in one draw.

    One draw instead of three keeps generation cheap; 0 shrinks to the plainest snapshot
    (SUCCESS, owned, backing no image). About 3 in 4 are owned, 1 in 5 backs an image.
    """
    return SnapshotRecord(
        id=f"s{index:03d}",
        name=f"auto-{index}",
        instance_id=instance,
        instance_name=f"name-{instance}",
        region="NORWAY-1",
        status=STATUSES[flags % 5],
        created_at=EPOCH + timedelta(minutes=minute),
        owned=(flags // 5) % 4 != 3,
        backs_image=flags // 20 == 4,
    )


@st.composite
def snapshot_lists(draw: st.DrawFn, instances: tuple[str, ...] = ("i-1",)) -> list[SnapshotRecord]:
    spread = draw(st.sampled_from(SPREADS_MINUTES))
    rows = draw(
        st.lists(
            st.tuples(st.integers(0, spread), st.integers(0, 99), st.sampled_from(instances)),
            min_size=1,
            max_size=30,
        )
    )
    return [record_from(index, *row) for index, row in enumerate(rows)]


COUNT_RULES = (
    "keep_last",
    "keep_hourly",
    "keep_daily",
    "keep_weekly",
    "keep_monthly",
    "keep_yearly",
)
WITHIN_RULES = (
    "keep_within_hourly",
    "keep_within_daily",
    "keep_within_weekly",
    "keep_within_monthly",
    "keep_within_yearly",
)
CALENDAR_DURATIONS = ["6h", "2d", "1w", "1m", "1m14d", "1y"]
COUNTS = st.one_of(st.just(0), st.just(0), st.integers(-1, 6))


@st.composite
def policies(draw: st.DrawFn) -> RetentionPolicy:
    rules: dict[str, Any] = {rule: draw(COUNTS) for rule in COUNT_RULES}
    hours = draw(st.one_of(st.none(), st.integers(1, 24 * 60)))
    rules["keep_within"] = None if hours is None else timedelta(hours=hours)
    for rule in WITHIN_RULES:
        rules[rule] = draw(st.one_of(st.none(), st.none(), st.sampled_from(CALENDAR_DURATIONS)))
    if not any(rules.values()):
        rules[draw(st.sampled_from(COUNT_RULES))] = draw(st.sampled_from([-1, 1, 2]))
    return RetentionPolicy(**rules, timezone=draw(st.sampled_from(ZONES)))


def newest_first(records: list[SnapshotRecord]) -> list[SnapshotRecord]:
    return sorted(records, key=lambda s: (s.created_at, s.id), reverse=True)


def candidates(records: list[SnapshotRecord]) -> list[SnapshotRecord]:
    return [s for s in newest_first(records) if s.owned and s.is_ready and not s.backs_image]


@PROPERTY_SETTINGS
@given(snapshot_lists(), policies(), st.one_of(st.none(), st.just("run failed")))
def test_the_newest_ready_snapshot_is_always_kept(
    records: list[SnapshotRecord], policy: RetentionPolicy, suspended: str | None
) -> None:
    plan = plan_instance(records, policy, suspend_pruning_reason=suspended)

    ready = [s for s in newest_first(records) if s.is_ready]
    if ready:
        assert ready[0].id in {d.snapshot.id for d in plan.keeps}


@PROPERTY_SETTINGS
@given(snapshot_lists(), st.integers(1, 8), st.sampled_from(ZONES))
def test_keep_last_alone_keeps_exactly_the_n_newest_candidates(
    records: list[SnapshotRecord], n: int, timezone: str
) -> None:
    plan = plan_instance(records, RetentionPolicy(keep_last=n, timezone=timezone))

    kept_candidates = [d.snapshot for d in plan.keeps if d.snapshot in candidates(records)]
    assert set(kept_candidates) == set(candidates(records)[:n])


@PROPERTY_SETTINGS
@given(snapshot_lists(), policies())
def test_only_owned_ready_snapshots_backing_no_image_are_ever_deleted(
    records: list[SnapshotRecord], policy: RetentionPolicy
) -> None:
    plan = plan_instance(records, policy)

    for decision in plan.deletions:
        assert decision.snapshot.owned
        assert decision.snapshot.is_ready
        assert not decision.snapshot.backs_image
        assert decision.reasons == (REASON_NO_RULE,)


@PROPERTY_SETTINGS
@given(snapshot_lists(), policies())
def test_every_snapshot_gets_one_decision_with_a_reason(
    records: list[SnapshotRecord], policy: RetentionPolicy
) -> None:
    plan = plan_instance(records, policy)

    assert [d.snapshot for d in plan.decisions] == newest_first(records)
    assert all(d.reasons for d in plan.decisions)


@PROPERTY_SETTINGS
@given(snapshot_lists(), policies())
def test_planning_again_on_the_kept_set_deletes_nothing(
    records: list[SnapshotRecord], policy: RetentionPolicy
) -> None:
    first = plan_instance(records, policy)
    second = plan_instance([d.snapshot for d in first.keeps], policy)

    assert second.delete_count == 0
    assert [d.reasons for d in second.decisions] == [d.reasons for d in first.keeps]


@PROPERTY_SETTINGS
@given(st.data(), snapshot_lists(instances=("i-1", "i-2", "i-3")), policies())
def test_the_plan_does_not_depend_on_input_order(
    data: st.DataObject, records: list[SnapshotRecord], policy: RetentionPolicy
) -> None:
    shuffled = data.draw(st.permutations(records))
    limit = data.draw(st.one_of(st.none(), st.integers(0, 10)))

    assert plan_fleet(shuffled, policy, max_deletions=limit) == plan_fleet(
        records, policy, max_deletions=limit
    )


@PROPERTY_SETTINGS
@given(snapshot_lists(instances=("i-1", "i-2", "i-3")), policies(), st.integers(0, 10))
def test_the_fleet_never_deletes_more_than_max_deletions(
    records: list[SnapshotRecord], policy: RetentionPolicy, limit: int
) -> None:
    plan = plan_fleet(records, policy, max_deletions=limit)
    unlimited = plan_fleet(records, policy)

    assert plan.requested_deletions == unlimited.delete_count
    if unlimited.delete_count > limit:
        assert plan.delete_count == 0
        assert plan.blocked
    else:
        assert plan.deletions == unlimited.deletions
        assert plan.blocked is None


@PROPERTY_SETTINGS
@given(
    snapshot_lists(),
    st.sampled_from(["keep_hourly", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly"]),
    st.integers(1, 6),
    st.sampled_from(ZONES),
)
def test_a_calendar_rule_keeps_one_snapshot_per_bucket_up_to_its_count(
    records: list[SnapshotRecord], rule: str, n: int, timezone: str
) -> None:
    plan = plan_instance(records, RetentionPolicy.model_validate({rule: n, "timezone": timezone}))

    label = f"{rule.removeprefix('keep_')} bucket "
    buckets = [
        reason.removeprefix(label).rsplit(" (", 1)[0]
        for d in plan.decisions
        for reason in d.reasons
        if reason.startswith(label)
    ]
    assert len(buckets) == len(set(buckets)) <= n


@PROPERTY_SETTINGS
@given(snapshot_lists(), st.integers(1, 6), st.sampled_from(ZONES))
def test_keep_daily_keeps_the_newest_of_the_n_latest_local_days(
    records: list[SnapshotRecord], n: int, timezone: str
) -> None:
    plan = plan_instance(records, RetentionPolicy(keep_daily=n, timezone=timezone))

    newest_of_day: dict[date, SnapshotRecord] = {}
    for snapshot in candidates(records):  # newest first: the first seen is the newest
        newest_of_day.setdefault(
            snapshot.created_at.astimezone(ZoneInfo(timezone)).date(), snapshot
        )
    expected = {newest_of_day[day] for day in sorted(newest_of_day, reverse=True)[:n]}
    if candidates(records) and len(newest_of_day) < n:
        expected.add(candidates(records)[-1])  # restic 0.16+: counts left keep the oldest
    kept = {d.snapshot for d in plan.keeps}
    assert {s for s in candidates(records) if s in kept} == expected


@PROPERTY_SETTINGS
@given(snapshot_lists(), st.integers(1, 6), st.sampled_from(ZONES))
def test_keep_hourly_files_snapshots_by_the_local_wall_clock_hour(
    records: list[SnapshotRecord], n: int, timezone: str
) -> None:
    plan = plan_instance(records, RetentionPolicy(keep_hourly=n, timezone=timezone))

    def wall_hour(snapshot: SnapshotRecord) -> datetime:
        local = snapshot.created_at.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
        return local.replace(minute=0, second=0, microsecond=0)

    newest_of_hour: dict[datetime, SnapshotRecord] = {}
    for snapshot in candidates(records):
        newest_of_hour.setdefault(wall_hour(snapshot), snapshot)
    expected = {newest_of_hour[hour] for hour in sorted(newest_of_hour, reverse=True)[:n]}
    if candidates(records) and len(newest_of_hour) < n:
        expected.add(candidates(records)[-1])
    kept = {d.snapshot for d in plan.keeps}
    assert {s for s in candidates(records) if s in kept} == expected


@PROPERTY_SETTINGS
@given(snapshot_lists(), st.integers(1, 400), st.sampled_from(ZONES))
def test_keep_within_days_keeps_what_is_after_the_same_wall_time_that_many_days_before(
    records: list[SnapshotRecord], days: int, timezone: str
) -> None:
    zone = ZoneInfo(timezone)
    policy = RetentionPolicy.model_validate({"keep_within": f"{days}d", "timezone": timezone})
    plan = plan_instance(records, policy)
    pool = candidates(records)
    if not pool:
        return
    newest = pool[0].created_at.astimezone(zone)
    wall = newest.replace(tzinfo=None) - timedelta(days=days)
    # Only where that wall time exists exactly once is the answer free of Go's choice.
    instants = {wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)}
    if len(instants) != 1 or next(iter(instants)).astimezone(zone).replace(tzinfo=None) != wall:
        return
    horizon = next(iter(instants))
    kept = {d.snapshot for d in plan.keeps}
    assert {s for s in pool if s in kept} == {s for s in pool if s.created_at > horizon}


@PROPERTY_SETTINGS
@given(snapshot_lists(("i-1", "i-2")), policies(), st.integers(0, 5), st.integers(1, 4))
def test_a_pinned_snapshot_is_never_deleted(
    records: list[SnapshotRecord], policy: RetentionPolicy, max_deletions: int, every: int
) -> None:
    pinned = {
        replace(s, description=f"note {policy.pin_marker}") if index % every == 0 else s
        for index, s in enumerate(records)
    }
    plan = plan_fleet(pinned, policy, max_deletions=max_deletions)

    for decision in plan.decisions:
        if policy.pin_marker in decision.snapshot.description:
            assert decision.action.value == "keep"
            assert f"pinned ({policy.pin_marker})" in decision.reasons
