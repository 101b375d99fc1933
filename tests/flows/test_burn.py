"""The fleet burn model: every status, every price source, every currency, exact Decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barrack.models import Price, Snapshot, VMInstance, VMStatus, VolumeResponse, VolumeType
from flows.low_balance.burn import Category, Priced, fleet_burn, instance_rate
from flows.low_balance.rates import PriceIndex
from tests.flows.test_low_balance_factories import (
    d,
    make_price,
    make_snapshot,
    make_vm,
    make_volume,
    make_volume_type,
)

H100 = "H100-SXM5-80GB"
A6000 = "RTX-A6000"

USD_PRICES = [make_price(H100, "2.69"), make_price(A6000, "0.69")]


def index(
    currency: str = "USD",
    prices: list[Price] | None = None,
    volume_types: list[VolumeType] | None = None,
) -> PriceIndex:
    return PriceIndex.build(currency, USD_PRICES if prices is None else prices, volume_types or [])


@pytest.mark.parametrize(
    ("vm", "currency", "prices", "rate", "source", "category"),
    [
        # The instance's own price wins in the state it is in.
        (make_vm("a", hourly_price="2.69"), "USD", [], "2.69", "instance price", Category.ACTIVE),
        (make_vm("s", "SHUTOFF", hourly_price="2.69"), "USD", [], "2.69", "instance price",
         Category.STOPPED),
        (make_vm("h", "HIBERNATED", hourly_price="0.01"), "USD", [], "0.01", "instance price",
         Category.HIBERNATED),
        # Without it, the price list, scaled to the GPU count (exact).
        (make_vm("a8", gpu_count=8), "USD", USD_PRICES, "21.52", "price list", Category.ACTIVE),
        (make_vm("s2", "SHUTOFF", gpu_count=2), "USD", USD_PRICES, "5.38", "price list",
         Category.STOPPED),
        # A row quoted for exactly this count beats scaling the single-GPU row.
        (make_vm("a8q", gpu_count=8), "USD",
         [make_price(H100, "2.69"), make_price(H100, "20.00", gpu_count=8)], "20.00",
         "price list", Category.ACTIVE),
        # A 2-GPU quote scaled down to 1 GPU: 4.00 / 2.
        (make_vm("a1", gpu_count=1), "USD", [make_price(H100, "4.00", gpu_count=2)], "2.00",
         "price list", Category.ACTIVE),
        # Hibernated: the list's hibernated rate, else A3's rate per currency.
        (make_vm("h2", "HIBERNATED", gpu_count=8), "USD",
         [make_price(H100, "2.69", hibernated="0.02")], "0.02", "price list (hibernated)",
         Category.HIBERNATED),
        (make_vm("hu", "HIBERNATED", gpu_count=8), "USD", USD_PRICES, "0.01",
         "A3 hibernation rate", Category.HIBERNATED),
        (make_vm("he", "HIBERNATED"), "EUR", [], "0.01", "A3 hibernation rate",
         Category.HIBERNATED),
        (make_vm("hi", "HIBERNATED", gpu_count=4), "INR", [], "1.00", "A3 hibernation rate",
         Category.HIBERNATED),
        # Other currencies' list prices.
        (make_vm("ai", gpu_count=2), "INR", [make_price(H100, "239", currency="INR")], "478",
         "price list", Category.ACTIVE),
        (make_vm("ae", gpu_model=A6000), "EUR", [make_price(A6000, "0.45", currency="EUR")],
         "0.45", "price list", Category.ACTIVE),
        # An instance price in another currency cannot be deducted as it is: the list wins.
        (make_vm("x", hourly_price="2.49", currency="EUR"), "USD", USD_PRICES, "2.69",
         "price list", Category.ACTIVE),
        # A list price in another currency is ignored too (then the A3 rate applies).
        (make_vm("hx", "HIBERNATED"), "USD", [make_price(H100, "2.69", currency="EUR",
         hibernated="0.5")], "0.01", "A3 hibernation rate", Category.HIBERNATED),
    ],
)  # fmt: skip
def test_instance_charge_by_status_and_currency(
    vm: VMInstance,
    currency: str,
    prices: list[Price],
    rate: str,
    source: str,
    category: Category,
) -> None:
    burn = fleet_burn(index=index(currency, prices), instances=[vm])
    assert len(burn.charges) == 1
    charge = burn.charges[0]
    assert charge.per_hour == d(rate)
    assert charge.source == source
    assert charge.category is category
    assert burn.total == d(rate)
    assert burn.currency == currency


@pytest.mark.parametrize(
    ("status", "reason_part"),
    [
        ("CREATING", "transitional"),
        ("STOPPING", "transitional"),
        ("STARTING", "transitional"),
        ("REBOOTING", "transitional"),
        ("HIBERNATING", "transitional"),
        ("RESTORING", "transitional"),
        ("DELETING", "transitional"),
        ("DELETED", "DELETED: not billed"),
        ("ERROR", "A3 names no rate"),
        ("UNKNOWN", "A3 names no rate"),
        ("MIGRATING", "A3 names no rate"),  # a state added after this client
    ],
)
def test_states_that_pay_nothing(status: str, reason_part: str) -> None:
    vm = make_vm("t", status, hourly_price="2.69")
    burn = fleet_burn(index=index(), instances=[vm])
    assert burn.charges == ()
    assert burn.total == 0
    (uncharged,) = burn.uncharged
    assert reason_part in uncharged.reason
    assert not uncharged.unpriced


def test_an_instance_nobody_prices_is_listed_as_unpriced() -> None:
    vm = make_vm("mystery", gpu_model="B200-SXM6-192GB")
    burn = fleet_burn(index=index(), instances=[vm])
    assert burn.total == 0
    (unpriced,) = burn.unpriced
    assert unpriced.name == "mystery"
    assert "no price for 1x B200-SXM6-192GB in NORWAY-1" in unpriced.reason


@pytest.mark.parametrize(
    ("volume", "currency", "types", "rate", "source"),
    [
        (make_volume("own", 1000, hourly_price="0.1"), "USD", [], "0.1", "volume price"),
        (make_volume("typed", 500), "USD", [make_volume_type("standard", "0.1")], "0.05",
         "500 GB x 0.1/TB-h"),
        (make_volume("inr", 500), "INR", [make_volume_type("standard", "10", "INR")], "5",
         "500 GB x 10/TB-h"),
        (make_volume("boot", 120, volume_type="bootable"), "EUR",
         [make_volume_type("bootable", "0.1", "EUR")], "0.012", "120 GB x 0.1/TB-h"),
        # Volumes pay in every state (A3 gives no exception).
        (make_volume("busy", 10, hourly_price="0.001", status="IN_USE"), "USD", [], "0.001",
         "volume price"),
    ],
)  # fmt: skip
def test_volumes_by_size(
    volume: VolumeResponse, currency: str, types: list[VolumeType], rate: str, source: str
) -> None:
    burn = fleet_burn(index=index(currency, [], types), instances=[], volumes=[volume])
    (charge,) = burn.charges
    assert charge.category is Category.VOLUMES
    assert charge.per_hour == d(rate)
    assert charge.source == source


def test_a_volume_without_any_rate_is_unpriced() -> None:
    burn = fleet_burn(index=index(), instances=[], volumes=[make_volume("v", 100)])
    assert burn.total == 0
    assert [u.name for u in burn.unpriced] == ["v"]


@pytest.mark.parametrize(
    ("snapshot", "currency", "override", "rate"),
    [
        (make_snapshot("a", size_gb=100), "USD", None, "0.005"),  # 100 GB x 0.00005
        (make_snapshot("b", size_gb=100), "EUR", None, "0.005"),
        (make_snapshot("c", size_gb=100), "INR", None, "0.5"),  # 100 GB x 0.005
        (make_snapshot("d", size_gb=250), "USD", d("0.0001"), "0.025"),
        (make_snapshot("e", size_gb=1, status="available"), "USD", None, "0.00005"),
    ],
)
def test_ready_snapshots_by_stored_size(
    snapshot: Snapshot, currency: str, override: Decimal | None, rate: str
) -> None:
    burn = fleet_burn(
        index=index(currency, []),
        instances=[],
        snapshots=[snapshot],
        snapshot_rate_per_gb_hour=override,
    )
    (charge,) = burn.charges
    assert charge.category is Category.SNAPSHOTS
    assert charge.per_hour == d(rate)


@pytest.mark.parametrize(
    ("snapshot", "currency", "unpriced"),
    [
        (make_snapshot("creating", status="CREATING"), "USD", False),
        (make_snapshot("failed", status="ERROR"), "USD", False),
        (make_snapshot("sizeless", size_gb=None), "USD", True),
        (make_snapshot("gbp", size_gb=10), "GBP", True),  # no default rate for GBP
    ],
)
def test_snapshots_not_charged(snapshot: Snapshot, currency: str, unpriced: bool) -> None:
    burn = fleet_burn(index=index(currency, []), instances=[], snapshots=[snapshot])
    assert burn.charges == ()
    (uncharged,) = burn.uncharged
    assert uncharged.unpriced is unpriced


def test_a_whole_fleet_adds_up_exactly_by_category() -> None:
    burn = fleet_burn(
        index=index("USD", USD_PRICES, [make_volume_type("standard", "0.1")]),
        instances=[
            make_vm("train", gpu_count=8),  # 21.52
            make_vm("nb", gpu_model=A6000, hourly_price="0.69"),  # 0.69
            make_vm("render", "SHUTOFF", gpu_model=A6000, gpu_count=2),  # 1.38
            make_vm("old", "HIBERNATED", gpu_count=4),  # 0.01
            make_vm("going", "STOPPING", gpu_count=2),  # 0
        ],
        volumes=[make_volume("data", 1000), make_volume("scratch", 500)],  # 0.1 + 0.05
        snapshots=[make_snapshot("s1", size_gb=180), make_snapshot("s2", size_gb=20)],  # 0.01
    )
    assert burn.total == d("23.76")
    lines = {line.category: (line.per_hour, line.count) for line in burn.by_category()}
    assert lines == {
        Category.ACTIVE: (d("22.21"), 2),
        Category.STOPPED: (d("1.38"), 1),
        Category.HIBERNATED: (d("0.01"), 1),
        Category.VOLUMES: (d("0.15"), 2),
        Category.SNAPSHOTS: (d("0.01000"), 2),
    }
    assert burn.rate_of("BRK-TRAIN00") == d("21.52")
    assert [u.name for u in burn.uncharged] == ["going"]


def test_instance_rate_uses_its_own_price_only_for_a_state_billed_alike() -> None:
    idx = index("USD", [make_price(H100, "2.69", hibernated="0.02")])
    active = make_vm("a", hourly_price="2.50")
    assert instance_rate(active, VMStatus.ACTIVE, idx) == Priced(d("2.50"), "instance price")
    assert instance_rate(active, VMStatus.SHUTOFF, idx) == Priced(d("2.50"), "instance price")
    # Its 2.50 is the full rate, not what it would pay hibernated.
    assert instance_rate(active, VMStatus.HIBERNATED, idx) == Priced(
        d("0.02"), "price list (hibernated)"
    )
    hibernated = make_vm("h", "HIBERNATED", hourly_price="0.01")
    assert instance_rate(hibernated, VMStatus.ACTIVE, idx) == Priced(d("2.69"), "price list")
    with pytest.raises(ValueError, match="status: STOPPING has no rate"):
        instance_rate(active, VMStatus.STOPPING, idx)


STATUSES = ["ACTIVE", "SHUTOFF", "HIBERNATED", "STOPPING", "DELETED", "ERROR"]
PRICES = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2)


@settings(max_examples=150, deadline=None)
@given(
    fleet=st.lists(
        st.tuples(st.sampled_from(STATUSES), st.sampled_from([1, 2, 4, 8]), PRICES),
        max_size=25,
    ),
    currency=st.sampled_from(["USD", "EUR", "INR"]),
)
def test_burn_is_the_exact_sum_of_what_each_state_pays(
    fleet: list[tuple[str, int, Decimal]], currency: str
) -> None:
    """Each instance priced per GPU from the list: the total is exactly the sum of A3's rules."""
    hibernated = {"USD": d("0.01"), "EUR": d("0.01"), "INR": d("1.00")}[currency]
    instances = []
    prices = []
    expected = Decimal(0)
    for n, (status, count, per_gpu) in enumerate(fleet):
        model = f"GPU-{n}"  # one model per instance: its own price row
        instances.append(make_vm(f"vm-{n}", status, gpu_model=model, gpu_count=count))
        prices.append(make_price(model, str(per_gpu), currency=currency))
        if status in ("ACTIVE", "SHUTOFF"):
            expected += per_gpu * count
        elif status == "HIBERNATED":
            expected += hibernated
    burn = fleet_burn(index=PriceIndex.build(currency, prices), instances=instances)
    assert burn.total == expected
    assert sum((line.per_hour for line in burn.by_category()), Decimal(0)) == expected
    assert len(burn.charges) + len(burn.uncharged) == len(fleet)
    assert burn.unpriced == ()
