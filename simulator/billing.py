"""Per-minute billing, exact in ``Decimal``: meters, segments and the balance ledger.

Every billable resource (instance, volume, snapshot) has a meter: the rate per hour of its
current status since it entered it. A status change closes the running *segment* and opens
the next one, so a resource's bill is its list of segments, each ``rate x duration``.

The balance is kept scaled by 3600 (currency-seconds per hour) so that charging
``rate x seconds`` never divides: an H100 at 2.69/h for 90 minutes subtracts
``2.69 x 5400`` exactly, and the balance reads ``(scaled) / 3600`` = the exact 4.035 less.
Charges are *posted* at every whole simulated minute and whenever a rate changes; between
two posts the balance does not move. The sum of rates in force (``burn``) makes posting
O(1) however many resources run, and tells when the balance will reach zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

__all__ = [
    "HOUR",
    "Ledger",
    "Segment",
    "ceil_minute",
    "floor_minute",
    "money",
    "seconds_between",
]

HOUR: Final = Decimal(3600)
_FOUR_PLACES: Final = Decimal("0.0001")
_EPOCH_MINUTE_SECONDS: Final = 60
_MAX_HORIZON: Final = timedelta(days=3650)

MeterKey = tuple[str, str]
"""(resource kind, resource id)."""


def seconds_between(start: datetime, end: datetime) -> Decimal:
    """Exact seconds from ``start`` to ``end`` (microsecond resolution, no float)."""
    delta = end - start
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds).scaleb(-6)


def floor_minute(moment: datetime) -> datetime:
    """The whole minute at or before ``moment``."""
    return moment.replace(second=0, microsecond=0)


def ceil_minute(moment: datetime) -> datetime:
    """The whole minute at or after ``moment``."""
    floor = floor_minute(moment)
    return floor if floor == moment else floor + timedelta(seconds=_EPOCH_MINUTE_SECONDS)


def money(amount: Decimal) -> Decimal:
    """Show an amount with at least four decimals, never rounding it.

    An exact amount with four or fewer decimals is written with four (``4.035`` ->
    ``4.0350``); one with more keeps every digit it has.
    """
    quantised = amount.quantize(_FOUR_PLACES)
    return quantised if quantised == amount else amount.normalize()


@dataclass(slots=True)
class Segment:
    """A period of one resource at one rate."""

    start: datetime
    end: datetime | None
    status: str
    rate_per_hour: Decimal

    def seconds(self, until: datetime) -> Decimal:
        """Billed seconds up to ``until`` (the end, if the segment is closed)."""
        end = self.end if self.end is not None else until
        end = min(end, until)
        return max(Decimal(0), seconds_between(self.start, end)) if end > self.start else Decimal(0)

    def amount(self, until: datetime) -> Decimal:
        """What the segment costs up to ``until``: ``rate x seconds / 3600``."""
        return self.rate_per_hour * self.seconds(until) / HOUR


class Ledger:
    """The balance and every resource's meter.

    Args:
        balance: credit at ``start``.
        start: when billing starts (charges before it were paid before the scenario began).
    """

    def __init__(self, balance: Decimal, start: datetime) -> None:
        self._scaled = balance * HOUR
        self.posted_at = start
        self.burn = Decimal(0)
        self.updated_at = start
        self._open: dict[MeterKey, Segment] = {}
        self._closed: dict[MeterKey, list[Segment]] = {}
        self.total_charged = Decimal(0)

    # -- meters ------------------------------------------------------------------------

    def meter(self, kind: str, resource_id: str, status: str, rate: Decimal, at: datetime) -> None:
        """Bill a resource at ``rate`` per hour from ``at`` on, closing its previous segment.

        ``at`` may lie before the ledger's start (scenario history): that part of the
        segment shows in the resource's bill but was settled before the balance began.
        """
        key = (kind, resource_id)
        self.post(at)
        previous = self._open.pop(key, None)
        if previous is not None:
            previous.end = at
            self.burn -= previous.rate_per_hour
            self._closed.setdefault(key, []).append(previous)
        self._open[key] = Segment(at, None, status, rate)
        self.burn += rate

    def close(self, kind: str, resource_id: str, at: datetime) -> None:
        """Stop billing a resource (deleted) at ``at``; its segments stay readable."""
        key = (kind, resource_id)
        previous = self._open.pop(key, None)
        if previous is None:
            return
        self.post(at)
        previous.end = at
        self.burn -= previous.rate_per_hour
        self._closed.setdefault(key, []).append(previous)

    def segments(self, kind: str, resource_id: str) -> list[Segment]:
        """Every segment of a resource, oldest first (the last may still be open)."""
        key = (kind, resource_id)
        segments = list(self._closed.get(key, ()))
        running = self._open.get(key)
        if running is not None:
            segments.append(running)
        return segments

    def meters(self) -> list[MeterKey]:
        """Every resource ever metered (deleted ones included), in the order first metered."""
        keys = dict.fromkeys(self._closed)
        keys.update(dict.fromkeys(self._open))
        return list(keys)

    def rate(self, kind: str, resource_id: str) -> Decimal:
        """A resource's current rate per hour (0 when it is not metered)."""
        running = self._open.get((kind, resource_id))
        return running.rate_per_hour if running is not None else Decimal(0)

    # -- the balance -----------------------------------------------------------------------

    def post(self, at: datetime) -> None:
        """Charge every running meter up to ``at`` (never backwards)."""
        if at <= self.posted_at:
            return
        if self.burn:
            charge = self.burn * seconds_between(self.posted_at, at)
            self._scaled -= charge
            self.total_charged += charge / HOUR
            self.updated_at = at
        self.posted_at = at

    def post_minutes(self, now: datetime) -> None:
        """Post up to the last whole minute at or before ``now``."""
        self.post(floor_minute(now))

    def balance(self, now: datetime) -> Decimal:
        """The balance as posted at ``now`` (charges up to the last whole minute)."""
        self.post_minutes(now)
        return self._scaled / HOUR

    def set_opening_balance(self, amount: Decimal) -> None:
        """Set the balance at the ledger's start (a scenario sets it once it knows the burn)."""
        self._scaled = amount * HOUR

    def top_up(self, amount: Decimal, at: datetime) -> None:
        """Add credit at ``at``."""
        self.post(at)
        self._scaled += amount * HOUR
        self.updated_at = at

    def charge(self, amount: Decimal, at: datetime) -> None:
        """A one-off charge (AI usage) at ``at``."""
        self.post(at)
        self._scaled -= amount * HOUR
        self.total_charged += amount
        self.updated_at = at

    def depleted(self) -> bool:
        """True when the posted balance is at or below zero."""
        return self._scaled <= 0

    def zero_crossing(self) -> datetime | None:
        """The first whole minute at which the posted balance will be at or below zero.

        None when nothing is burning or that is more than ten years away. Valid until the
        next change of rate or balance.
        """
        if self._scaled <= 0:
            return self.posted_at
        if self.burn <= 0:
            return None
        seconds = self._scaled / self.burn
        if seconds > Decimal(_MAX_HORIZON.total_seconds()):
            return None
        # Round the crossing up to a whole microsecond, then to the minute tick posting it.
        micro = int((seconds * 1_000_000).to_integral_value(rounding="ROUND_CEILING"))
        return ceil_minute(self.posted_at + timedelta(microseconds=micro))
