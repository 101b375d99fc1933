"""Turning single "idle now" observations (the ssh probe) into evidence over a window.

One nvidia-smi sample says nothing about the last hour. The recipe keeps, per instance,
the current *idle streak*: consecutive idle observations, each at most the probe's gap
tolerance after the previous one. A busy observation, a failed one, or too long a pause
between two ends the streak. The streak then reads as window evidence: it covers the
window when it started no later than one tolerance after the window's start, so with
runs every 15 minutes, a 60-minute window and a 20-minute tolerance an instance must be
seen idle on four consecutive runs. Everything here is pure.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tasks.probes.base import UtilizationEvidence

__all__ = ["IdleStreak", "below_thresholds", "extend_streak"]


class IdleStreak(BaseModel):
    """Consecutive idle observations of one instance.

    Attributes:
        since: the first idle observation.
        last_seen: the latest idle observation.
        observations: how many.
        max_util_pct: the peak utilisation seen during the streak.
        util_sum: the sum of the observations' utilisation (for the average).
        max_memory_mib: the peak GPU memory seen during the streak.
        largest_gap_seconds: the longest time between two of its observations.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    since: AwareDatetime
    last_seen: AwareDatetime
    observations: int = Field(ge=1)
    max_util_pct: float
    util_sum: float
    max_memory_mib: float | None = None
    largest_gap_seconds: float = Field(default=0, ge=0)


def below_thresholds(
    evidence: UtilizationEvidence, *, util_threshold_pct: float, memory_threshold_mib: float
) -> bool:
    """True when the evidence's peaks are under both thresholds (unknown peaks are not)."""
    if evidence.max_util_pct is None or evidence.max_util_pct >= util_threshold_pct:
        return False
    return evidence.max_memory_mib is None or evidence.max_memory_mib < memory_threshold_mib


def _start(sample: UtilizationEvidence, now: datetime) -> IdleStreak:
    util = sample.max_util_pct or 0.0
    return IdleStreak(
        since=now,
        last_seen=now,
        observations=1,
        max_util_pct=util,
        util_sum=util,
        max_memory_mib=sample.max_memory_mib,
    )


def _extend(streak: IdleStreak, sample: UtilizationEvidence, now: datetime) -> IdleStreak:
    util = sample.max_util_pct or 0.0
    memories = [m for m in (streak.max_memory_mib, sample.max_memory_mib) if m is not None]
    return IdleStreak(
        since=streak.since,
        last_seen=now,
        observations=streak.observations + 1,
        max_util_pct=max(streak.max_util_pct, util),
        util_sum=streak.util_sum + util,
        max_memory_mib=max(memories) if memories else None,
        largest_gap_seconds=max(
            streak.largest_gap_seconds, (now - streak.last_seen).total_seconds()
        ),
    )


def extend_streak(
    streak: IdleStreak | None,
    sample: UtilizationEvidence,
    *,
    util_threshold_pct: float,
    memory_threshold_mib: float,
) -> tuple[IdleStreak | None, UtilizationEvidence]:
    """Add one observation to an instance's streak; return the new streak and the evidence.

    The evidence returned for an idle observation spans the streak (so the window rules
    judge it); for a failed or busy observation it is the observation itself (the rules
    call it a probe failure or busy) and the streak ends. A repeated evaluation time adds
    nothing (a rerun is not a second observation).
    """
    now = sample.window_end
    if sample.error or sample.sample_count == 0:
        return None, sample
    if not below_thresholds(
        sample, util_threshold_pct=util_threshold_pct, memory_threshold_mib=memory_threshold_mib
    ):
        return None, sample
    tolerance = sample.gap_tolerance_seconds
    if streak is not None and streak.last_seen == now:
        current = streak
    elif streak is not None and 0 < (now - streak.last_seen).total_seconds() <= tolerance:
        current = _extend(streak, sample, now)
    else:
        current = _start(sample, now)
    leading = max(0.0, (current.since - sample.window_start).total_seconds())
    evidence = sample.model_copy(
        update={
            "sample_count": current.observations,
            "covered_from": current.since,
            "covered_to": current.last_seen,
            "largest_gap_seconds": max(current.largest_gap_seconds, leading),
            "max_util_pct": current.max_util_pct,
            "avg_util_pct": current.util_sum / current.observations,
            "max_memory_mib": current.max_memory_mib,
        }
    )
    return current, evidence
