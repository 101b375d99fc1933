"""Runway, its basis, the thresholds and the levels they give, per currency."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from flows.common.runway import HORIZON, compute_runway
from flows.low_balance.history import MeasuredBurn
from flows.low_balance.runway import runway_burn
from flows.low_balance.thresholds import (
    BalanceThreshold,
    Thresholds,
    assess,
    top_up_to_clear,
)
from notifications import Severity
from tests.flows.test_low_balance_factories import T0, d

W, C = Severity.WARNING, Severity.CRITICAL


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


def measured(per_hour: str | None, modelled: str | None) -> MeasuredBurn:
    return MeasuredBurn(
        None if per_hour is None else d(per_hour),
        None if modelled is None else d(modelled),
        5,
        1,
        timedelta(hours=2),
        "test",
    )


@pytest.mark.parametrize(
    ("fleet", "reading", "burn", "basis_part"),
    [
        ("10", measured(None, None), "10", "no measured burn yet"),
        # The model explains the history: its own figure.
        ("10", measured("10", "10"), "10", "accounts for the measured burn"),
        ("10", measured("10.05", "10"), "10", "accounts for"),  # within 1 %: noise
        # The history shows 2/h the model misses: added.
        ("10", measured("12", "10"), "12", "+ 2.0000/h"),
        # The fleet shrank (a hibernation) after a costly window: the model follows at once
        # and the lagging measurement does not drag the runway down.
        ("4", measured("9", "9"), "4", "accounts for"),
        # The fleet grew: the model follows at once.
        ("20", measured("10", "10"), "20", "accounts for"),
        # Nothing priced, yet money goes: the measurement is the burn.
        ("0", measured("3", "0"), "3", "+ 3.0000/h"),
    ],
)
def test_the_burn_the_runway_uses(
    fleet: str, reading: MeasuredBurn, burn: str, basis_part: str
) -> None:
    per_hour, basis = runway_burn(d(fleet), reading)
    assert per_hour == d(burn)
    assert basis_part in basis


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
