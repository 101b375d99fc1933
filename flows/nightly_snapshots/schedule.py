"""When the nightly recipe runs: cron slots, their period, snapshot names and freshness.

Fire times follow Prefect's own cron schedules, so a run started by a deployment lands on
the slot Prefect scheduled it for: croniter walks *wall-clock* times in the schedule's
time zone, and each wall time becomes an instant the way Prefect (and RFC 5545's
"compatible" rule) resolves it:

* a wall time that does not exist (skipped by a spring-forward change) moves forward by
  the size of the gap: ``0 2 * * *`` in Europe/Oslo fires at 03:00 CEST on the day
  clocks jump from 02:00 to 03:00;
* a wall time that happens twice (a fall-back change) fires once, on its first
  occurrence.

Because of the first rule the wall-to-instant mapping is not monotonic inside a gap, so
the searches below look at every wall time within the zone's offset change around the
answer instead of trusting a single ``get_prev``.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, CroniterError, croniter

from flows.common.schedules import DeploymentCron, RunSchedules
from notifications.text import describe_duration

__all__ = [
    "DEFAULT_POLICY_NAME",
    "SNAPSHOT_NAME_MAX_LENGTH",
    "CronInForce",
    "Freshness",
    "FreshnessLevel",
    "cron_in_force",
    "freshness",
    "load_timezone",
    "period_of",
    "slot_for",
    "snapshot_name",
    "validate_cron",
]

SNAPSHOT_NAME_MAX_LENGTH = 50
"""Barrack's limit on snapshot names."""

DEFAULT_POLICY_NAME = "nightly"
"""The policy name of a deployment that sets none; its snapshot names carry no policy."""

_NAME_PREFIX = "auto-"
_NAME_HASH_LENGTH = 8
# croniter's get_prev/get_next exclude their start; nudging the start by one microsecond
# makes the start itself a candidate (cron times are whole minutes).
_TICK = timedelta(microseconds=1)
# Offsets are sampled hourly this far either side of an instant. The widest possible
# difference between two UTC offsets is 26 hours (-12:00 to +14:00), so wall times further
# apart than this can never swap order when they become instants.
_OFFSET_WINDOW_HOURS = 72
_CRON_ALIASES = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)


def load_timezone(name: str, *, field: str = "timezone") -> ZoneInfo:
    """Return the IANA time zone called ``name``.

    Args:
        name: an IANA name such as ``"Europe/Oslo"`` or ``"UTC"``.
        field: the field name used in the error message.

    Raises:
        ValueError: ``name`` is not a time zone this machine knows.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        # ZoneInfoNotFoundError is a KeyError; paths such as "../x" raise ValueError.
        raise ValueError(
            f"{field}: {name!r} is not an IANA time zone name (e.g. 'UTC', 'Europe/Oslo')"
        ) from None


def validate_cron(expression: str, *, field: str = "cron") -> str:
    """Check that ``expression`` is a five-field cron expression Prefect can schedule.

    Accepted: ``minute hour day-of-month month day-of-week`` and the ``@daily`` style
    aliases. Refused: a seconds or year field (names carry minutes, so sub-minute slots
    would collide) and croniter's random/hashed ``R``/``H`` fields, which Prefect rejects.

    Returns:
        The expression with surrounding blanks removed.

    Raises:
        ValueError: naming ``field`` and what is wrong.
    """
    text = expression.strip()
    fields = text.split()
    if text.lower() in _CRON_ALIASES:
        return text
    if len(fields) != 5:
        raise ValueError(
            f"{field}: {expression!r} must have 5 fields (minute hour day month weekday), "
            f"not {len(fields)}"
        )
    if any(part.casefold() in {"r", "h"} for part in fields):
        raise ValueError(f"{field}: {expression!r} uses a random or hashed field (R/H)")
    if not croniter.is_valid(text):
        raise ValueError(f"{field}: {expression!r} is not a valid cron expression")
    return text


@dataclass(frozen=True, slots=True)
class CronInForce:
    """The cron a run names its slot by, and where it came from (for the log)."""

    cron: str
    timezone: str
    source: str


def cron_in_force(schedules: RunSchedules | None, cron: str, timezone: str) -> CronInForce:
    """The schedule a run belongs to: its deployment's cron, else the parameters.

    The deployment's schedule is what Prefect fires by, so slot names and freshness must
    follow it (edited in the UI, it would otherwise disagree with a ``cron`` parameter).
    With several cron schedules the one that made the run counts (Prefect's scheduler
    records it); a run made otherwise (by hand, from the CLI) falls back to the
    parameters, as does a run of no deployment or a deployment with no cron schedule.

    Args:
        schedules: the run's deployment schedules (see ``run_schedules``), or None.
        cron: the ``cron`` parameter.
        timezone: the ``timezone`` parameter.

    Example:
        >>> cron_in_force(None, "0 2 * * *", "UTC").source
        "the parameters (cron '0 2 * * *', UTC): not a deployment's run"
    """
    fallback = f"the parameters (cron {cron!r}, {timezone})"
    if schedules is None:
        return CronInForce(cron, timezone, f"{fallback}: not a deployment's run")
    crons = [c for c in schedules.crons if c.active] or list(schedules.crons)
    made_by = next((c for c in crons if c.schedule_id == schedules.run_schedule_id), None)
    if made_by is None and len(crons) == 1:
        made_by = crons[0]
    if made_by is None:
        why = (
            "it has no cron schedule"
            if not crons
            else f"it has {len(crons)} cron schedules and none of them made this run"
        )
        return CronInForce(cron, timezone, f"{fallback}: deployment {schedules.deployment!r} {why}")
    return _checked(made_by, schedules.deployment, CronInForce(cron, timezone, fallback))


def _checked(schedule: DeploymentCron, deployment: str, fallback: CronInForce) -> CronInForce:
    """``schedule`` as the cron in force, or ``fallback`` if the recipe cannot read it."""
    try:
        expression = validate_cron(schedule.cron, field="schedule cron")
        load_timezone(schedule.timezone, field="schedule timezone")
    except ValueError as exc:
        return replace(fallback, source=f"{fallback.source}: deployment {deployment!r}: {exc}")
    return CronInForce(
        expression,
        schedule.timezone,
        f"deployment {deployment!r}'s schedule (cron {expression!r}, {schedule.timezone})",
    )


def slot_for(cron: str, timezone: str, now: datetime) -> datetime:
    """Return the scheduled fire time that a run at ``now`` belongs to.

    That is the latest fire time of ``cron`` (read in ``timezone``) at or before ``now``.

    Args:
        cron: a five-field cron expression, e.g. ``"0 2 * * *"``.
        timezone: the IANA zone the expression is read in.
        now: an aware datetime, usually the flow run's start.

    Returns:
        The slot, in UTC.

    Raises:
        ValueError: a bad cron, zone or naive ``now``, or a cron that never fires.

    Example:
        >>> slot_for("0 2 * * *", "Europe/Oslo", datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
        datetime.datetime(2026, 3, 29, 1, 0, tzinfo=datetime.timezone.utc)
    """
    expression = validate_cron(cron)
    zone = load_timezone(timezone)
    return _latest_fire_at_or_before(expression, zone, _aware_utc(now, "now"))


@functools.lru_cache(maxsize=256)
def period_of(cron: str, timezone: str, at: datetime) -> timedelta:
    """Return the gap between the two consecutive fire times around ``at``.

    Cached: a run asks it once per instance with the same arguments (about 1 ms each
    uncached, 5 s over 5,000 instances).

    The gap runs from the latest fire time at or before ``at`` to the next one, so it
    follows daylight saving time: a daily ``0 2 * * *`` in Europe/Oslo has a period of
    23 hours across the March change and 25 hours across the October one.

    Raises:
        ValueError: a bad cron, zone or naive ``at``, or a cron that never fires.
    """
    expression = validate_cron(cron)
    zone = load_timezone(timezone)
    previous = _latest_fire_at_or_before(expression, zone, _aware_utc(at, "at"))
    return _first_fire_after(expression, zone, previous) - previous


def snapshot_name(instance_name: str, slot: datetime, policy: str = DEFAULT_POLICY_NAME) -> str:
    """Return the deterministic snapshot name for one instance, one slot and one policy.

    The default policy's name is ``auto-<instance>-<YYYYMMDD-HHMM>`` with the slot in
    UTC (as every release so far named it, so a rerun still finds its snapshot). Any
    other policy's name carries the policy, ``auto-<instance>-<policy>-<YYYYMMDD-HHMM>``:
    two policies firing in the same minute on one instance (a daily and a weekly at
    Sunday 02:00) must each take their own snapshot, not find the other's name taken
    and adopt a snapshot they do not own. A name longer than Barrack's 50 characters
    keeps its head and gets a short hash of the whole instance-and-policy part, so two
    long names sharing a prefix still differ.

    Raises:
        ValueError: an empty instance name or a naive ``slot``.

    Example:
        >>> snapshot_name("trainer-01", datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
        'auto-trainer-01-20261120-0200'
        >>> snapshot_name("trainer-01", datetime(2026, 11, 22, 2, 0, tzinfo=UTC), "weekly")
        'auto-trainer-01-weekly-20261122-0200'
    """
    if not instance_name:
        raise ValueError("instance_name: must not be empty")
    stamp = _aware_utc(slot, "slot").strftime("%Y%m%d-%H%M")
    subject = instance_name if policy == DEFAULT_POLICY_NAME else f"{instance_name}-{policy}"
    name = f"{_NAME_PREFIX}{subject}-{stamp}"
    if len(name) <= SNAPSHOT_NAME_MAX_LENGTH:
        return name
    digest = hashlib.sha256(subject.encode()).hexdigest()[:_NAME_HASH_LENGTH]
    room = SNAPSHOT_NAME_MAX_LENGTH - len(f"{_NAME_PREFIX}-{digest}-{stamp}")
    return f"{_NAME_PREFIX}{subject[:room]}-{digest}-{stamp}"


class FreshnessLevel(StrEnum):
    """How worried to be about an instance's newest SUCCESS snapshot."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Freshness:
    """The age of an instance's newest SUCCESS snapshot against its schedule.

    Attributes:
        level: ok, warning (older than one period plus grace) or critical (older than
            two periods plus grace, or no SUCCESS snapshot at all).
        age: ``now`` minus the newest SUCCESS snapshot's time; None when there is none.
        period: the schedule's period around ``now``.
        grace: the allowance added to the thresholds.
        message: one human sentence.
    """

    level: FreshnessLevel
    age: timedelta | None
    period: timedelta
    grace: timedelta
    message: str


def freshness(
    newest_success_at: datetime | None,
    cron: str,
    timezone: str,
    now: datetime,
    grace: timedelta,
) -> Freshness:
    """Judge whether an instance's newest SUCCESS snapshot is as recent as its schedule.

    Args:
        newest_success_at: when the instance's newest SUCCESS snapshot was taken, or None.
        cron: the schedule's cron expression.
        timezone: the zone the cron is read in.
        now: the time to judge at (aware).
        grace: how late a snapshot may be before it counts as missing (>= 0).

    Returns:
        The level, age, period and a message.

    Raises:
        ValueError: a bad cron, zone, naive time or negative grace.

    Example:
        >>> now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
        >>> freshness(now - timedelta(hours=49), "0 2 * * *", "UTC", now, timedelta(hours=2)).level
        <FreshnessLevel.WARNING: 'warning'>
    """
    if grace < timedelta(0):
        raise ValueError(f"grace: must not be negative, got {grace}")
    now = _aware_utc(now, "now")
    period = period_of(cron, timezone, now)
    expected = f"expected every {describe_duration(period)}, grace {describe_duration(grace)}"
    if newest_success_at is None:
        return Freshness(
            FreshnessLevel.CRITICAL, None, period, grace, f"no SUCCESS snapshot at all ({expected})"
        )
    age = now - _aware_utc(newest_success_at, "newest_success_at")
    if age > 2 * period + grace:
        level, verdict = FreshnessLevel.CRITICAL, "older than two periods plus grace"
    elif age > period + grace:
        level, verdict = FreshnessLevel.WARNING, "older than one period plus grace"
    else:
        level, verdict = FreshnessLevel.OK, "on schedule"
    message = f"newest SUCCESS snapshot is {describe_duration(age)} old: {verdict} ({expected})"
    return Freshness(level, age, period, grace, message)


def _aware_utc(value: datetime, field: str) -> datetime:
    """Return ``value`` in UTC, refusing a naive datetime."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field}: must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive local wall-clock time of ``instant`` in ``zone``."""
    return instant.astimezone(zone).replace(tzinfo=None)


def _fire_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant a cron wall time fires at (fold=0: gaps move forward, folds fire first)."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _offset_span(zone: ZoneInfo, around: datetime) -> timedelta:
    """How far the zone's UTC offset moves within a few days of ``around``."""
    return _offset_span_near_hour(zone, around.replace(minute=0, second=0, microsecond=0))


@functools.lru_cache(maxsize=4096)
def _offset_span_near_hour(zone: ZoneInfo, hour: datetime) -> timedelta:
    """The offset span sampled hourly around a whole hour (cached: searches revisit it)."""
    offsets = [
        (hour + timedelta(hours=step)).astimezone(zone).utcoffset() or timedelta(0)
        for step in range(-_OFFSET_WINDOW_HOURS, _OFFSET_WINDOW_HOURS + 1)
    ]
    return max(offsets) - min(offsets)


def _latest_fire_at_or_before(expression: str, zone: ZoneInfo, moment: datetime) -> datetime:
    """The latest fire instant <= ``moment``.

    Wall times later than ``moment``'s own wall time can still fire earlier (inside a
    fall-back fold), and earlier wall times can fire later (moved forward out of a gap),
    so candidates are walked back until they are more than one offset change behind the
    best instant found.
    """
    start = _wall(moment, zone) + _offset_span(zone, moment) + _TICK
    walls = croniter(expression, start)
    best: datetime | None = None
    stop_below: datetime | None = None
    while True:
        try:
            wall = walls.get_prev(datetime)
        except (CroniterBadDateError, CroniterError):
            if best is not None:
                return best
            raise ValueError(f"cron: {expression!r} never fires") from None
        if stop_below is not None and wall < stop_below:
            assert best is not None
            return best
        instant = _fire_instant(wall, zone)
        if instant <= moment and (best is None or instant > best):
            best = instant
            stop_below = _wall(best, zone) - _offset_span(zone, best)


def _first_fire_after(expression: str, zone: ZoneInfo, moment: datetime) -> datetime:
    """The earliest fire instant > ``moment`` (the mirror image of the search above)."""
    start = _wall(moment, zone) - _offset_span(zone, moment) - _TICK
    walls = croniter(expression, start)
    best: datetime | None = None
    stop_above: datetime | None = None
    while True:
        try:
            wall = walls.get_next(datetime)
        except (CroniterBadDateError, CroniterError):
            if best is not None:
                return best
            raise ValueError(f"cron: {expression!r} never fires") from None
        if stop_above is not None and wall > stop_above:
            assert best is not None
            return best
        instant = _fire_instant(wall, zone)
        if instant > moment and (best is None or instant < best):
            best = instant
            stop_above = _wall(best, zone) + _offset_span(zone, best)
