"""Report periods: whole local days in the report's timezone, turned into UTC instants.

A period is ``[start, end)``. Days are calendar days of the timezone, so a week that
crosses a daylight-saving change has a day of 23 or 25 hours, and "last week" always runs
from Monday 00:00 to Monday 00:00 local time. Everything here is pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["Period", "PeriodError", "last_week", "parse_period", "zone"]

_RANGE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})\s*$")


class PeriodError(ValueError):
    """A period or timezone that cannot be used; the message names the field."""


def zone(name: str) -> ZoneInfo:
    """The IANA timezone ``name`` (``Europe/Oslo``, ``UTC``).

    Raises:
        PeriodError: unknown timezone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PeriodError(
            f"timezone: {name!r} is not an IANA timezone (e.g. Europe/Oslo)"
        ) from None


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """Whole local days ``first..last`` (inclusive) of ``tz``.

    Attributes:
        first: the first day.
        last: the last day (inclusive).
        tz: the timezone the days are counted in.
    """

    first: date
    last: date
    tz: ZoneInfo

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise PeriodError(f"period: {self.first}..{self.last} ends before it starts")

    @property
    def start(self) -> datetime:
        """The first day's local midnight, in UTC."""
        return _midnight(self.first, self.tz)

    @property
    def end(self) -> datetime:
        """The local midnight after the last day, in UTC (exclusive)."""
        return _midnight(self.last + timedelta(days=1), self.tz)

    @property
    def label(self) -> str:
        """``2026-11-01..2026-11-30``."""
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    @property
    def day_count(self) -> int:
        """How many days."""
        return (self.last - self.first).days + 1

    def days(self) -> list[tuple[date, datetime, datetime]]:
        """(day, its start, its end) in UTC, for every local day (23 to 25 hours long)."""
        return [
            (day, _midnight(day, self.tz), _midnight(day + timedelta(days=1), self.tz))
            for day in (self.first + timedelta(days=n) for n in range(self.day_count))
        ]

    def previous(self) -> Period:
        """The same number of days just before (the comparison period)."""
        span = timedelta(days=self.day_count)
        return Period(self.first - span, self.last - span, self.tz)

    def weeks_before(self, weeks: int) -> Period:
        """``weeks`` whole weeks ending the day before this period (the anomaly baseline)."""
        return Period(
            self.first - timedelta(days=7 * weeks), self.first - timedelta(days=1), self.tz
        )


def parse_period(text: str, tz: ZoneInfo) -> Period:
    """``2026-11-01..2026-11-30`` (both days included) in ``tz``.

    Raises:
        PeriodError: not two ISO dates joined by ``..``, or the end before the start.
    """
    found = _RANGE.match(text)
    if found is None:
        raise PeriodError(
            f"period: {text!r} is not FIRST..LAST with ISO dates (2026-11-01..2026-11-30)"
        )
    try:
        first, last = date.fromisoformat(found[1]), date.fromisoformat(found[2])
    except ValueError as error:
        raise PeriodError(f"period: {text!r}: {error}") from None
    return Period(first, last, tz)


def last_week(now: datetime, tz: ZoneInfo) -> Period:
    """The last whole week, Monday to Sunday in ``tz``, before the week ``now`` is in."""
    if now.tzinfo is None:
        raise PeriodError("now: must be timezone-aware")
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    return Period(monday - timedelta(days=7), monday - timedelta(days=1), tz)
