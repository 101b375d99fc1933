"""The measured burn: how fast the balance actually fell, from samples kept between runs.

Each run appends one sample ``(time, balance, segment, modelled burn)``. A balance that
*rose* since the previous sample means a top-up (or a refund): the sample starts a new
segment, so a top-up never reads as negative spending. The estimate is a least-squares
slope pooled over the segments in the window (each segment keeps its own intercept, all
share one slope), which uses every sample, shrugs off the per-minute posting steps, and
needs no sample to sit exactly at a segment's edge.

``modelled burn`` is what the fleet model said at each sample. Its mean over the same
samples tells how much of the pooled slope the model explains. The slope is shown, but
one burst dominates it, so the runway never uses it: what the model misses is split per
sample interval into a *lasting* unmodelled burn and money *spent once*
(:mod:`flows.low_balance.unmodelled`), and only the lasting part is burn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from flows.low_balance.unmodelled import UnmodelledSpend, split_unmodelled

__all__ = [
    "BalanceSample",
    "MeasuredBurn",
    "append_sample",
    "exact_seconds",
    "measure_burn",
    "measure_previous_run",
]

_HOUR: Final = Decimal(3600)


def exact_seconds(delta: timedelta) -> Decimal:
    """A duration in seconds, exactly (microseconds included, no float)."""
    whole = Decimal(delta.days * 86400 + delta.seconds)
    return whole + Decimal(delta.microseconds).scaleb(-6)


@dataclass(frozen=True, slots=True)
class BalanceSample:
    """The balance as one run saw it.

    Attributes:
        at: when it was read (the run's evaluation time).
        balance: the balance, exact.
        segment: increases by one at every top-up (the balance rose since the sample before).
        modelled_burn: the fleet model's burn per hour at that time.
    """

    at: datetime
    balance: Decimal
    segment: int
    modelled_burn: Decimal


def append_sample(
    samples: Sequence[BalanceSample],
    *,
    at: datetime,
    balance: Decimal,
    modelled_burn: Decimal,
    keep: timedelta,
    max_samples: int,
) -> list[BalanceSample]:
    """The history with a new sample: older than ``keep`` dropped, at most ``max_samples``.

    Samples at or after ``at`` are dropped first: a rerun of the same instant replaces
    its sample, and a clock that went back (a reset simulator) starts a fresh history
    instead of mixing two timelines.
    """
    if max_samples < 2:
        raise ValueError("max_samples must be at least 2")
    kept = [s for s in samples if s.at < at]
    previous = kept[-1] if kept else None
    if previous is None:
        segment = 0
    elif balance > previous.balance:
        segment = previous.segment + 1
    else:
        segment = previous.segment
    kept.append(BalanceSample(at, balance, segment, modelled_burn))
    cutoff = at - keep
    kept = [s for s in kept if s.at >= cutoff]
    return kept[-max_samples:]


@dataclass(frozen=True, slots=True)
class MeasuredBurn:
    """The burn the balance history shows, or why there is none yet.

    Attributes:
        per_hour: the measured burn (None until the history is long enough).
        modelled_per_hour: the fleet model's mean burn over the same samples.
        samples: samples used.
        segments: segments they fall in (top-ups + 1).
        span: the time the segments cover together.
        note: how it was measured, or why it was not.
        unmodelled: what the model misses, split into a lasting burn and money spent
            once (None until the history is long enough).
    """

    per_hour: Decimal | None
    modelled_per_hour: Decimal | None
    samples: int
    segments: int
    span: timedelta
    note: str
    unmodelled: UnmodelledSpend | None = None

    @property
    def lasting_unmodelled_per_hour(self) -> Decimal | None:
        """The unmodelled burn shown in each of the latest intervals (what the runway adds)."""
        return None if self.unmodelled is None else self.unmodelled.lasting_per_hour

    @property
    def unmodelled_per_hour(self) -> Decimal | None:
        """Pooled slope minus modelled: a burst inflates it, so it is shown, never used."""
        if self.per_hour is None or self.modelled_per_hour is None:
            return None
        return self.per_hour - self.modelled_per_hour


def measure_burn(
    samples: Sequence[BalanceSample],
    *,
    now: datetime,
    window: timedelta,
    min_span: timedelta,
) -> MeasuredBurn:
    """Estimate the burn per hour from the samples of the last ``window`` before ``now``.

    Args:
        samples: the history, oldest first.
        now: the evaluation time; later samples are ignored.
        window: how far back to look.
        min_span: the least time the segments must cover together for an estimate.

    Returns:
        The pooled least-squares burn (never negative: within a segment the balance only
        falls) with the split of what the model misses, or ``per_hour=None`` with the
        reason.
    """
    used = [s for s in samples if now - window <= s.at <= now]
    by_segment: dict[int, list[BalanceSample]] = {}
    for sample in used:
        by_segment.setdefault(sample.segment, []).append(sample)
    span = sum(
        (group[-1].at - group[0].at for group in by_segment.values()),
        timedelta(0),
    )
    hours = window.total_seconds() / 3600
    if span < min_span or span <= timedelta(0):
        return MeasuredBurn(
            None,
            None,
            len(used),
            len(by_segment),
            span,
            f"not enough history yet: {len(used)} sample(s) covering "
            f"{span.total_seconds() / 60:.0f} min of the last {hours:g} h "
            f"(needs {min_span.total_seconds() / 60:.0f} min between top-ups)",
        )
    sxx = Decimal(0)
    sxy = Decimal(0)
    origin = used[0].at
    for group in by_segment.values():
        xs = [exact_seconds(s.at - origin) for s in group]
        ys = [s.balance for s in group]
        mean_x = sum(xs, Decimal(0)) / len(xs)
        mean_y = sum(ys, Decimal(0)) / len(ys)
        sxx += sum(((x - mean_x) ** 2 for x in xs), Decimal(0))
        sxy += sum(((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)), Decimal(0))
    per_hour = max(Decimal(0), -sxy / sxx * _HOUR)
    modelled = sum((s.modelled_burn for s in used), Decimal(0)) / len(used)
    top_ups = len(by_segment) - 1
    return MeasuredBurn(
        per_hour,
        modelled,
        len(used),
        len(by_segment),
        span,
        f"least squares over {len(used)} samples in the last {hours:g} h"
        + (f", {top_ups} top-up(s) set aside" if top_ups else ""),
        split_unmodelled(used, now=now, window=window),
    )


def measure_previous_run(
    samples: Sequence[BalanceSample], *, window: timedelta, min_span: timedelta
) -> tuple[BalanceSample, MeasuredBurn] | None:
    """The sample before the latest, and the burn measured as of it (the previous run's view).

    The protective plan takes a second look through it: the evidence the previous run had
    is recomputed from the stored samples, so nothing else needs to be kept between runs.
    """
    if len(samples) < 2:
        return None
    earlier = samples[:-1]
    previous = earlier[-1]
    return previous, measure_burn(earlier, now=previous.at, window=window, min_span=min_span)
