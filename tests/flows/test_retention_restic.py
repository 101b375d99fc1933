"""The planner against restic's ``forget`` where it is easy to get wrong: daylight saving,
calendar durations and the start of a history.

Every verdict below is worked out by hand from restic's ``ApplyPolicy``
(``internal/restic/snapshot_policy.go``, 0.16+): snapshots newest first; ``within D``
keeps a snapshot strictly after ``newest.AddDate(-y, -m, -d).Add(-h hours)``; each count
rule keeps the first snapshot of each new bucket (``ymdh``, ``ymd``, ISO ``yw``, ``ym``,
``y``, read on the wall clock) until its count is used up, and keeps the oldest snapshot
too when it reaches it with counts left ("oldest ...").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.nightly_snapshots.durations import CalendarDuration, go_wall_to_instant, step_back
from flows.nightly_snapshots.retention import (
    REASON_NEWEST,
    REASON_NO_RULE,
    InstancePlan,
    RetentionPolicy,
    SnapshotRecord,
    plan_instance,
)


def at(when: str, tz: str = "UTC") -> datetime:
    """A local time in ``tz``; a string with its own offset keeps it (for repeated hours)."""
    value = datetime.fromisoformat(when)
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(tz))


def snap(sid: str, created_at: datetime) -> SnapshotRecord:
    return SnapshotRecord(
        id=sid,
        name=f"auto-a-{sid}",
        instance_id="i-1",
        instance_name="a",
        region="NORWAY-1",
        status="SUCCESS",
        created_at=created_at,
        owned=True,
        backs_image=False,
    )


def kept(plan: InstancePlan) -> set[str]:
    return {d.snapshot.id for d in plan.keeps}


def reasons(plan: InstancePlan, sid: str) -> tuple[str, ...]:
    return next(d.reasons for d in plan.decisions if d.snapshot.id == sid)


# --- (a) the repeated hour of a fall-back change is one hourly bucket ------------------------

# 02:00-03:00 happens twice in Oslo on 25 October 2026 (CEST, then CET from 01:00Z);
# 01:00-02:00 happens twice in Toronto on 1 November 2026 (EDT, then EST from 06:00Z).
FALL_BACK = {
    "Europe/Oslo": [
        snap("0115-cest", at("2026-10-25T01:15+02:00")),
        snap("0230-cest", at("2026-10-25T02:30+02:00")),
        snap("0250-cest", at("2026-10-25T02:50+02:00")),
        snap("0210-cet", at("2026-10-25T02:10+01:00")),
        snap("0240-cet", at("2026-10-25T02:40+01:00")),
        snap("0315-cet", at("2026-10-25T03:15+01:00")),
    ],
    "America/Toronto": [
        snap("0015-edt", at("2026-11-01T00:15-04:00")),
        snap("0130-edt", at("2026-11-01T01:30-04:00")),
        snap("0150-edt", at("2026-11-01T01:50-04:00")),
        snap("0110-est", at("2026-11-01T01:10-05:00")),
        snap("0140-est", at("2026-11-01T01:40-05:00")),
        snap("0215-est", at("2026-11-01T02:15-05:00")),
    ],
}


@pytest.mark.parametrize(
    ("timezone", "expected_kept", "repeated_hour"),
    [
        # restic: 03 (1/3), 02 = the CET 02:40 (2/3; the three other 02:xx share its
        # bucket), 01 (3/3). The planner used to file CEST and CET 02:xx apart.
        ("Europe/Oslo", {"0315-cet", "0240-cet", "0115-cest"}, "2026-10-25T02:00"),
        ("America/Toronto", {"0215-est", "0140-est", "0015-edt"}, "2026-11-01T01:00"),
    ],
)
def test_the_repeated_fall_back_hour_is_one_hourly_bucket(
    timezone: str, expected_kept: set[str], repeated_hour: str
) -> None:
    records = FALL_BACK[timezone]
    plan = plan_instance(records, RetentionPolicy(keep_hourly=3, timezone=timezone))

    assert kept(plan) == expected_kept
    second = sorted(records, key=lambda s: s.created_at)[-2]
    assert reasons(plan, second.id) == (f"hourly bucket {repeated_hour} (2/3)",)


def test_hourly_buckets_at_a_spring_forward_change_follow_the_wall_clock() -> None:
    # Oslo skips 02:00-03:00 on 29 March 2026: 01:30 CET and 03:10 CEST are 40 minutes
    # apart but in two wall-clock hours; 03:10 and 03:50 share one.
    records = [
        snap("0130", at("2026-03-29 01:30", "Europe/Oslo")),
        snap("0310", at("2026-03-29 03:10", "Europe/Oslo")),
        snap("0350", at("2026-03-29 03:50", "Europe/Oslo")),
        snap("0410", at("2026-03-29 04:10", "Europe/Oslo")),
    ]
    plan = plan_instance(records, RetentionPolicy(keep_hourly=2, timezone="Europe/Oslo"))

    assert kept(plan) == {"0410", "0350"}
    assert reasons(plan, "0350") == ("hourly bucket 2026-03-29T03:00 (2/2)",)


# --- (b) keep_within steps back calendar days on the zone's wall clock ------------------------


@pytest.mark.parametrize(
    ("newest", "older", "within", "timezone", "older_is_kept"),
    [
        # Spring forward in Oslo: one day before 29 Mar 12:00 CEST (10:00Z) is 28 Mar
        # 12:00 CET (11:00Z), 23 hours. 10:30Z is outside; 24-hour days kept it.
        ("2026-03-29T10:00Z", "2026-03-28T10:30Z", "1d", "Europe/Oslo", False),
        ("2026-03-29T10:00Z", "2026-03-28T11:30Z", "1d", "Europe/Oslo", True),
        # Fall back in Oslo: one day before 25 Oct 12:00 CET (11:00Z) is 24 Oct 12:00
        # CEST (10:00Z), 25 hours. 10:30Z is inside; 24-hour days dropped it.
        ("2026-10-25T11:00Z", "2026-10-24T10:30Z", "1d", "Europe/Oslo", True),
        ("2026-10-25T11:00Z", "2026-10-24T09:30Z", "1d", "Europe/Oslo", False),
        # A week across the change is 7 local days too.
        ("2026-10-30T11:00Z", "2026-10-23T10:30Z", "1w", "Europe/Oslo", True),
        # Hours are elapsed hours: 24h across the change is 24 hours.
        ("2026-10-25T11:00Z", "2026-10-24T10:30Z", "24h", "Europe/Oslo", False),
        # In UTC a day is 24 hours; "strictly after" the horizon, as restic.
        ("2026-10-25T11:00Z", "2026-10-24T11:00Z", "1d", "UTC", False),
        ("2026-10-25T11:00Z", "2026-10-24T11:01Z", "1d", "UTC", True),
        # Month ends: 31 March minus a month is "31 February" = 3 March (Go's overflow),
        # so 2 March is outside and 3 March 10:01 inside.
        ("2026-03-31T10:00Z", "2026-03-02T23:00Z", "1m", "UTC", False),
        ("2026-03-31T10:00Z", "2026-03-03T10:01Z", "1m", "UTC", True),
        # 31 January minus a month is 31 December: no overflow.
        ("2026-01-31T10:00Z", "2025-12-31T10:01Z", "1m", "UTC", True),
        ("2026-01-31T10:00Z", "2025-12-31T09:59Z", "1m", "UTC", False),
        # Leap day: 29 February 2028 minus a year is "29 February 2027" = 1 March 2027.
        ("2028-02-29T10:00Z", "2027-02-28T23:00Z", "1y", "UTC", False),
        ("2028-02-29T10:00Z", "2027-03-01T10:01Z", "1y", "UTC", True),
    ],
)
def test_keep_within_steps_back_as_restic_does(
    newest: str, older: str, within: str, timezone: str, older_is_kept: bool
) -> None:
    records = [snap("newest", at(newest)), snap("older", at(older))]
    plan = plan_instance(
        records, RetentionPolicy.model_validate({"keep_within": within, "timezone": timezone})
    )

    assert ("older" in kept(plan)) is older_is_kept
    expected = (f"within {CalendarDuration.parse(within)} of newest",)
    assert reasons(plan, "older") == (expected if older_is_kept else (REASON_NO_RULE,))


@pytest.mark.parametrize(
    ("newest", "duration", "timezone", "horizon"),
    [
        ("2026-03-31T10:00Z", "1m", "UTC", "2026-03-03T10:00Z"),
        ("2028-03-31T10:00Z", "1m", "UTC", "2028-03-02T10:00Z"),  # leap year: 29 days
        ("2026-03-30T10:00Z", "1m", "UTC", "2026-03-02T10:00Z"),
        ("2026-05-31T10:00Z", "1m", "UTC", "2026-05-01T10:00Z"),
        ("2026-01-31T10:00Z", "1m", "UTC", "2025-12-31T10:00Z"),
        ("2028-02-29T10:00Z", "1y", "UTC", "2027-03-01T10:00Z"),
        ("2028-02-29T10:00Z", "4y", "UTC", "2024-02-29T10:00Z"),
        ("2026-03-01T10:00Z", "1d", "UTC", "2026-02-28T10:00Z"),
        ("2028-03-01T10:00Z", "1d", "UTC", "2028-02-29T10:00Z"),
        ("2026-06-15T12:00Z", "1y2m3d3h", "UTC", "2025-04-12T09:00Z"),
        ("2026-01-15T12:00Z", "13m", "UTC", "2024-12-15T12:00Z"),
        # Days are wall-clock days: 23 and 25 hours across Oslo's changes.
        ("2026-03-29T10:00Z", "1d", "Europe/Oslo", "2026-03-28T11:00Z"),
        ("2026-10-25T11:00Z", "1d", "Europe/Oslo", "2026-10-24T10:00Z"),
        # Hours are subtracted after the date step, as elapsed time.
        ("2026-03-29T10:00Z", "1d2h", "Europe/Oslo", "2026-03-28T09:00Z"),
        # Landing in Oslo's skipped hour (29 Mar 02:30): Go takes 03:30 CEST.
        ("2026-03-30T00:30Z", "1d", "Europe/Oslo", "2026-03-29T01:30Z"),
        # Landing in Oslo's repeated hour (25 Oct 02:30): Go takes the second, CET.
        ("2026-10-26T01:30Z", "1d", "Europe/Oslo", "2026-10-25T01:30Z"),
        # West of UTC Go's choice flips: Toronto's repeated 01:30 resolves to the first
        # (EDT), its skipped 02:30 to 01:30 EST.
        ("2026-11-02T06:30Z", "1d", "America/Toronto", "2026-11-01T05:30Z"),
        ("2026-03-09T06:30Z", "1d", "America/Toronto", "2026-03-08T06:30Z"),
    ],
)
def test_step_back_is_gos_add_date(newest: str, duration: str, timezone: str, horizon: str) -> None:
    assert step_back(at(newest), CalendarDuration.parse(duration), ZoneInfo(timezone)) == at(
        horizon
    )


@pytest.mark.parametrize(
    ("wall", "timezone", "instant"),
    [
        ("2026-07-01T12:00", "Europe/Oslo", "2026-07-01T10:00Z"),
        ("2026-03-29T02:30", "Europe/London", "2026-03-29T01:30Z"),  # gap at offset 0
        ("2026-10-25T01:30", "Europe/London", "2026-10-25T01:30Z"),  # fold: second (GMT)
        ("2026-04-05T02:15", "Australia/Lord_Howe", "2026-04-04T15:45Z"),  # 30-minute fold
    ],
)
def test_go_wall_to_instant(wall: str, timezone: str, instant: str) -> None:
    naive = datetime.fromisoformat(wall)
    assert go_wall_to_instant(naive, ZoneInfo(timezone)) == at(instant).astimezone(UTC)


# --- (c) the start of a history: the oldest is kept while a rule has counts left --------------

YOUNG = [
    snap("d1-early", at("2026-11-01 02:00")),
    snap("d1-late", at("2026-11-01 14:00")),
    snap("d2", at("2026-11-02 02:00")),
    snap("d3", at("2026-11-03 02:00")),
]


@pytest.mark.parametrize(
    ("rules", "expected_kept", "oldest_reason"),
    [
        # Three days for a rule of 7: the walk reaches d1-early with 4 counts left.
        (
            {"keep_daily": 7},
            {"d3", "d2", "d1-late", "d1-early"},
            "oldest daily: the rule has counts left (3/7)",
        ),
        # Exactly three: the count is used up on d1-late, the oldest goes.
        ({"keep_daily": 3}, {"d3", "d2", "d1-late"}, None),
        # 1 November 2026 is a Sunday: d1-* are ISO week 44, d2 and d3 week 45.
        (
            {"keep_weekly": 4},
            {"d3", "d1-late", "d1-early"},
            "oldest weekly: the rule has counts left (2/4)",
        ),
        (
            {"keep_monthly": -1},
            {"d3", "d1-early"},
            "oldest monthly: the rule has counts left (1/unlimited)",
        ),
        # keep_last buckets are single snapshots: nothing to add.
        ({"keep_last": 2}, {"d3", "d2"}, None),
        ({"keep_last": 9}, {"d3", "d2", "d1-late", "d1-early"}, "last snapshots (4/9)"),
        # Two rules: only the one with counts left names the oldest.
        (
            {"keep_daily": 2, "keep_yearly": 3},
            {"d3", "d2", "d1-early"},
            "oldest yearly: the rule has counts left (1/3)",
        ),
    ],
)
def test_a_young_history_keeps_its_oldest_snapshot_while_a_rule_has_counts_left(
    rules: dict[str, int], expected_kept: set[str], oldest_reason: str | None
) -> None:
    plan = plan_instance(YOUNG, RetentionPolicy.model_validate(rules))

    assert kept(plan) == expected_kept
    if oldest_reason is not None:
        assert reasons(plan, "d1-early") == (oldest_reason,)
    else:
        assert reasons(plan, "d1-early") == (REASON_NO_RULE,)


def test_the_oldest_rule_counts_only_snapshots_the_rules_see() -> None:
    # A foreign older snapshot is kept for being foreign, and is not "the oldest" that a
    # rule keeps: the rule's oldest is the oldest candidate.
    foreign = SnapshotRecord(
        "manual",
        "manual",
        "i-1",
        "a",
        "NORWAY-1",
        "SUCCESS",
        at("2026-10-01 02:00"),
        owned=False,
        backs_image=False,
    )
    plan = plan_instance([*YOUNG, foreign], RetentionPolicy(keep_daily=7))

    assert "d1-early" in kept(plan)
    assert reasons(plan, "d3") == (REASON_NEWEST, "daily bucket 2026-11-03 (1/7)")


# --- keep_within_<bucket> (restic's --keep-within-hourly/-daily/-weekly/-monthly/-yearly) ----

# Twice a day, 02:00 and 14:00 UTC, from 1 October to 20 November 2026 (a Friday).
TWICE_A_DAY = [
    snap(f"{day:%m-%d}{half}", day.replace(hour=hour))
    for day in (at("2026-10-01 00:00") + timedelta(days=n) for n in range(51))
    for half, hour in (("am", 2), ("pm", 14))
]


@pytest.mark.parametrize(
    ("rules", "expected_kept"),
    [
        # Newest 20 Nov 14:00; 3 days back is 17 Nov 14:00, not strictly newer, so the
        # 17th has no snapshot in range: the newest of the 20th, 19th and 18th.
        ({"keep_within_daily": "3d"}, {"11-20pm", "11-19pm", "11-18pm"}),
        # One month back is 20 Oct 14:00: ISO weeks 47, 46, 45, 44 and 43 (from 19 Oct).
        (
            {"keep_within_weekly": "1m"},
            {"11-20pm", "11-15pm", "11-08pm", "11-01pm", "10-25pm"},
        ),
        # A year reaches past the start of the history: November, October, and the
        # oldest snapshot as well (restic's "oldest").
        ({"keep_within_monthly": "1y"}, {"11-20pm", "10-31pm", "10-01am"}),
        ({"keep_within_yearly": "2y"}, {"11-20pm", "10-01am"}),
        # Hours: 20 Nov 14:00 back 30 hours is 19 Nov 08:00; the 19th's 14:00 and the
        # 20th's 02:00 are in range, each its own hour.
        ({"keep_within_hourly": "30h"}, {"11-20pm", "11-20am", "11-19pm"}),
        # restic's combined units: 1m14d back from 20 Nov is 6 Oct 14:00.
        (
            {"keep_within_weekly": "1m14d"},
            {"11-20pm", "11-15pm", "11-08pm", "11-01pm", "10-25pm", "10-18pm", "10-11pm"},
        ),
        # Rules are OR-ed with the count rules.
        ({"keep_within_daily": "2d", "keep_monthly": 2}, {"11-20pm", "11-19pm", "10-31pm"}),
    ],
)
def test_keep_within_bucket_rules(rules: dict[str, object], expected_kept: set[str]) -> None:
    plan = plan_instance(TWICE_A_DAY, RetentionPolicy.model_validate(rules))

    assert kept(plan) == expected_kept


def test_keep_within_bucket_reasons_name_the_rule_and_the_bucket() -> None:
    policy = RetentionPolicy.model_validate({"keep_within_monthly": "1y"})
    plan = plan_instance(TWICE_A_DAY, policy)

    assert reasons(plan, "11-20pm") == (REASON_NEWEST, "monthly within 1y: bucket 2026-11")
    assert reasons(plan, "10-31pm") == ("monthly within 1y: bucket 2026-10",)
    assert reasons(plan, "10-01am") == ("oldest monthly within 1y",)


def test_keep_within_daily_at_a_month_end_steps_back_as_go_does() -> None:
    daily = [
        snap(f"{d:%m-%d}", d)
        for d in (at("2026-02-20 10:00") + timedelta(days=n) for n in range(40))
    ]
    plan = plan_instance(daily, RetentionPolicy.model_validate({"keep_within_daily": "1m"}))

    # 31 March minus a month is 3 March (Go overflows "31 February"); 3 March 10:00 is
    # not strictly newer, so 4 March is the oldest kept.
    assert kept(plan) == {f"03-{day:02d}" for day in range(4, 32)}


def test_keep_within_hourly_files_the_repeated_fall_back_hour_once() -> None:
    every_20_minutes = [
        snap(f"t{n:02d}", at("2026-10-24T23:40Z") + timedelta(minutes=20 * n)) for n in range(10)
    ]
    # t00 is 01:40 CEST, t09 03:40 CET (02:40Z); 3 hours back is 23:40Z, t00 itself.
    plan = plan_instance(
        every_20_minutes,
        RetentionPolicy.model_validate({"keep_within_hourly": "3h", "timezone": "Europe/Oslo"}),
    )

    # Hour 03 (t09), then hour 02 once for both its CEST and CET occurrences (t06,
    # 02:40 CET); t00 is not strictly newer than the horizon.
    assert kept(plan) == {"t09", "t06"}
    assert reasons(plan, "t06") == ("hourly within 3h: bucket 2026-10-25T02:00",)
