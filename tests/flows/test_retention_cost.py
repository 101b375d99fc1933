"""What a retention policy costs: the kept snapshots at the fixed rate, and what pruning saves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.common.pricing import PriceIndex
from flows.nightly_snapshots.cost import RetentionCost, retention_cost
from simulator.seed_data import SNAPSHOT_RATE
from simulator.testing import SimHandle, running_simulator
from tests.helpers.nightly import run_nightly

USD = PriceIndex("USD", snapshot=Decimal("0.1"))


@pytest.mark.parametrize(
    ("kept", "pruned", "per_day", "per_month", "saved"),
    [
        (0, 0, "0", "0", "0"),
        (1, 0, "2.4", "73", "0"),
        # the "standard" preset at its fullest: 7 daily + 4 weekly + 6 monthly
        (17, 1, "40.8", "1241", "73"),
        (17, 3, "40.8", "1241", "219"),
    ],
)
def test_the_cost_is_the_kept_count_times_the_fixed_rate(
    kept: int, pruned: int, per_day: str, per_month: str, saved: str
) -> None:
    cost = retention_cost(USD, kept=kept, pruned=pruned)
    assert cost is not None
    assert cost.per_day == Decimal(per_day)
    assert cost.per_month == Decimal(per_month)
    assert cost.saved_per_month == Decimal(saved)


def test_no_snapshot_rate_means_no_figure_not_a_guess() -> None:
    assert retention_cost(PriceIndex("USD"), kept=5, pruned=1) is None


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="counts"):
        retention_cost(USD, kept=-1, pruned=0)


def test_the_line_names_currency_rate_day_month_and_saving() -> None:
    cost = retention_cost(PriceIndex("EUR", snapshot=Decimal("0.1")), kept=17, pruned=3)
    assert cost is not None
    assert cost.line() == (
        "retention cost: 17 kept snapshot(s) at EUR 0.10/h each = EUR 40.80/day, "
        "EUR 1,241.00/month; pruning 3 saves EUR 219.00/month"
    )
    assert "would save" in cost.line(dry_run=True)


@given(
    kept=st.integers(min_value=0, max_value=10_000),
    pruned=st.integers(min_value=0, max_value=10_000),
    rate=st.decimals(min_value=0, max_value=100, places=4),
)
def test_keeping_more_never_costs_less_and_the_figures_are_exact(
    kept: int, pruned: int, rate: Decimal
) -> None:
    index = PriceIndex("USD", snapshot=rate)
    cost = retention_cost(index, kept=kept, pruned=pruned)
    more = retention_cost(index, kept=kept + 1, pruned=pruned)
    assert cost is not None
    assert more is not None
    assert more.per_month >= cost.per_month
    assert cost.per_month == rate * kept * 730
    assert cost.per_day * 730 == cost.per_month * 24


START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_sim() -> Iterator[SimHandle]:
    with running_simulator("demo", seed=1, start=START) as sim:
        yield sim


@pytest.mark.usefixtures("prefect_harness")
def test_the_nightly_report_prices_the_kept_snapshots_from_the_api(
    demo_sim: SimHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo_sim.reset()
    demo_sim.top_up("100000")
    monkeypatch.setenv("BARRACK_API_KEY", demo_sim.api_key)
    report = run_nightly(demo_sim)
    assert isinstance(report.cost, RetentionCost)
    kept = sum(i.kept for i in report.instances)
    assert kept > 0
    rate = SNAPSHOT_RATE[report.cost.currency]
    assert report.cost.rate_per_snapshot_hour == rate
    assert report.cost.per_month == rate * kept * 730
    assert report.cost.pruned == report.deleted_count()
    assert "retention cost:" in report.markdown()
