"""Per-minute billing, exact in Decimal, and credit depletion (A3, B6)."""

from __future__ import annotations

from decimal import Decimal

import httpx

from simulator.seed_data import GPU_PRICES, HIBERNATED_RATE, SNAPSHOT_RATE, VOLUME_RATES_PER_TB_HOUR
from simulator.testing import SimHandle
from simulator.timeparse import parse_time
from tests.simulator.helpers import active_instance, balance, deploy, error, payload, snapshot_ready


def bill(api: httpx.Client, instance_id: str) -> dict[str, Decimal]:
    records = payload(api.get(f"instances/{instance_id}/billing/"))["summary"]["by_status"]
    return {status: Decimal(amount) for status, amount in records.items()}


H100 = GPU_PRICES["H100-SXM5-80GB"]


def test_h100_active_for_90_minutes_costs_exactly_one_and_a_half_hours(
    sim: SimHandle, api: httpx.Client
) -> None:
    instance = active_instance(sim, api)
    records = payload(api.get(f"instances/{instance['id']}/billing/"))["records"]
    assert [r["status"] for r in records] == ["CREATING", "ACTIVE"]
    assert records[0]["amount"] == 0  # CREATING is free
    assert isinstance(records[0]["amount"], Decimal)  # money is an exact JSON number
    active_since = records[1]["start"]
    # Stop exactly 90 minutes after ACTIVE began.
    elapsed = (sim.now() - parse_time(active_since)).total_seconds()
    sim.advance(90 * 60 - elapsed)
    payload(api.post(f"instances/{instance['id']}/stop/"), 202)
    body = payload(api.get(f"instances/{instance['id']}/billing/"))
    active = [r for r in body["records"] if r["status"] == "ACTIVE"]
    assert len(active) == 1
    cost = H100["USD"] * Decimal("1.5")
    assert active[0]["amount"] == cost
    assert Decimal(active[0]["minutes"]) == 90
    assert balance(api) == Decimal("100.00") - cost
    exact = f'"balance":{(Decimal("100.00") - cost).quantize(Decimal("0.0001"))}'
    assert exact in api.get("balance/").text  # four decimals, written as a JSON number


def test_transitional_states_cost_nothing_and_shutoff_pays_full(
    sim: SimHandle, api: httpx.Client
) -> None:
    instance = active_instance(sim, api, gpu_model="A40", region="US-1")
    sim.advance(3600 - 180)
    payload(api.post(f"instances/{instance['id']}/stop/"), 202)
    sim.advance(3600)
    amounts = bill(api, instance["id"])
    assert amounts["CREATING"] == 0
    assert amounts["STOPPING"] == 0
    assert amounts["SHUTOFF"] > 0
    records = payload(api.get(f"instances/{instance['id']}/billing/"))["records"]
    for record in records:
        seconds = Decimal(record["minutes"]) * 60
        assert Decimal(record["amount"]) == Decimal(record["rate_per_hour"]) * seconds / 3600


def test_hibernated_instances_pay_one_cent_an_hour(sim: SimHandle, api: httpx.Client) -> None:
    instance = active_instance(sim, api, gpu_count=8)
    payload(api.post(f"instances/{instance['id']}/hibernate/"), 202)
    sim.advance(150)
    hibernated = payload(api.get(f"instances/{instance['id']}/"))
    assert hibernated["status"] == "HIBERNATED"
    assert hibernated["hourly_price"] == HIBERNATED_RATE["USD"]
    before = balance(api)
    sim.advance(10 * 3600)
    assert before - balance(api) == 10 * HIBERNATED_RATE["USD"]
    listed = payload(api.get("instances/hibernated/"))
    assert listed["metrics"]["hibernated_count"] == 1
    savings = 8 * H100["USD"] - HIBERNATED_RATE["USD"]
    assert Decimal(listed["metrics"]["total_hourly_savings"]) == savings
    assert Decimal(listed["instances"][0]["accrued_cost"]) >= 10 * HIBERNATED_RATE["USD"]


def test_hibernated_rate_in_inr_is_one_rupee(sim: SimHandle, api: httpx.Client) -> None:
    sim.load_scenario(yaml="account: {currency: INR, balance: '5000'}\nssh_keys: [{name: k}]\n")
    instance = active_instance(sim, api, gpu_model="A40", region="US-1")
    payload(api.post(f"instances/{instance['id']}/hibernate/"), 202)
    sim.advance(150)
    assert (
        payload(api.get(f"instances/{instance['id']}/"))["hourly_price"] == HIBERNATED_RATE["INR"]
    )


def test_volumes_are_billed_on_size_and_snapshots_at_the_fixed_rate(
    sim: SimHandle, api: httpx.Client
) -> None:
    volume = payload(
        api.post("volumes/", json={"name": "data", "region": "NORWAY-1", "size_gb": 500}), 201
    )
    assert volume["volume_type"] == "SSD"
    per_tb = VOLUME_RATES_PER_TB_HOUR["legacy"]["SSD"]["USD"]
    assert volume["hourly_price"] == per_tb / 2  # 0.5 TB
    sim.advance(7200)
    billed = payload(api.get(f"volumes/{volume['id']}/billing/"))
    assert Decimal(billed["summary"]["total_amount"]) == per_tb / 2 * 2
    assert Decimal(billed["summary"]["total_hours"]) == 2
    instance = active_instance(sim, api)
    snap = snapshot_ready(sim, api, instance["id"], "sized")
    snap_bill = payload(api.get(f"snapshots/{snap['id']}/billing/"))
    assert snap_bill["resource_type"] == "snapshots"
    success = [r for r in snap_bill["records"] if r["status"] == "SUCCESS"]
    assert snap["size_gb"] != 100
    assert Decimal(success[0]["rate_per_hour"]) == SNAPSHOT_RATE["USD"]  # whatever its size
    assert all(Decimal(r["amount"]) == 0 for r in snap_bill["records"] if r["status"] == "CREATING")


def test_balance_at_zero_stops_instances_then_deletes_them_after_a_day(
    sim: SimHandle, api: httpx.Client
) -> None:
    sim.load_scenario(yaml="account: {balance: '3.00'}\nssh_keys: [{name: k}]\n")
    volume = payload(
        api.post("volumes/", json={"name": "keep", "region": "NORWAY-1", "size_gb": 100}), 201
    )
    instance = active_instance(sim, api)
    snap = payload(
        api.post("snapshots/", json={"instance_id": instance["id"], "name": "keep"}), 201
    )
    assert Decimal("3.00") < H100["USD"] * 2  # the credit runs out within two hours
    sim.advance(2 * 3600)
    assert balance(api) <= 0
    assert payload(api.get(f"instances/{instance['id']}/"))["status"] == "SHUTOFF"
    error(api.post(f"instances/{instance['id']}/start/"), 402, "INSUFFICIENT_CREDITS")
    error(deploy(api, name="another"), 402, "INSUFFICIENT_CREDITS")
    sim.advance(22 * 3600)  # less than a day at zero
    assert payload(api.get(f"instances/{instance['id']}/"))["status"] == "SHUTOFF"
    sim.advance(2 * 3600)  # more than a day at zero
    error(api.get(f"instances/{instance['id']}/"), 404, "NOT_FOUND")
    assert payload(api.get(f"snapshots/{snap['id']}/"))["id"] == snap["id"]
    assert payload(api.get(f"volumes/{volume['id']}/"))["id"] == volume["id"]


def test_a_top_up_before_the_deadline_saves_the_instances(
    sim: SimHandle, api: httpx.Client
) -> None:
    sim.load_scenario(yaml="account: {balance: '2.00'}\nssh_keys: [{name: k}]\n")
    instance = active_instance(sim, api)
    sim.advance(3600)
    assert payload(api.get(f"instances/{instance['id']}/"))["status"] == "SHUTOFF"
    sim.top_up("200")  # SHUTOFF still pays the full rate, so leave room for 30 hours
    sim.advance(30 * 3600)
    assert payload(api.get(f"instances/{instance['id']}/"))["status"] == "SHUTOFF"
    payload(api.post(f"instances/{instance['id']}/start/"), 202)


def test_depletion_is_configurable(sim: SimHandle, api: httpx.Client) -> None:
    sim.load_scenario(yaml="account: {balance: '2.00'}\nssh_keys: [{name: k}]\n")
    sim.settings(depletion_stop=False, depletion_delete_after_hours=None)
    instance = active_instance(sim, api)
    sim.advance(48 * 3600)
    assert balance(api) < 0
    assert payload(api.get(f"instances/{instance['id']}/"))["status"] == "ACTIVE"
