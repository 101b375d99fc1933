"""Durations (``90s``, ``1h30m``, ``2d``) and times (RFC 3339 or Unix seconds)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

__all__ = ["parse_duration", "parse_time"]

_UNITS: Final[dict[str, float]] = {
    "ms": 0.001,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 604800,
    "y": 31536000,
}
_PART: Final = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")


def parse_duration(value: str | float | int) -> float:
    """Seconds in a duration: a number of seconds, or units run together (``1h30m``).

    Raises:
        ValueError: not a duration.

    Example:
        >>> parse_duration("1h30m")
        5400.0
    """
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        return float(value)
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    position = 0
    total = 0.0
    for match in _PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(text) or not text:
        raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 5m, 1h30m, 2d)")
    return total


def parse_time(value: str | float) -> datetime:
    """A UTC time from RFC 3339 text or Unix seconds.

    Raises:
        ValueError: neither.
    """
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    text = value.strip()
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a time: {value!r} (use RFC 3339 or Unix seconds)") from None
    if moment.tzinfo is None:
        raise ValueError(f"time {value!r} needs a timezone (e.g. a trailing Z)")
    return moment.astimezone(UTC)
