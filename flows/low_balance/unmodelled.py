"""What the fleet model misses, split into a lasting burn and money already spent.

Between two consecutive samples of one segment (no top-up between them) the balance fell
by some amount; the fleet model, read at both ends, explains ``(m0 + m1) / 2 x hours`` of
it (exactly, when the fleet did not change in between). The rest, per hour, is that
interval's **excess**. Only the last :data:`PERSISTENT_INTERVALS` intervals decide what
counts as burn, and only what shows in *every one* of them does:

| the last 3 intervals show          | added to the runway's burn  | reported as spent            |
|------------------------------------|-----------------------------|------------------------------|
| fewer than 3 intervals yet         | nothing                     | each interval's excess       |
| an excess in each (a steady charge | the smallest of the three   | what each interval spent     |
| the model misses: AI usage, a      |                             | above it                     |
| price it does not know)            |                             |                              |
| an excess in one or two only (a    | nothing                     | the burst, in its intervals  |
| 25-minute instance since deleted)  |                             |                              |
| no excess                          | nothing                     | nothing                      |

Why the minimum and not a pooled slope or the median: a burst dominates a least-squares
slope for the whole window (a 25-minute instance, deleted, read as a lasting burn for
hours), and a burst that straddles a sample lands in two intervals, which moves a median
of three. The minimum moves only when every interval moves, and once a charge stops the
next interval shows it, so the lasting burn falls back at the very next run. What the
minimum leaves out of a steady charge (sample jitter) is at most one interval's noise.

Samples closer than :data:`MIN_INTERVAL` to the previous one are skipped (a rerun a
minute later would make an interval of one posting step). An excess under
``NOISE_FRACTION`` of the modelled burn is not reported as spent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # history imports this module: a runtime import would be circular
    from flows.low_balance.history import BalanceSample

__all__ = [
    "MIN_INTERVAL",
    "NOISE_FRACTION",
    "PERSISTENT_INTERVALS",
    "SampleInterval",
    "UnmodelledSpend",
    "sample_intervals",
    "split_unmodelled",
]

PERSISTENT_INTERVALS: Final = 3
"""An unmodelled burn counts only when it shows in each of this many latest intervals."""

MIN_INTERVAL: Final = timedelta(minutes=10)
"""Samples closer together than this are one interval (posting steps dominate below it)."""

NOISE_FRACTION: Final = Decimal("0.01")
"""A gap between measured and modelled burn under 1 % of the burn is noise."""


def _hours(delta: timedelta) -> Decimal:
    """A duration in hours, exactly (microseconds included)."""
    seconds = Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds).scaleb(-6)
    return seconds / 3600


@dataclass(frozen=True, slots=True)
class SampleInterval:
    """Two consecutive samples of one segment, and what the model does not explain.

    Attributes:
        start: the earlier sample's time.
        end: the later sample's time.
        spent: how far the balance fell.
        modelled: what the fleet model explains (its mean at both ends x the hours).
    """

    start: datetime
    end: datetime
    spent: Decimal
    modelled: Decimal

    @property
    def hours(self) -> Decimal:
        """The interval's length in hours."""
        return _hours(self.end - self.start)

    @property
    def excess_per_hour(self) -> Decimal:
        """Spending the model does not explain, per hour (negative when it overestimates)."""
        return (self.spent - self.modelled) / self.hours


def sample_intervals(
    samples: Sequence[BalanceSample], *, now: datetime, window: timedelta
) -> list[SampleInterval]:
    """The intervals of the last ``window`` before ``now``, oldest first (see the docstring)."""
    used = [s for s in samples if now - window <= s.at <= now]
    if not used:
        return []
    intervals: list[SampleInterval] = []
    anchor = used[0]
    for sample in used[1:]:
        if sample.segment != anchor.segment:
            anchor = sample  # a top-up: what fell across it is unknown
            continue
        if sample.at - anchor.at < MIN_INTERVAL:
            continue
        hours = _hours(sample.at - anchor.at)
        modelled = (anchor.modelled_burn + sample.modelled_burn) / 2 * hours
        intervals.append(
            SampleInterval(anchor.at, sample.at, anchor.balance - sample.balance, modelled)
        )
        anchor = sample
    return intervals


@dataclass(frozen=True, slots=True)
class UnmodelledSpend:
    """The unmodelled part of the measured spending, split by whether it lasts.

    Attributes:
        lasting_per_hour: the unmodelled burn shown in each of the latest intervals
            (None: fewer than :data:`PERSISTENT_INTERVALS` intervals yet); never negative.
        spent: money gone beyond the model and the lasting burn, in the window: spent
            once, not a rate.
        spent_intervals: the intervals that spent it, ``(start, end, amount)``.
        intervals: intervals in the window.
    """

    lasting_per_hour: Decimal | None
    spent: Decimal
    spent_intervals: tuple[tuple[datetime, datetime, Decimal], ...]
    intervals: int

    def spent_when(self) -> str:
        """The intervals that spent money once, for the report: ``12:30-13:00 UTC``."""
        if not self.spent_intervals:
            return ""
        return ", ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e, _ in self.spent_intervals) + " UTC"


def split_unmodelled(
    samples: Sequence[BalanceSample], *, now: datetime, window: timedelta
) -> UnmodelledSpend:
    """Split what the model misses into a lasting burn and money spent once.

    Example (10/h modelled; a one-off 5 in the second half hour):
        >>> from datetime import UTC
        >>> from flows.low_balance.history import BalanceSample
        >>> t = datetime(2026, 1, 1, tzinfo=UTC)
        >>> m = Decimal(10)
        >>> samples = [
        ...     BalanceSample(t, Decimal(100), 0, m),
        ...     BalanceSample(t + timedelta(minutes=30), Decimal(95), 0, m),
        ...     BalanceSample(t + timedelta(minutes=60), Decimal(85), 0, m),
        ...     BalanceSample(t + timedelta(minutes=90), Decimal(80), 0, m),
        ... ]
        >>> split = split_unmodelled(samples, now=samples[-1].at, window=timedelta(hours=6))
        >>> split.lasting_per_hour, split.spent.normalize(), split.spent_when()
        (Decimal('0'), Decimal('5'), '00:30-01:00 UTC')
    """
    intervals = sample_intervals(samples, now=now, window=window)
    latest = intervals[-PERSISTENT_INTERVALS:]
    lasting: Decimal | None = None
    if len(latest) == PERSISTENT_INTERVALS:
        lasting = max(Decimal(0), min(i.excess_per_hour for i in latest))
    baseline = lasting or Decimal(0)
    spent: list[tuple[datetime, datetime, Decimal]] = []
    for interval in intervals:
        above = interval.excess_per_hour - baseline
        noise = NOISE_FRACTION * interval.modelled / interval.hours
        if above > noise:
            spent.append((interval.start, interval.end, above * interval.hours))
    total = sum((amount for _, _, amount in spent), Decimal(0))
    return UnmodelledSpend(lasting, total, tuple(spent), len(intervals))
