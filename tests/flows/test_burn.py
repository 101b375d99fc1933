"""The fleet burn model: every status, every price source, every currency, exact Decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barrack.models import PricingData, Snapshot, VMInstance, VMStatus, VolumeResponse
from flows.common.burn import Category, Priced, fleet_burn, instance_rate
from flows.common.pricing import PriceIndex
from tests.flows.test_low_balance_factories import (
    d,
    make_index,
    make_snapshot,
    make_vm,
    make_volume,
)

H100 = "H100-SXM5-80GB"
A6000 = "RTX-A6000"

USD_GPUS = {H100: "2.49", A6000: "0.69"}  # Part C, per GPU-hour
SNAPSHOT = {"USD": "0.1", "EUR": "0.1", "INR": "10"}  # Part C, per snapshot-hour


def index(
    currency: str = "USD",
    gpus: dict[str, str] | None = None,
    volumes: dict[str, str] | None = None,
) -> PriceIndex:
    """The price list in ``currency``, with Part C's fixed snapshot rate (none for others)."""
    return make_index(
        currency,
        USD_GPUS if gpus is None else gpus,
        volumes=volumes,
        snapshot=SNAPSHOT.get(currency),
    )


@pytest.mark.parametrize(
    ("vm", "currency", "gpus", "rate", "source", "category"),
    [
        # The instance's own price wins in the state it is in.
        (make_vm("a", hourly_price="2.49"), "USD", {}, "2.49", "instance price", Category.ACTIVE),
        (make_vm("s", "SHUTOFF", hourly_price="2.49"), "USD", {}, "2.49", "instance price",
         Category.STOPPED),
        (make_vm("h", "HIBERNATED", hourly_price="0.01"), "USD", {}, "0.01", "instance price",
         Category.HIBERNATED),
        # Without it, the price list's per-GPU price times the GPU count (exact).
        (make_vm("a8", gpu_count=8), "USD", USD_GPUS, "19.92", "price list", Category.ACTIVE),
        (make_vm("s2", "SHUTOFF", gpu_count=2), "USD", USD_GPUS, "4.98", "price list",
         Category.STOPPED),
        # Hibernated: A3's rate per currency, whatever the size (the list has none).
        (make_vm("hu", "HIBERNATED", gpu_count=8), "USD", USD_GPUS, "0.01",
         "A3 hibernation rate", Category.HIBERNATED),
        (make_vm("he", "HIBERNATED"), "EUR", {}, "0.01", "A3 hibernation rate",
         Category.HIBERNATED),
        (make_vm("hi", "HIBERNATED", gpu_count=4), "INR", {}, "1.00", "A3 hibernation rate",
         Category.HIBERNATED),
        # Other currencies' list prices.
        (make_vm("ai", gpu_count=2), "INR", {H100: "209"}, "418", "price list",
         Category.ACTIVE),
        (make_vm("ae", gpu_model=A6000), "EUR", {A6000: "0.75"}, "0.75", "price list",
         Category.ACTIVE),
        # An instance price in another currency cannot be deducted as it is: the list wins.
        (make_vm("x", hourly_price="2.69", currency="EUR"), "USD", USD_GPUS, "2.49",
         "price list", Category.ACTIVE),
    ],
)  # fmt: skip
def test_instance_charge_by_status_and_currency(
    vm: VMInstance,
    currency: str,
    gpus: dict[str, str],
    rate: str,
    source: str,
    category: Category,
) -> None:
    burn = fleet_burn(index=index(currency, gpus), instances=[vm])
    assert len(burn.charges) == 1
    charge = burn.charges[0]
    assert charge.per_hour == d(rate)
    assert charge.source == source
    assert charge.category is category
    assert burn.total == d(rate)
    assert burn.currency == currency


def test_list_prices_in_another_currency_are_ignored() -> None:
    """An index keeps the account currency's figures only: an EUR-only model is unpriced."""
    pricing = PricingData.model_validate(
        {
            "gpus": {"pricing": {"advanced": {H100: {"prices": {"EUR": 2.69}}}}},
            "snapshots": {"pricing": {"legacy": {"prices": {"EUR": 0.1}}}},
        }
    )
    usd = PriceIndex.from_pricing("USD", pricing)
    burn = fleet_burn(
        index=usd, instances=[make_vm("x", gpu_count=2)], snapshots=[make_snapshot("s")]
    )
    assert burn.charges == ()
    assert [u.name for u in burn.unpriced] == ["x", "s"]
    eur = fleet_burn(
        index=PriceIndex.from_pricing("EUR", pricing), instances=[make_vm("x", gpu_count=2)]
    )
    assert eur.total == d("5.38")


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
    assert "no price for 1x B200-SXM6-192GB" in unpriced.reason


@pytest.mark.parametrize(
    ("volume", "currency", "types", "rate", "source"),
    [
        (make_volume("own", 1000, hourly_price="0.1"), "USD", {}, "0.1", "volume price"),
        (make_volume("typed", 500), "USD", {"SSD": "0.1"}, "0.05", "500 GB x 0.1/TB-h"),
        (make_volume("inr", 500), "INR", {"SSD": "10"}, "5", "500 GB x 10/TB-h"),
        # Each type at its own rate (Part C: EUR SSD 0.1, NVMe 0.35).
        (make_volume("fast", 120, volume_type="NVMe"), "EUR", {"SSD": "0.1", "NVMe": "0.35"},
         "0.042", "120 GB x 0.35/TB-h"),
        # Volumes pay in every state (A3 gives no exception).
        (make_volume("busy", 100, hourly_price="0.01", status="IN_USE"), "USD", {}, "0.01",
         "volume price"),
    ],
)  # fmt: skip
def test_volumes_by_size(
    volume: VolumeResponse, currency: str, types: dict[str, str], rate: str, source: str
) -> None:
    burn = fleet_burn(index=index(currency, {}, types), instances=[], volumes=[volume])
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
        # Part C: a fixed rate per snapshot-hour ("fixed 100GB"), whatever its size.
        (make_snapshot("a", size_gb=100), "USD", None, "0.1"),
        (make_snapshot("b", size_gb=100), "EUR", None, "0.1"),
        (make_snapshot("c", size_gb=100), "INR", None, "10"),
        (make_snapshot("big", size_gb=900), "USD", None, "0.1"),
        (make_snapshot("d", size_gb=250), "USD", d("0.25"), "0.25"),  # the override wins
        (make_snapshot("e", size_gb=1, status="available"), "USD", None, "0.1"),
        (make_snapshot("sizeless", size_gb=None), "USD", None, "0.1"),
    ],
)
def test_ready_snapshots_at_the_fixed_rate(
    snapshot: Snapshot, currency: str, override: Decimal | None, rate: str
) -> None:
    burn = fleet_burn(
        index=index(currency, {}),
        instances=[],
        snapshots=[snapshot],
        snapshot_rate_per_hour=override,
    )
    (charge,) = burn.charges
    assert charge.category is Category.SNAPSHOTS
    assert charge.per_hour == d(rate)
    assert charge.source == "fixed rate per snapshot"


@pytest.mark.parametrize(
    ("snapshot", "currency", "unpriced"),
    [
        (make_snapshot("creating", status="CREATING"), "USD", False),
        (make_snapshot("failed", status="ERROR"), "USD", False),
        (make_snapshot("gbp", size_gb=10), "GBP", True),  # the list has no GBP rate
    ],
)
def test_snapshots_not_charged(snapshot: Snapshot, currency: str, unpriced: bool) -> None:
    burn = fleet_burn(index=index(currency, {}), instances=[], snapshots=[snapshot])
    assert burn.charges == ()
    (uncharged,) = burn.uncharged
    assert uncharged.unpriced is unpriced


def test_a_whole_fleet_adds_up_exactly_by_category() -> None:
    burn = fleet_burn(
        index=index("USD", USD_GPUS, {"SSD": "0.1"}),
        instances=[
            make_vm("train", gpu_count=8),  # 8 x 2.49 = 19.92
            make_vm("nb", gpu_model=A6000, hourly_price="0.69"),  # 0.69
            make_vm("render", "SHUTOFF", gpu_model=A6000, gpu_count=2),  # 1.38
            make_vm("old", "HIBERNATED", gpu_count=4),  # 0.01
            make_vm("going", "STOPPING", gpu_count=2),  # 0
        ],
        volumes=[make_volume("data", 1000), make_volume("scratch", 500)],  # 0.1 + 0.05
        snapshots=[make_snapshot("s1", size_gb=180), make_snapshot("s2", size_gb=20)],  # 2 x 0.1
    )
    assert burn.total == d("22.35")
    lines = {line.category: (line.per_hour, line.count) for line in burn.by_category()}
    assert lines == {
        Category.ACTIVE: (d("20.61"), 2),
        Category.STOPPED: (d("1.38"), 1),
        Category.HIBERNATED: (d("0.01"), 1),
        Category.VOLUMES: (d("0.15"), 2),
        Category.SNAPSHOTS: (d("0.2"), 2),
    }
    assert burn.rate_of("BRK-TRAIN00") == d("19.92")
    assert [u.name for u in burn.uncharged] == ["going"]


def test_instance_rate_uses_its_own_price_only_for_a_state_billed_alike() -> None:
    idx = index("USD", {H100: "2.49"})
    active = make_vm("a", hourly_price="2.50")
    assert instance_rate(active, VMStatus.ACTIVE, idx) == Priced(d("2.50"), "instance price")
    assert instance_rate(active, VMStatus.SHUTOFF, idx) == Priced(d("2.50"), "instance price")
    # Its 2.50 is the full rate, not what it would pay hibernated.
    assert instance_rate(active, VMStatus.HIBERNATED, idx) == Priced(
        d("0.01"), "A3 hibernation rate"
    )
    hibernated = make_vm("h", "HIBERNATED", hourly_price="0.01")
    assert instance_rate(hibernated, VMStatus.ACTIVE, idx) == Priced(d("2.49"), "price list")
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
    prices: dict[str, str] = {}
    expected = Decimal(0)
    for n, (status, count, per_gpu) in enumerate(fleet):
        model = f"GPU-{n}"  # one model per instance: its own price row
        instances.append(make_vm(f"vm-{n}", status, gpu_model=model, gpu_count=count))
        prices[model] = str(per_gpu)
        if status in ("ACTIVE", "SHUTOFF"):
            expected += per_gpu * count
        elif status == "HIBERNATED":
            expected += hibernated
    burn = fleet_burn(index=make_index(currency, prices), instances=instances)
    assert burn.total == expected
    assert sum((line.per_hour for line in burn.by_category()), Decimal(0)) == expected
    assert len(burn.charges) + len(burn.uncharged) == len(fleet)
    assert burn.unpriced == ()
