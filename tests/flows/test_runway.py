"""Runway, its basis, the thresholds and the levels they give, per currency."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from flows.common.runway import HORIZON, compute_runway
from flows.low_balance.history import BalanceSample, MeasuredBurn, append_sample, measure_burn
from flows.low_balance.runway import NOISE_FRACTION, runway_burn
from flows.low_balance.thresholds import (
    BalanceThreshold,
    Thresholds,
    assess,
    top_up_to_clear,
)
from flows.low_balance.unmodelled import sample_intervals, split_unmodelled
from notifications import Severity
from tests.flows.test_low_balance_factories import T0, d

W, C = Severity.WARNING, Severity.CRITICAL
MIN_SPAN = timedelta(minutes=30)


@pytest.mark.parametrize(
    ("balance", "burn", "hours", "depletion"),
    [
        ("100", "4", "25", T0 + timedelta(hours=25)),
        ("1489.92", "31.04", "48", T0 + timedelta(hours=48)),
        # 10 / 3 h = 3 h 20 min exactly: the depletion time rounds up to the second.
        ("10", "3", None, T0 + timedelta(hours=3, minutes=20)),
        ("0", "4", "0", T0),
        ("-2.50", "4", "0", T0),
        ("100", "0", None, None),
        # Beyond ten years: a runway, but no depletion time.
        ("1000000", "0.01", "100000000", None),
    ],
)
def test_runway_and_depletion(
    balance: str, burn: str, hours: str | None, depletion: object
) -> None:
    runway = compute_runway(d(balance), d(burn), T0, "basis")
    if hours is not None:
        assert runway.hours == d(hours)
    elif d(burn) == 0:
        assert runway.hours is None
    else:
        assert runway.hours == d(balance) / d(burn)
    assert runway.depletion_at == depletion


def test_runway_rejects_a_negative_burn() -> None:
    with pytest.raises(ValueError, match="burn_per_hour: must not be negative"):
        compute_runway(d(1), d(-1), T0, "x")


def test_the_runway_duration_is_capped_at_the_horizon() -> None:
    runway = compute_runway(d("1e30"), d("1e-10"), T0, "x")
    assert runway.duration == HORIZON
    assert runway.depletion_at is None


def reading(spends: list[str], modelled: str = "10", minutes: int = 30) -> MeasuredBurn:
    """The burn measured after a sample every ``minutes``; ``spends[i]``: the balance's fall
    in interval ``i`` (negative: a top-up); the fleet model said ``modelled`` at each."""
    samples: list[BalanceSample] = []
    balance = d(1000)
    for n in range(len(spends) + 1):
        if n:
            balance -= d(spends[n - 1])
        samples = append_sample(
            samples, at=T0 + timedelta(minutes=minutes * n), balance=balance,
            modelled_burn=d(modelled), keep=timedelta(hours=48), max_samples=150,
        )  # fmt: skip
    return measure_burn(
        samples, now=samples[-1].at, window=timedelta(hours=6), min_span=timedelta(minutes=30)
    )


@pytest.mark.parametrize(
    ("fleet", "spends", "modelled", "burn", "basis_part"),
    [
        ("10", [], "10", "10", "no measured burn yet"),
        ("10", ["5", "5"], "10", "10", "too few sample intervals (2 of 3)"),
        # The model explains the history: its own figure.
        ("10", ["5", "5", "5"], "10", "10", "accounts for the measured burn"),
        ("10", ["5.02", "5.02", "5.02"], "10", "10", "accounts for"),  # within 1 %: noise
        # The history shows 2/h the model misses in every interval: added.
        ("10", ["6", "6", "6"], "10", "12", "+ 2.00/h"),
        # ... at the least it shows in any of the last three.
        ("10", ["6", "7", "6.5"], "10", "12", "+ 2.00/h"),
        ("10", ["9", "6", "7", "6.5"], "10", "12", "+ 2.00/h"),
        # A 25-minute burst in one interval (8.30): spent once, not a burn.
        ("10", ["5", "5", "5", "13.30", "5"], "10", "10", "8.30 spent once between samples"),
        ("10", ["5", "5", "5", "5", "13.30"], "10", "10", "8.30 spent once"),
        # ... nor when it straddles a sample and lands in two intervals.
        ("10", ["5", "5", "9", "9.30", "5"], "10", "10", "8.30 spent once"),
        # A charge in all three latest intervals is a burn; once it stops, it is not.
        ("10", ["5", "15", "15", "15"], "10", "30", "+ 20.00/h"),
        ("10", ["5", "15", "15", "15", "5"], "10", "10", "30.00 spent once"),
        # The fleet shrank (a hibernation) after a costly window: the model follows at once
        # and the lagging measurement does not drag the runway down.
        ("4", ["4.5", "4.5", "4.5"], "9", "4", "accounts for"),
        # The fleet grew: the model follows at once.
        ("20", ["5", "5", "5"], "10", "20", "accounts for"),
        # Nothing priced, yet money goes: what the history shows is the burn.
        ("0", ["1.5", "1.5", "1.5"], "0", "3", "+ 3.00/h"),
        # A top-up splits the history; what fell across it is not read.
        ("10", ["6", "6", "-500", "6", "6", "6"], "10", "12", "+ 2.00/h"),
        ("10", ["6", "6", "6", "-500", "6"], "10", "12", "+ 2.00/h"),
    ],
)
def test_the_burn_the_runway_uses(
    fleet: str, spends: list[str], modelled: str, burn: str, basis_part: str
) -> None:
    per_hour, basis = runway_burn(d(fleet), reading(spends, modelled))
    assert per_hour == d(burn)
    assert basis_part in basis


def test_a_rerun_minutes_later_does_not_make_an_interval_of_its_own() -> None:
    samples: list[BalanceSample] = []
    for minutes, balance in [(0, "100"), (30, "94"), (60, "88"), (61, "88"), (90, "82")]:
        samples = append_sample(
            samples, at=T0 + timedelta(minutes=minutes), balance=d(balance),
            modelled_burn=d(10), keep=timedelta(hours=48), max_samples=150,
        )  # fmt: skip
    intervals = sample_intervals(samples, now=samples[-1].at, window=timedelta(hours=6))
    assert [i.excess_per_hour for i in intervals] == [d(2), d(2), d(2)]
    assert runway_burn(d(10), reading(["6", "6", "6"]))[0] == d(12)


STEADY = st.decimals(min_value=Decimal("0"), max_value=Decimal("50"), places=2)
MODEL = st.decimals(min_value=Decimal("0"), max_value=Decimal("200"), places=2)
GAPS = st.lists(st.integers(min_value=10, max_value=120), min_size=1, max_size=16)
TOLERANCE = Decimal("1e-20")


def history_of(gaps: list[int], modelled: Decimal, excess: list[Decimal]) -> list[BalanceSample]:
    """Samples ``gaps`` minutes apart; interval ``i`` spends the model's share + ``excess[i]``."""
    samples: list[BalanceSample] = []
    balance = Decimal(100_000)
    at = T0
    samples.append(BalanceSample(at, balance, 0, modelled))
    for gap, extra in zip(gaps, excess, strict=True):
        at += timedelta(minutes=gap)
        balance -= modelled * gap / 60 + extra
        samples.append(BalanceSample(at, balance, 0, modelled))
    return samples


@settings(max_examples=200, deadline=None)
@given(
    modelled=MODEL,
    steady=STEADY,
    gaps=GAPS,
    burst=st.decimals(min_value=Decimal("0"), max_value=Decimal("10000"), places=2),
    where=st.integers(min_value=0),
    straddles=st.booleans(),
)
def test_a_burst_in_fewer_than_three_intervals_never_raises_the_runway_burn(
    modelled: Decimal, steady: Decimal, gaps: list[int], burst: Decimal, where: int,
    straddles: bool,
) -> None:  # fmt: skip
    """Whatever its size and place (one interval, or two when it straddles a sample), a
    burst adds nothing to the runway's burn beyond the steady unmodelled burn; it is
    reported as spent instead."""
    excess = [steady * gap / 60 for gap in gaps]
    first = where % len(gaps)
    hit = [first, first + 1] if straddles and first + 1 < len(gaps) else [first]
    for i in hit:
        excess[i] += burst / len(hit)
    samples = history_of(gaps, modelled, excess)
    now = samples[-1].at
    measured = measure_burn(samples, now=now, window=timedelta(hours=48), min_span=MIN_SPAN)
    per_hour, _ = runway_burn(modelled, measured)
    assert per_hour <= modelled + steady + TOLERANCE
    split = split_unmodelled(samples, now=now, window=timedelta(hours=48))
    if split.lasting_per_hour is None:  # too few intervals to tell: all of it is "spent"
        assert split.spent <= sum(excess, Decimal(0)) + TOLERANCE
    else:
        assert abs(split.lasting_per_hour - steady) < TOLERANCE
        assert split.spent <= burst + TOLERANCE


@settings(max_examples=200, deadline=None)
@given(
    modelled=MODEL,
    steady=STEADY,
    gaps=st.lists(st.integers(min_value=10, max_value=120), min_size=3, max_size=16),
    extra=st.lists(
        st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2),
        min_size=16, max_size=16,
    ),
)  # fmt: skip
def test_a_steady_unmodelled_burn_in_every_interval_is_always_counted(
    modelled: Decimal, steady: Decimal, gaps: list[int], extra: list[Decimal]
) -> None:
    """An unmodelled burn in every interval (whatever else comes on top) is in the
    runway's burn as soon as three intervals show it, unless it is noise (1 %)."""
    excess = [steady * gap / 60 + more for gap, more in zip(gaps, extra, strict=False)]
    samples = history_of(gaps, modelled, excess)
    now = samples[-1].at
    measured = measure_burn(samples, now=now, window=timedelta(hours=48), min_span=MIN_SPAN)
    per_hour, basis = runway_burn(modelled, measured)
    if steady > modelled * NOISE_FRACTION:
        assert per_hour >= modelled + steady - TOLERANCE, basis
    assert per_hour >= modelled


@pytest.mark.parametrize(
    ("currency", "balance", "hours", "severity", "crossings"),
    [
        ("USD", "500", "100", None, []),
        ("USD", "500", "71.9", W, ["runway below 72 h"]),
        ("USD", "500", "23.9", C, ["runway below 72 h", "runway below 24 h"]),
        ("USD", "49.99", "100", W, ["balance below USD 50"]),
        ("USD", "50", "100", None, []),  # strictly below fires
        ("USD", "9", "500", C, ["balance below USD 50", "balance below USD 10"]),
        ("EUR", "40", None, W, ["balance below EUR 50"]),  # nothing burns: no runway test
        ("INR", "4999", "100", W, ["balance below INR 5000"]),
        ("INR", "999", "100", C, ["balance below INR 5000", "balance below INR 1000"]),
        ("INR", "60", "100", C, ["balance below INR 5000", "balance below INR 1000"]),
        ("USD", "0", "0", C, [
            "balance exhausted: instances are stopped", "balance below USD 50",
            "balance below USD 10", "runway below 72 h", "runway below 24 h",
        ]),
        ("GBP", "1", "100", None, []),  # no default balance thresholds for GBP
    ],
)  # fmt: skip
def test_default_levels_per_currency(
    currency: str, balance: str, hours: str | None, severity: Severity | None, crossings: list[str]
) -> None:
    result = assess(
        balance=d(balance),
        runway_hours=None if hours is None else d(hours),
        currency=currency,
        thresholds=Thresholds(),
    )
    assert result.severity is severity
    assert [c.text for c in result.crossings] == crossings


def test_levels_split_by_measure() -> None:
    result = assess(balance=d(40), runway_hours=d(20), currency="USD", thresholds=Thresholds())
    assert result.severity_of("balance") is W
    assert result.severity_of("runway") is C
    assert result.severity is C


def test_custom_thresholds_replace_the_defaults_and_empty_lists_switch_them_off() -> None:
    custom = Thresholds(
        balance=[BalanceThreshold(below=d(1000), severity=Severity.INFO)],
        runway=[],
    )
    result = assess(balance=d(999), runway_hours=d(1), currency="USD", thresholds=custom)
    assert result.severity is Severity.INFO
    assert [c.text for c in result.crossings] == ["balance below USD 1000"]
    assert custom.describe("USD") == ["balance below USD 1000: info"]
    assert Thresholds().describe("GBP")[-1] == (
        "no default balance thresholds for GBP: set them explicitly"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"runway": [{"below_hours": 24, "severity": "warning"},
                        {"below_hours": 72, "severity": "critical"}]},
            "thresholds.runway: below 24 is warning but below 72 is critical",
        ),
        (
            {"balance": [{"below": 10, "severity": "warning"},
                         {"below": 10, "severity": "critical"}]},
            "thresholds.balance: 10 appears twice",
        ),
        ({"balance": [{"below": 0, "severity": "warning"}]}, "greater than 0"),
        ({"runway": [{"below_hours": 5, "severity": "urgent"}]}, "severity"),
        ({"runway": [{"below_hours": 5, "severity": "warning", "colour": "red"}]}, "colour"),
    ],
)  # fmt: skip
def test_bad_thresholds_name_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Thresholds.model_validate(data)


@pytest.mark.parametrize(
    ("currency", "balance", "burn", "top_up"),
    [
        ("USD", "30", "2", "162"),  # 72 h + a day's margin needs 192
        ("USD", "30", "0", "20"),  # nothing burns: the balance floor
        ("USD", "500", "1", "0"),  # clear for more than a day already
        ("INR", "900", "10", "4340"),  # INR floor 5000 plus a day's 240 beats 960
        ("USD", "0", "0", "50"),
        ("USD", "-5.50", "1", "102"),  # 96 - (-5.50) = 101.50, rounded up
        ("GBP", "0", "0", "1"),  # no thresholds at all: just above zero
    ],
)
def test_top_up_to_clear_for_a_day(currency: str, balance: str, burn: str, top_up: str) -> None:
    amount = top_up_to_clear(
        balance=d(balance), burn_per_hour=d(burn), currency=currency, thresholds=Thresholds()
    )
    assert amount == d(top_up)
    for hours in (0, 24):  # clear now, and still clear a day later at this burn
        later = d(balance) + amount - d(burn) * hours
        after = assess(
            balance=later,
            runway_hours=None if d(burn) == 0 else later / d(burn),
            currency=currency,
            thresholds=Thresholds(),
        )
        assert after.severity is None, (hours, after.crossings)


AMOUNTS = st.decimals(min_value=Decimal("-100"), max_value=Decimal("100000"), places=2)
BURNS = st.decimals(min_value=Decimal("0"), max_value=Decimal("500"), places=4)


@settings(max_examples=200, deadline=None)
@given(low=AMOUNTS, high=AMOUNTS, burn=BURNS, currency=st.sampled_from(["USD", "EUR", "INR"]))
def test_less_money_is_never_a_milder_level(
    low: Decimal, high: Decimal, burn: Decimal, currency: str
) -> None:
    low, high = min(low, high), max(low, high)
    levels = []
    for balance in (low, high):
        runway = compute_runway(balance, burn, T0, "x")
        result = assess(
            balance=balance, runway_hours=runway.hours, currency=currency, thresholds=Thresholds()
        )
        levels.append(result.severity.rank if result.severity else -1)
        if runway.hours is not None and burn:
            assert runway.hours == max(Decimal(0), balance / burn)
    assert levels[0] >= levels[1]
