"""Calendar durations for retention, read and stepped back exactly as restic does.

restic's ``--keep-within 1y2m3d4h`` is not a fixed number of seconds: it is a count of
calendar years, months and days plus a number of hours, and the horizon is found with
Go's ``time.AddDate``::

    horizon = newest.AddDate(-years, -months, -days).Add(-hours * time.Hour)

:func:`step_back` does the same in the policy's time zone. Go's rules, which it follows:

* ``AddDate`` changes the *wall-clock* date and keeps the wall-clock time, so one day
  back across a daylight-saving change is 23 or 25 hours, not 24;
* a date that does not exist overflows into the next month instead of being clamped:
  31 March minus one month is "31 February", which is 3 March (2 March in a leap year);
  29 February 2028 minus one year is 1 March 2027; 31 January minus one month is
  31 December (no overflow);
* a wall time that does not exist or happens twice after the date change is resolved
  the way Go's ``time.Date`` resolves it: with the UTC offset in force at the wall time
  read as if it were UTC, corrected once (see :func:`go_wall_to_instant`). In zones east
  of UTC that picks the later instant (a skipped 02:30 becomes 03:30, a repeated 02:30
  the second one); west of UTC, the earlier one;
* hours are then subtracted as elapsed time.

Our ``w`` (a week, seven calendar days) is accepted on top of restic's ``y m d h``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

__all__ = ["CalendarDuration", "go_wall_to_instant", "step_back"]

_PART = re.compile(r"(\d+)([a-zA-Z]+)")
_ISO = re.compile(
    r"(?P<sign>-?)P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+)S)?)?"
)
_UNITS: Final = ("y", "m", "w", "d", "h")
HELP: Final = (
    "write <number><unit> pairs with restic's units y (years), m (months), d (days), "
    "h (hours), or w (weeks), e.g. '7d', '36h', '2w3d', '1y2m3d4h'"
)


@dataclass(frozen=True, slots=True)
class CalendarDuration:
    """Years, months, days and hours, kept apart as their length varies (restic's Duration).

    Attributes:
        years: calendar years.
        months: calendar months.
        days: calendar days (weeks are folded in as seven days).
        hours: elapsed hours.

    Example:
        >>> CalendarDuration.parse("1y2m2w3h")
        CalendarDuration(years=1, months=2, days=14, hours=3)
        >>> str(CalendarDuration.parse("2w3d"))
        '17d'
    """

    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0

    def __post_init__(self) -> None:
        for part in ("years", "months", "days", "hours"):
            if getattr(self, part) < 0:
                raise ValueError(f"must be positive, got {part}={getattr(self, part)}")

    @classmethod
    def parse(cls, text: str) -> CalendarDuration:
        """Read restic's compact form (``"1y2m3d4h"``, plus ``w``) or ISO 8601 (``"P7D"``).

        Raises:
            ValueError: an empty text, an unknown unit (``M`` too: it could be read as
                minutes; restic's units are lower case), a negative or fractional part,
                or minutes and seconds that are not whole hours.
        """
        compact = "".join(text.split())
        if not compact:
            raise ValueError(f"empty duration; {HELP}")
        if compact.upper().startswith(("P", "-P")):
            return cls._parse_iso(text, compact)
        amounts = dict.fromkeys(_UNITS, 0)
        position = 0
        for match in _PART.finditer(compact):
            if match.start() != position:
                break
            unit = match.group(2)
            if unit == "M":
                raise ValueError(
                    f"{text!r}: 'M' could mean months or minutes; write 'm' for months"
                )
            if unit.lower() not in amounts:
                raise ValueError(f"{text!r}: unknown unit {unit!r}; {HELP}")
            unit = unit.lower()
            amounts[unit] += int(match.group(1))
            position = match.end()
        if position != len(compact):
            raise ValueError(f"{text!r} is not a duration; {HELP}")
        return cls(amounts["y"], amounts["m"], amounts["d"] + 7 * amounts["w"], amounts["h"])

    @classmethod
    def _parse_iso(cls, text: str, compact: str) -> CalendarDuration:
        match = _ISO.fullmatch(compact.upper())
        if match is None or compact.upper().rstrip("T").endswith(("P", "-P")):
            raise ValueError(f"{text!r} is not an ISO 8601 duration; {HELP}")
        if match["sign"]:
            raise ValueError(f"{text!r}: must be positive")
        part = {key: int(value or 0) for key, value in match.groupdict().items() if key != "sign"}
        seconds = part["mi"] * 60 + part["s"]
        if seconds % 3600:
            raise ValueError(f"{text!r}: must be a whole number of hours")
        hours = part["h"] + seconds // 3600
        return cls(part["y"], part["mo"], part["d"] + 7 * part["w"], hours)

    @classmethod
    def from_timedelta(cls, value: timedelta) -> CalendarDuration:
        """A fixed duration as days and hours (a day of a timedelta becomes a calendar day).

        Raises:
            ValueError: a negative value or one that is not a whole number of hours.
        """
        if value < timedelta(0):
            raise ValueError(f"must be positive, got {value}")
        if value % timedelta(hours=1):
            raise ValueError(f"must be a whole number of hours, got {value}")
        return cls(days=value.days, hours=value.seconds // 3600)

    @property
    def is_zero(self) -> bool:
        """True when every part is zero."""
        return not (self.years or self.months or self.days or self.hours)

    def __str__(self) -> str:
        """restic's form: ``1y2m3d4h``, zero parts left out (``0h`` for zero)."""
        parts = zip((self.years, self.months, self.days, self.hours), "ymdh", strict=True)
        return "".join(f"{amount}{unit}" for amount, unit in parts if amount) or "0h"


def step_back(newest: datetime, duration: CalendarDuration, zone: ZoneInfo) -> datetime:
    """The horizon restic computes: ``newest.AddDate(-y, -m, -d).Add(-h hours)`` in ``zone``.

    Args:
        newest: an aware instant (the newest snapshot's time).
        duration: how far to step back.
        zone: the policy's time zone, whose wall clock the date arithmetic uses.

    Returns:
        The horizon, in UTC.

    Example:
        >>> oslo = ZoneInfo("Europe/Oslo")
        >>> step_back(datetime(2026, 3, 31, 10, tzinfo=UTC), CalendarDuration(months=1), oslo)
        datetime.datetime(2026, 3, 3, 10, 0, tzinfo=datetime.timezone.utc)
    """
    local = newest.astimezone(zone)
    # Go's time.Date normalises month overflow into the year, then day overflow into
    # the following months: (2026, 2, 31) is 3 March 2026.
    month_index = local.year * 12 + (local.month - 1) - duration.years * 12 - duration.months
    year, month0 = divmod(month_index, 12)
    day = date(year, month0 + 1, 1) + timedelta(days=local.day - 1 - duration.days)
    wall = datetime.combine(day, local.time().replace(tzinfo=None, fold=0))
    return go_wall_to_instant(wall, zone) - timedelta(hours=duration.hours)


def go_wall_to_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """Resolve a naive wall time in ``zone`` to an instant the way Go's ``time.Date`` does.

    Go reads the wall time as if it were UTC, takes the offset in force at that
    instant, and if the corrected instant falls outside that offset's period, takes the
    offset in force at the corrected instant instead. For every wall time that exists
    once, that is the only answer; for skipped and repeated wall times it is Go's choice.
    """
    as_if_utc = wall.replace(tzinfo=UTC)
    first_guess = as_if_utc - _offset(as_if_utc, zone)
    return as_if_utc - _offset(first_guess, zone)


def _offset(instant: datetime, zone: ZoneInfo) -> timedelta:
    """The UTC offset of ``zone`` at ``instant``."""
    return instant.astimezone(zone).utcoffset() or timedelta(0)
