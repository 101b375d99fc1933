"""Cron slots, periods, snapshot names and freshness, including daylight saving time."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.nightly_snapshots.schedule import (
    SNAPSHOT_NAME_MAX_LENGTH,
    FreshnessLevel,
    freshness,
    load_timezone,
    period_of,
    slot_for,
    snapshot_name,
    validate_cron,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- cron validation --------------------------------------------------------------------------


@pytest.mark.parametrize("cron", ["0 2 * * *", "*/15 1-3 * * 1-5", "@daily", "@HOURLY"])
def test_valid_cron_expressions(cron: str) -> None:
    assert validate_cron(f"  {cron} ") == cron


@pytest.mark.parametrize(
    ("cron", "problem"),
    [
        ("0 2 * *", "must have 5 fields"),
        ("0 0 2 * * *", "must have 5 fields"),
        ("", "must have 5 fields"),
        ("61 2 * * *", "not a valid cron expression"),
        ("0 2 * * mon-funday", "not a valid cron expression"),
        ("H 2 * * *", "random or hashed"),
        ("0 R * * *", "random or hashed"),
    ],
)
def test_invalid_cron_expressions_name_the_field(cron: str, problem: str) -> None:
    with pytest.raises(ValueError, match=f"^cron: .*{problem}"):
        validate_cron(cron)


def test_load_timezone_names_the_field() -> None:
    assert load_timezone("Europe/Oslo") == ZoneInfo("Europe/Oslo")
    with pytest.raises(ValueError, match=r"^timezone: 'Mars/Olympus' is not an IANA"):
        load_timezone("Mars/Olympus")
    with pytest.raises(ValueError, match=r"^zone: "):
        load_timezone("", field="zone")


# --- slots ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "timezone", "now", "slot"),
    [
        # A slot includes its own instant.
        ("0 2 * * *", "UTC", "2026-11-20 02:00", "2026-11-20 02:00"),
        ("0 2 * * *", "UTC", "2026-11-20 01:59:59", "2026-11-19 02:00"),
        ("0 2 * * *", "UTC", "2026-11-20 23:00", "2026-11-20 02:00"),
        # Across a month and a year boundary.
        ("0 2 * * *", "UTC", "2027-01-01 00:30", "2026-12-31 02:00"),
        ("0 3 1 * *", "UTC", "2026-03-01 02:00", "2026-02-01 03:00"),
        # Oslo, 29 March 2026: 02:00 CET jumps to 03:00 CEST. 02:00 does not exist that
        # night, so (like Prefect) the run fires at 03:00 CEST = 01:00Z.
        ("0 2 * * *", "Europe/Oslo", "2026-03-28 01:00", "2026-03-28 01:00"),
        ("0 2 * * *", "Europe/Oslo", "2026-03-29 00:59", "2026-03-28 01:00"),
        ("0 2 * * *", "Europe/Oslo", "2026-03-29 01:00", "2026-03-29 01:00"),
        ("0 2 * * *", "Europe/Oslo", "2026-03-29 23:59", "2026-03-29 01:00"),
        ("0 2 * * *", "Europe/Oslo", "2026-03-30 00:00", "2026-03-30 00:00"),
        # A time inside the gap fires shifted by the gap: 02:30 -> 03:30 CEST = 01:30Z, so a
        # run at 03:10 CEST still belongs to the previous night.
        ("30 2 * * *", "Europe/Oslo", "2026-03-29 01:10", "2026-03-28 01:30"),
        ("30 2 * * *", "Europe/Oslo", "2026-03-29 01:30", "2026-03-29 01:30"),
        # Oslo, 25 October 2026: 03:00 CEST falls back to 02:00 CET. 02:30 happens twice and
        # fires once, on the first occurrence (00:30Z).
        ("30 2 * * *", "Europe/Oslo", "2026-10-25 01:45", "2026-10-25 00:30"),
        # At 02:10 CET the wall clock reads earlier than the slot's 02:30, yet it has passed.
        ("30 2 * * *", "Europe/Oslo", "2026-10-25 01:10", "2026-10-25 00:30"),
        # Toronto, 8 March 2026: 02:00 EST jumps to 03:00 EDT.
        ("0 2 * * *", "America/Toronto", "2026-03-08 07:00", "2026-03-08 07:00"),
        ("0 2 * * *", "America/Toronto", "2026-03-08 06:59", "2026-03-07 07:00"),
        # Lord Howe, 4 October 2026: 02:00 +10:30 jumps to 02:30 +11:00. 02:20 does not exist
        # and fires at 02:50 (15:50Z), after 02:35 (15:35Z): walking wall times back from
        # "now" would stop at 02:35 and miss the later slot.
        ("20,35 2 * * *", "Australia/Lord_Howe", "2026-10-03 15:55", "2026-10-03 15:50"),
        ("20,35 2 * * *", "Australia/Lord_Howe", "2026-10-03 15:49", "2026-10-03 15:35"),
    ],
)
def test_slot_for(cron: str, timezone: str, now: str, slot: str) -> None:
    assert slot_for(cron, timezone, utc(now)) == utc(slot)


def test_slot_for_accepts_now_in_any_zone_and_answers_in_utc() -> None:
    now = datetime(2026, 11, 20, 3, 30, tzinfo=ZoneInfo("Europe/Oslo"))

    slot = slot_for("0 2 * * *", "Europe/Oslo", now)

    assert slot == utc("2026-11-20 01:00")
    assert slot.tzinfo is UTC


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        (lambda: slot_for("0 2 * * *", "UTC", datetime(2026, 11, 20)), "^now: must be timezone"),
        (lambda: slot_for("0 2 * *", "UTC", utc("2026-11-20 00:00")), "^cron: "),
        (lambda: slot_for("0 2 * * *", "Oslo", utc("2026-11-20 00:00")), "^timezone: "),
        (lambda: slot_for("0 0 30 2 *", "UTC", utc("2026-11-20 00:00")), "never fires"),
        (lambda: period_of("0 0 30 2 *", "UTC", utc("2026-11-20 00:00")), "never fires"),
        (lambda: period_of("0 2 * * *", "UTC", datetime(2026, 11, 20)), "^at: "),
    ],
)
def test_schedule_errors(call: Callable[[], object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        call()


# --- periods ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "timezone", "at", "period"),
    [
        ("0 2 * * *", "UTC", "2026-11-20 12:00", timedelta(days=1)),
        ("0 */6 * * *", "UTC", "2026-11-20 12:00", timedelta(hours=6)),
        ("0 3 * * 1", "UTC", "2026-11-20 12:00", timedelta(days=7)),
        # Weekdays only: Friday's slot is followed by Monday's.
        ("0 2 * * 1-5", "UTC", "2026-11-20 12:00", timedelta(days=3)),
        ("0 3 1 * *", "UTC", "2026-02-10 00:00", timedelta(days=28)),
        # Oslo nightly: the night of the March change is 23 hours long, October's is 25.
        ("0 2 * * *", "Europe/Oslo", "2026-03-28 12:00", timedelta(hours=24)),
        ("0 2 * * *", "Europe/Oslo", "2026-03-29 12:00", timedelta(hours=23)),
        ("0 2 * * *", "Europe/Oslo", "2026-10-25 12:00", timedelta(hours=25)),
        ("0 2 * * *", "America/Toronto", "2026-03-08 12:00", timedelta(hours=23)),
        ("0 2 * * *", "America/Toronto", "2026-11-01 05:00", timedelta(hours=25)),
        ("0 2 * * *", "America/Toronto", "2026-11-01 12:00", timedelta(hours=24)),
        # Hourly through the October fold: the repeated 02:00 fires once, so 02:00 CEST is
        # followed by 03:00 CET two hours later.
        ("0 * * * *", "Europe/Oslo", "2026-10-25 00:30", timedelta(hours=2)),
    ],
)
def test_period_of(cron: str, timezone: str, at: str, period: timedelta) -> None:
    assert period_of(cron, timezone, utc(at)) == period


# (cron, zone, start of a four-day window around a change)
CROSS_CHECKED = [
    ("0 2 * * *", "Europe/Oslo", "2026-03-27 00:00"),
    ("0 2 * * *", "Europe/Oslo", "2026-10-23 00:00"),
    ("30 2 * * *", "Europe/Oslo", "2026-03-27 00:00"),
    ("30 2 * * *", "Europe/Oslo", "2026-10-23 00:00"),
    ("*/30 * * * *", "Europe/Oslo", "2026-03-27 00:00"),
    ("*/30 * * * *", "Europe/Oslo", "2026-10-23 00:00"),
    ("15 1 * * *", "America/Toronto", "2026-03-06 00:00"),
    ("0 * * * *", "America/Toronto", "2026-10-30 00:00"),
    # Lord Howe Island moves by 30 minutes: 02:00 -> 02:30 on 4 October 2026, back on 5 April.
    ("30 2 * * *", "Australia/Lord_Howe", "2026-04-03 00:00"),
    ("20,35 2 * * *", "Australia/Lord_Howe", "2026-10-02 00:00"),
]


@pytest.mark.parametrize(("cron", "timezone", "start"), CROSS_CHECKED)
async def test_slots_match_the_fire_times_prefect_schedules(
    cron: str, timezone: str, start: str
) -> None:
    from prefect.server.schemas.schedules import CronSchedule

    window = await CronSchedule(cron=cron, timezone=timezone).get_dates(
        n=500, start=utc(start), end=utc(start) + timedelta(days=4)
    )
    fired = [datetime.fromisoformat(date.isoformat()).astimezone(UTC) for date in window]
    assert len(fired) >= 4
    for previous, current in itertools.pairwise(fired):
        assert slot_for(cron, timezone, current) == current
        assert slot_for(cron, timezone, current - timedelta(seconds=1)) == previous
        assert slot_for(cron, timezone, previous + (current - previous) / 2) == previous
        assert period_of(cron, timezone, previous) == current - previous


# --- snapshot names ---------------------------------------------------------------------------

SLOT = utc("2026-11-20 02:00")


@pytest.mark.parametrize(
    ("instance", "slot", "name"),
    [
        ("trainer-01", SLOT, "auto-trainer-01-20261120-0200"),
        ("a", utc("2027-01-01 00:05"), "auto-a-20270101-0005"),
        # The slot is written in UTC whatever zone it comes in.
        (
            "gpu.box_7",
            datetime(2026, 11, 20, 3, 0, tzinfo=ZoneInfo("Europe/Oslo")),
            "auto-gpu.box_7-20261120-0200",
        ),
    ],
)
def test_snapshot_name(instance: str, slot: datetime, name: str) -> None:
    assert snapshot_name(instance, slot) == name


def test_the_longest_instance_name_fits_unchanged() -> None:
    longest = "x" * 30

    assert snapshot_name(longest, SLOT) == f"auto-{longest}-20261120-0200"
    assert len(snapshot_name(longest, SLOT)) <= SNAPSHOT_NAME_MAX_LENGTH


def test_longer_names_are_shortened_with_a_hash_so_they_cannot_collide() -> None:
    first = snapshot_name("a" * 40 + "-one", SLOT)
    second = snapshot_name("a" * 40 + "-two", SLOT)

    assert len(first) == len(second) == SNAPSHOT_NAME_MAX_LENGTH
    assert first != second
    assert first.startswith("auto-aaaa")
    assert first.endswith("-20261120-0200")
    assert snapshot_name("a" * 40 + "-one", SLOT) == first  # deterministic


def test_each_policy_but_the_default_names_its_snapshots_apart() -> None:
    assert snapshot_name("trainer-01", SLOT, "nightly") == "auto-trainer-01-20261120-0200"
    assert snapshot_name("trainer-01", SLOT, "weekly") == "auto-trainer-01-weekly-20261120-0200"
    longest = "x" * 30
    names = {snapshot_name(longest, SLOT, policy) for policy in ("nightly", "daily", "weekly")}
    assert len(names) == 3
    assert all(len(name) <= SNAPSHOT_NAME_MAX_LENGTH for name in names)
    assert all(name.endswith("-20261120-0200") for name in names)


def test_snapshot_name_errors() -> None:
    with pytest.raises(ValueError, match=r"^instance_name: must not be empty"):
        snapshot_name("", SLOT)
    with pytest.raises(ValueError, match=r"^slot: must be timezone-aware"):
        snapshot_name("trainer", datetime(2026, 11, 20, 2, 0))


# --- freshness --------------------------------------------------------------------------------

NOW = utc("2026-11-20 05:00")
GRACE = timedelta(hours=2)


@pytest.mark.parametrize(
    ("age", "level"),
    [
        (timedelta(hours=2, minutes=55), FreshnessLevel.OK),
        (timedelta(hours=26), FreshnessLevel.OK),  # exactly one period plus grace
        (timedelta(hours=26, minutes=1), FreshnessLevel.WARNING),
        (timedelta(hours=50), FreshnessLevel.WARNING),  # exactly two periods plus grace
        (timedelta(hours=50, minutes=1), FreshnessLevel.CRITICAL),
        (timedelta(days=30), FreshnessLevel.CRITICAL),
        (timedelta(minutes=-5), FreshnessLevel.OK),  # a clock slightly behind the API's
    ],
)
def test_freshness_levels(age: timedelta, level: FreshnessLevel) -> None:
    result = freshness(NOW - age, "0 2 * * *", "UTC", NOW, GRACE)

    assert result.level is level
    assert (result.age, result.period, result.grace) == (age, timedelta(days=1), GRACE)


def test_no_success_snapshot_at_all_is_critical() -> None:
    result = freshness(None, "0 2 * * *", "UTC", NOW, GRACE)

    assert result.level is FreshnessLevel.CRITICAL
    assert result.age is None
    assert result.message == "no SUCCESS snapshot at all (expected every 1d, grace 2h)"


def test_freshness_messages() -> None:
    warning = freshness(NOW - timedelta(hours=30, minutes=5), "0 2 * * *", "UTC", NOW, GRACE)
    ok = freshness(NOW - timedelta(hours=3), "0 2 * * *", "UTC", NOW, GRACE)

    assert warning.message == (
        "newest SUCCESS snapshot is 1d 6h 5m old: older than one period plus grace "
        "(expected every 1d, grace 2h)"
    )
    assert ok.message == (
        "newest SUCCESS snapshot is 3h old: on schedule (expected every 1d, grace 2h)"
    )


def test_freshness_uses_the_dst_aware_period() -> None:
    # The Oslo night of 29 March is 23 hours long: 24h30m is already more than one period
    # plus one hour of grace (it would not be with a fixed 24-hour period).
    now = utc("2026-03-29 12:00")
    newest = now - timedelta(hours=24, minutes=30)

    result = freshness(newest, "0 2 * * *", "Europe/Oslo", now, timedelta(hours=1))

    assert result.period == timedelta(hours=23)
    assert result.level is FreshnessLevel.WARNING


def test_freshness_errors() -> None:
    with pytest.raises(ValueError, match=r"^grace: must not be negative"):
        freshness(NOW, "0 2 * * *", "UTC", NOW, timedelta(hours=-1))
    with pytest.raises(ValueError, match=r"^newest_success_at: must be timezone-aware"):
        freshness(datetime(2026, 11, 20), "0 2 * * *", "UTC", NOW, GRACE)
