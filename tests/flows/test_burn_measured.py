"""The measured burn: samples, top-up segments, the pooled least-squares estimate."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.low_balance.history import (
    BalanceSample,
    append_sample,
    exact_seconds,
    measure_burn,
    measure_previous_run,
)
from tests.flows.test_low_balance_factories import T0, d

WINDOW = timedelta(hours=6)
MIN_SPAN = timedelta(minutes=30)


def history(
    points: list[tuple[int, str]], modelled: str = "0"
) -> list[BalanceSample]:  # (minutes after T0, balance)
    samples: list[BalanceSample] = []
    for minutes, balance in points:
        samples = append_sample(
            samples,
            at=T0 + timedelta(minutes=minutes),
            balance=d(balance),
            modelled_burn=d(modelled),
            keep=timedelta(hours=48),
            max_samples=150,
        )
    return samples


def measured_at(samples: list[BalanceSample], minutes: int) -> Decimal | None:
    return measure_burn(
        samples, now=T0 + timedelta(minutes=minutes), window=WINDOW, min_span=MIN_SPAN
    ).per_hour


def test_a_steady_burn_is_measured_exactly() -> None:
    samples = history([(0, "100"), (30, "95"), (60, "90"), (90, "85")])
    assert measured_at(samples, 90) == d("10")


def test_a_top_up_starts_a_new_segment_and_never_reads_as_income() -> None:
    samples = history([(0, "100"), (30, "95"), (60, "90"), (90, "185"), (120, "180")])
    assert [s.segment for s in samples] == [0, 0, 0, 1, 1]
    assert measured_at(samples, 120) == d("10")
    result = measure_burn(
        samples, now=T0 + timedelta(minutes=120), window=WINDOW, min_span=MIN_SPAN
    )
    assert "1 top-up(s) set aside" in result.note
    assert result.segments == 2


def test_a_one_off_charge_moves_the_pooled_slope_so_it_is_split_out_as_spent() -> None:
    # 10/h plus a one-off charge of 5 in the second half hour: least squares spreads it
    # over the window, so the slope is shown but the runway reads the split.
    samples = history([(0, "100"), (30, "95"), (60, "85"), (90, "80")], modelled="10")
    result = measure_burn(samples, now=T0 + timedelta(minutes=90), window=WINDOW, min_span=MIN_SPAN)
    assert result.per_hour == d("14")
    assert result.unmodelled is not None
    assert result.lasting_unmodelled_per_hour == 0
    assert result.unmodelled.spent == 5
    assert result.unmodelled.spent_intervals == (
        (T0 + timedelta(minutes=30), T0 + timedelta(minutes=60), d("5")),
    )


@pytest.mark.parametrize(
    ("points", "now", "why"),
    [
        ([], 0, "0 sample(s)"),
        ([(0, "100")], 0, "1 sample(s) covering 0 min"),
        ([(0, "100"), (20, "98")], 20, "covering 20 min"),
        # A top-up splits 21 minutes into two 10-minute segments: 20 min, not enough yet.
        ([(0, "100"), (10, "98"), (11, "150"), (21, "148")], 21, "covering 20 min"),
        # Old samples fall out of the 6-hour window.
        ([(0, "100"), (60, "90"), (420, "30")], 421, "1 sample(s)"),
    ],
)
def test_too_little_history_gives_no_estimate_and_says_why(
    points: list[tuple[int, str]], now: int, why: str
) -> None:
    result = measure_burn(
        history(points), now=T0 + timedelta(minutes=now), window=WINDOW, min_span=MIN_SPAN
    )
    assert result.per_hour is None
    assert result.unmodelled_per_hour is None
    assert "not enough history yet" in result.note
    assert why in result.note


def test_the_modelled_mean_tells_what_the_model_misses() -> None:
    samples = history([(0, "100"), (60, "88"), (120, "76")], modelled="10")
    result = measure_burn(samples, now=T0 + timedelta(hours=2), window=WINDOW, min_span=MIN_SPAN)
    assert result.per_hour == d("12")
    assert result.modelled_per_hour == d("10")
    assert result.unmodelled_per_hour == d("2")


def test_the_previous_run_is_measured_as_it_was_then() -> None:
    samples = history([(0, "100"), (30, "94"), (60, "88"), (90, "82"), (120, "72")], "10")
    found = measure_previous_run(samples, window=WINDOW, min_span=MIN_SPAN)
    assert found is not None
    previous, measured = found
    assert previous.at == T0 + timedelta(minutes=90)
    assert measured.lasting_unmodelled_per_hour == d(2)  # the 10 at 120 min is not in it
    assert measure_previous_run(samples[:1], window=WINDOW, min_span=MIN_SPAN) is None


def test_append_replaces_a_rerun_and_restarts_when_the_clock_goes_back() -> None:
    samples = history([(0, "100"), (30, "95")])
    rerun = append_sample(
        samples, at=T0 + timedelta(minutes=30), balance=d("94"), modelled_burn=d(0),
        keep=timedelta(hours=48), max_samples=150,
    )  # fmt: skip
    assert [(s.at, s.balance) for s in rerun] == [
        (T0, d("100")),
        (T0 + timedelta(minutes=30), d("94")),
    ]
    back = append_sample(
        samples, at=T0 - timedelta(hours=1), balance=d("500"), modelled_burn=d(0),
        keep=timedelta(hours=48), max_samples=150,
    )  # fmt: skip
    assert [(s.at, s.balance, s.segment) for s in back] == [(T0 - timedelta(hours=1), d(500), 0)]


def test_append_keeps_the_retention_and_the_cap() -> None:
    samples = history([(m, str(1000 - m)) for m in range(0, 60 * 60, 30)])  # 60 h, every 30 min
    assert samples[0].at == samples[-1].at - timedelta(hours=48)
    capped = append_sample(
        samples, at=samples[-1].at + timedelta(minutes=30), balance=d(1), modelled_burn=d(0),
        keep=timedelta(hours=48), max_samples=10,
    )  # fmt: skip
    assert len(capped) == 10
    assert capped[-1].balance == d(1)
    with pytest.raises(ValueError, match="max_samples"):
        append_sample([], at=T0, balance=d(1), modelled_burn=d(0), keep=WINDOW, max_samples=1)


def test_exact_seconds_keeps_microseconds() -> None:
    assert exact_seconds(timedelta(days=1, seconds=1, microseconds=5)) == d("86401.000005")


@settings(max_examples=150, deadline=None)
@given(
    burn_cents=st.integers(min_value=0, max_value=100_000),
    gaps=st.lists(st.integers(min_value=1, max_value=90), min_size=2, max_size=30),
    top_ups=st.lists(st.integers(min_value=0, max_value=10_000), min_size=2, max_size=30),
)
def test_a_constant_burn_is_recovered_whatever_the_top_ups_and_spacing(
    burn_cents: int, gaps: list[int], top_ups: list[int]
) -> None:
    """Constant burn, irregular samples, arbitrary top-ups between them: the estimate is
    the burn (to Decimal precision), and never negative."""
    burn = Decimal(burn_cents) / 100
    balance = Decimal(100_000)
    minutes = 0
    samples: list[BalanceSample] = []
    for gap, top_up in zip(gaps, top_ups, strict=False):
        samples = append_sample(
            samples, at=T0 + timedelta(minutes=minutes), balance=balance,
            modelled_burn=burn, keep=timedelta(hours=48), max_samples=150,
        )  # fmt: skip
        minutes += gap
        # A top-up only shows (as a rise) when it outweighs the spending in the gap.
        spent = burn * gap / 60
        balance = balance - spent + (spent + top_up if top_up % 3 == 0 and top_up else 0)
    result = measure_burn(
        samples,
        now=T0 + timedelta(minutes=minutes),
        window=timedelta(hours=48),
        min_span=timedelta(minutes=1),
    )
    if result.per_hour is None:
        assert result.span < timedelta(minutes=1)
        return
    assert result.per_hour >= 0
    assert abs(result.per_hour - burn) <= Decimal("1e-18") * max(burn, Decimal(1))
    assert result.unmodelled_per_hour is not None
    assert abs(result.unmodelled_per_hour) <= Decimal("1e-18") * max(burn, Decimal(1))


@settings(max_examples=150, deadline=None)
@given(
    balances=st.lists(st.decimals(min_value=0, max_value=10_000, places=4), min_size=2, max_size=30)
)
def test_the_measured_burn_is_never_negative(balances: list[Decimal]) -> None:
    samples = history([(30 * n, str(b)) for n, b in enumerate(balances)])
    result = measure_burn(
        samples,
        now=T0 + timedelta(minutes=30 * len(balances)),
        window=timedelta(hours=48),
        min_span=MIN_SPAN,
    )
    assert result.per_hour is None or result.per_hour >= 0
