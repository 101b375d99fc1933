"""Single ssh observations become window evidence only over consecutive idle runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.hibernate_idle.rules import IdleRules, IdleVerdict, judge_evidence
from flows.hibernate_idle.streaks import IdleStreak, extend_streak
from tasks.probes import UtilizationEvidence

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=60)
TOLERANCE = 20 * 60
RULES = IdleRules(
    util_threshold_pct=5,
    memory_threshold_mib=1024,
    window=WINDOW,
    min_uptime=timedelta(0),
    grace=timedelta(minutes=30),
)


def sample(
    at: datetime, util: float = 1.0, memory: float = 300, error: str | None = None
) -> UtilizationEvidence:
    if error:
        return UtilizationEvidence(
            instance_id="BRK-SSH0001",
            probe="ssh",
            window_start=at - WINDOW,
            window_end=at,
            error=error,
        )
    return UtilizationEvidence(
        instance_id="BRK-SSH0001",
        probe="ssh",
        window_start=at - WINDOW,
        window_end=at,
        sample_count=1,
        covered_from=at,
        covered_to=at,
        gap_tolerance_seconds=TOLERANCE,
        max_util_pct=util,
        avg_util_pct=util,
        max_memory_mib=memory,
    )


def run(observations: list[UtilizationEvidence]) -> tuple[IdleStreak | None, UtilizationEvidence]:
    streak: IdleStreak | None = None
    seen = observations[0]
    for observation in observations:
        streak, seen = extend_streak(
            streak, observation, util_threshold_pct=5, memory_threshold_mib=1024
        )
    return streak, seen


def every(minutes: int, count: int, **kwargs: float) -> list[UtilizationEvidence]:
    return [sample(T0 + timedelta(minutes=minutes * i), **kwargs) for i in range(count)]


@pytest.mark.parametrize(
    ("case", "observations", "verdict"),
    [
        ("one idle observation is not a window", every(15, 1), IdleVerdict.NO_DATA),
        ("three idle runs span 30 min of 60", every(15, 3), IdleVerdict.NO_DATA),
        ("four idle runs, 15 min apart, cover the window", every(15, 4), IdleVerdict.WARN),
        ("five idle runs", every(15, 5), IdleVerdict.WARN),
        (
            "a pause longer than the tolerance restarts the streak",
            [*every(15, 3), sample(T0 + timedelta(minutes=75))],
            IdleVerdict.NO_DATA,
        ),
        (
            "a busy observation ends the streak",
            [*every(15, 4), sample(T0 + timedelta(minutes=60), util=90)],
            IdleVerdict.BUSY,
        ),
        (
            "a busy observation earlier means the streak restarts",
            [sample(T0, util=90), *every(15, 4)[1:]],
            IdleVerdict.NO_DATA,
        ),
        (
            "memory held ends it too",
            [*every(15, 4), sample(T0 + timedelta(minutes=60), memory=20_000)],
            IdleVerdict.BUSY,
        ),
        (
            "a failed observation counts as busy",
            [*every(15, 4), sample(T0 + timedelta(minutes=60), error="timed out")],
            IdleVerdict.PROBE_FAILED,
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_streak_table(
    case: str, observations: list[UtilizationEvidence], verdict: IdleVerdict
) -> None:
    _, seen = run(observations)
    assert judge_evidence(seen, RULES)[0] is verdict


def test_streak_evidence_spans_the_streak() -> None:
    streak, seen = run([sample(T0, util=0.5), sample(T0 + timedelta(minutes=15), util=3.5)])
    assert streak is not None
    assert streak.observations == 2
    assert seen.covered_from == T0
    assert seen.max_util_pct == 3.5
    assert seen.avg_util_pct == pytest.approx(2.0)
    assert seen.sample_count == 2


def test_a_rerun_at_the_same_time_is_not_another_observation() -> None:
    streak, _ = run([sample(T0), sample(T0), sample(T0)])
    assert streak is not None
    assert streak.observations == 1


@given(
    gaps=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=12),
    busy_at=st.integers(min_value=-1, max_value=12),
)
def test_idle_exactly_when_consecutive_idle_runs_cover_the_window(
    gaps: list[int], busy_at: int
) -> None:
    """Property: idle iff the last run is idle and the idle runs before it, none further
    apart than the tolerance, reach back to within one tolerance of the window's start."""
    times = [T0]
    for gap in gaps:
        times.append(times[-1] + timedelta(minutes=gap))
    _, seen = run([sample(t, util=90 if i == busy_at else 1) for i, t in enumerate(times)])

    last = len(times) - 1
    busy_at = busy_at if busy_at <= last else -1  # beyond the runs: no busy run
    first = last
    while first > busy_at + 1 and (times[first] - times[first - 1]).total_seconds() <= TOLERANCE:
        first -= 1
    window_start = times[last] - WINDOW
    expected = busy_at != last and (times[first] - window_start).total_seconds() <= TOLERANCE
    assert (judge_evidence(seen, RULES)[0] is IdleVerdict.WARN) == expected
