"""Per-minute billing, exact in Decimal, and credit depletion (A3, B6)."""

from __future__ import annotations

from decimal import Decimal

import httpx

from simulator.testing import SimHandle
from simulator.timeparse import parse_time
from tests.simulator.helpers import active_instance, balance, data, deploy, error, snapshot_ready


def bill(api: httpx.Client, instance_id: str) -> dict[str, Decimal]:
    records = data(api.get(f"instances/{instance_id}/billing"))["summary"]["by_status"]
    return {status: Decimal(amount) for status, amount in records.items()}


def test_h100_active_for_90_minutes_costs_exactly_4_0350(sim: SimHandle, api: httpx.Client) -> None:
    instance = active_instance(sim, api)
    records = data(api.get(f"instances/{instance['id']}/billing"))["records"]
    assert [r["status"] for r in records] == ["CREATING", "ACTIVE"]
    assert records[0]["amount"] == "0.0000"  # CREATING is free
    active_since = records[1]["start"]
    # Stop exactly 90 minutes after ACTIVE began.
    elapsed = (sim.now() - parse_time(active_since)).total_seconds()
    sim.advance(90 * 60 - elapsed)
    data(api.post(f"instances/{instance['id']}/stop"), 202)
    body = data(api.get(f"instances/{instance['id']}/billing"))
    active = [r for r in body["records"] if r["status"] == "ACTIVE"]
    assert len(active) == 1
    assert active[0]["amount"] == "4.0350"
    assert Decimal(active[0]["minutes"]) == 90
    assert balance(api) == Decimal("100.00") - Decimal("4.0350")
    assert str(balance(api)) == "95.9650"


def test_transitional_states_cost_nothing_and_shutoff_pays_full(
    sim: SimHandle, api: httpx.Client
) -> None:
    instance = active_instance(sim, api, gpu_model="A40", region="US-1")
    sim.advance(3600 - 180)
    data(api.post(f"instances/{instance['id']}/stop"), 202)
    sim.advance(3600)
    amounts = bill(api, instance["id"])
    assert amounts["CREATING"] == 0
    assert amounts["STOPPING"] == 0
    assert amounts["SHUTOFF"] > 0
    records = data(api.get(f"instances/{instance['id']}/billing"))["records"]
    for record in records:
        seconds = Decimal(record["minutes"]) * 60
        assert Decimal(record["amount"]) == Decimal(record["rate_per_hour"]) * seconds / 3600


def test_hibernated_instances_pay_one_cent_an_hour(sim: SimHandle, api: httpx.Client) -> None:
    instance = active_instance(sim, api, gpu_count=8)
    data(api.post(f"instances/{instance['id']}/hibernate"), 202)
    sim.advance(150)
    hibernated = data(api.get(f"instances/{instance['id']}"))
    assert hibernated["status"] == "HIBERNATED"
    assert hibernated["hourly_price"] == "0.0100"
    before = balance(api)
    sim.advance(10 * 3600)
    assert before - balance(api) == Decimal("0.1")
    listed = data(api.get("instances/hibernated"))
    assert listed["metrics"]["hibernated_count"] == 1
    assert Decimal(listed["metrics"]["total_hourly_savings"]) == Decimal("21.52") - Decimal("0.01")
    assert Decimal(listed["instances"][0]["accrued_cost"]) >= Decimal("0.1")


def test_hibernated_rate_in_inr_is_one_rupee(sim: SimHandle, api: httpx.Client) -> None:
    sim.load_scenario(yaml="account: {currency: INR, balance: '5000'}\nssh_keys: [{name: k}]\n")
    instance = active_instance(sim, api, gpu_model="A40", region="US-1")
    data(api.post(f"instances/{instance['id']}/hibernate"), 202)
    sim.advance(150)
    assert data(api.get(f"instances/{instance['id']}"))["hourly_price"] == "1.0000"


def test_volumes_and_snapshots_are_billed_on_size(sim: SimHandle, api: httpx.Client) -> None:
    volume = data(
        api.post("volumes", json={"name": "data", "region": "NORWAY-1", "size_gb": 500}), 201
    )
    assert volume["hourly_price"] == "0.0500"  # 0.1 per TB-hour x 0.5 TB
    sim.advance(7200)
    billed = data(api.get(f"volumes/{volume['id']}/billing"))
    assert Decimal(billed["summary"]["total_amount"]) == Decimal("0.1")
    assert Decimal(billed["summary"]["total_hours"]) == 2
    instance = active_instance(sim, api)
    snap = snapshot_ready(sim, api, instance["id"], "sized")
    snap_bill = data(api.get(f"snapshots/{snap['id']}/billing"))
    success = [r for r in snap_bill["records"] if r["status"] == "SUCCESS"]
    assert Decimal(success[0]["rate_per_hour"]) == Decimal("0.00005") * snap["size_gb"]
    assert all(Decimal(r["amount"]) == 0 for r in snap_bill["records"] if r["status"] == "CREATING")


def test_balance_at_zero_stops_instances_then_deletes_them_after_a_day(
    sim: SimHandle, api: httpx.Client
) -> None:
    sim.load_scenario(yaml="account: {balance: '3.00'}\nssh_keys: [{name: k}]\n")
    volume = data(
        api.post("volumes", json={"name": "keep", "region": "NORWAY-1", "size_gb": 10}), 201
    )
    instance = active_instance(sim, api)
    snap = data(api.post("snapshots", json={"instance_id": instance["id"], "name": "keep"}), 201)
    sim.advance(2 * 3600)  # 3.00 lasts 67 minutes at 2.69/h
    assert balance(api) <= 0
    assert data(api.get(f"instances/{instance['id']}"))["status"] == "SHUTOFF"
    error(api.post(f"instances/{instance['id']}/start"), 402, "INSUFFICIENT_CREDITS")
    error(deploy(api, name="another"), 402, "INSUFFICIENT_CREDITS")
    sim.advance(22 * 3600)  # less than a day at zero
    assert data(api.get(f"instances/{instance['id']}"))["status"] == "SHUTOFF"
    sim.advance(2 * 3600)  # more than a day at zero
    error(api.get(f"instances/{instance['id']}"), 404, "NOT_FOUND")
    assert data(api.get(f"snapshots/{snap['id']}"))["id"] == snap["id"]
    assert data(api.get(f"volumes/{volume['id']}"))["id"] == volume["id"]


def test_a_top_up_before_the_deadline_saves_the_instances(
    sim: SimHandle, api: httpx.Client
) -> None:
    sim.load_scenario(yaml="account: {balance: '2.00'}\nssh_keys: [{name: k}]\n")
    instance = active_instance(sim, api)
    sim.advance(3600)
    assert data(api.get(f"instances/{instance['id']}"))["status"] == "SHUTOFF"
    sim.top_up("200")  # SHUTOFF still pays the full rate, so leave room for 30 hours
    sim.advance(30 * 3600)
    assert data(api.get(f"instances/{instance['id']}"))["status"] == "SHUTOFF"
    data(api.post(f"instances/{instance['id']}/start"), 202)


def test_depletion_is_configurable(sim: SimHandle, api: httpx.Client) -> None:
    sim.load_scenario(yaml="account: {balance: '2.00'}\nssh_keys: [{name: k}]\n")
    sim.settings(depletion_stop=False, depletion_delete_after_hours=None)
    instance = active_instance(sim, api)
    sim.advance(48 * 3600)
    assert balance(api) < 0
    assert data(api.get(f"instances/{instance['id']}"))["status"] == "ACTIVE"
