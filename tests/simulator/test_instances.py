"""Instances over HTTP: life cycle (B4), rules (A3) with their exact errors, stock."""

from __future__ import annotations

import httpx
import pytest

from simulator.seed_data import GPU_PRICES, GPU_SPECS
from simulator.testing import SimHandle
from tests.simulator.helpers import active_instance, deploy, error, payload


def stock(api: httpx.Client, region: str, gpu_model: str) -> int:
    items = payload(api.get("gpu-stocks/", params={"region": region}))
    return next(int(i["available"]) for i in items if i["gpu_model"] == gpu_model)


def test_deploy_starts_creating_and_becomes_active_after_minutes(
    sim: SimHandle, api: httpx.Client
) -> None:
    created = payload(deploy(api), 201)
    assert created["id"].startswith("BRK-")
    assert len(created["id"]) == 11
    assert created["status"] == "CREATING"
    assert created["ip_address"] is None
    sim.advance(59)
    assert payload(api.get(f"instances/{created['id']}/"))["status"] == "CREATING"
    sim.advance(121)
    active = payload(api.get(f"instances/{created['id']}/"))
    assert active["status"] == "ACTIVE"
    assert active["ip_address"]
    assert active["private_ip"]
    assert active["hourly_price"] == GPU_PRICES["H100-SXM5-80GB"]["USD"]
    assert active["currency"] == "USD"
    assert active["tier"] == GPU_SPECS["H100-SXM5-80GB"].tier == "advanced"


@pytest.mark.parametrize(
    ("action", "via", "settled"),
    [
        ("stop", "STOPPING", "SHUTOFF"),
        ("reboot", "REBOOTING", "ACTIVE"),
        ("hibernate", "HIBERNATING", "HIBERNATED"),
        ("delete", "DELETING", None),
    ],
)
def test_actions_go_through_their_transitional_state(
    sim: SimHandle, api: httpx.Client, action: str, via: str, settled: str | None
) -> None:
    instance = active_instance(sim, api)
    path = f"instances/{instance['id']}/" + ("" if action == "delete" else f"{action}/")
    response = api.delete(path) if action == "delete" else api.post(path)
    answer = payload(response, 200 if action == "delete" else 202)
    assert answer == {"instance_id": instance["id"], "status": via, "tier": instance["tier"]}
    sim.advance(150)
    after = api.get(f"instances/{instance['id']}/")
    if settled is None:
        error(after, 404, "NOT_FOUND")
    else:
        assert payload(after)["status"] == settled


def test_start_and_hibernate_restore_come_back_active(sim: SimHandle, api: httpx.Client) -> None:
    instance = active_instance(sim, api)
    iid = instance["id"]
    payload(api.post(f"instances/{iid}/stop/"), 202)
    sim.advance(60)
    assert payload(api.post(f"instances/{iid}/start/"), 202)["status"] == "STARTING"
    sim.advance(60)
    payload(api.post(f"instances/{iid}/hibernate/"), 202)
    sim.advance(150)
    restoring = payload(api.post(f"instances/{iid}/hibernate-restore/"), 202)
    assert restoring["status"] == "RESTORING"
    sim.advance(200)
    assert payload(api.get(f"instances/{iid}/"))["status"] == "ACTIVE"


def test_action_from_a_wrong_state_is_invalid_state_with_details(
    sim: SimHandle, api: httpx.Client
) -> None:
    created = payload(deploy(api), 201)
    problem = error(api.post(f"instances/{created['id']}/stop/"), 409, "INVALID_STATE")
    assert problem["details"]["current_status"] == "CREATING"
    assert problem["details"]["allowed"] == ["ACTIVE"]
    error(api.delete(f"instances/{created['id']}/"), 409, "INVALID_STATE")
    sim.advance(180)
    problem = error(api.post(f"instances/{created['id']}/start/"), 409, "INVALID_STATE")
    assert problem["details"] == {
        "resource": "instance",
        "id": created["id"],
        "current_status": "ACTIVE",
        "allowed": ["SHUTOFF"],
        "action": "start",
    }


def test_names_are_unique_and_well_formed(sim: SimHandle, api: httpx.Client) -> None:
    payload(deploy(api, name="trainer"), 201)
    problem = error(deploy(api, name="trainer"), 409, "DUPLICATE_NAME")
    assert problem["details"]["name"] == "trainer"
    for bad in ("x", "-leading", "has space", "a" * 31):
        problem = error(deploy(api, name=bad), 422, "INVALID_NAME_FORMAT")
        assert problem["details"]["field"] == "name"


def test_profile_and_minimum_balance_are_checked(sim: SimHandle, api: httpx.Client) -> None:
    sim.set_profile_complete(False)
    error(deploy(api), 403, "PROFILE_INCOMPLETE")
    sim.set_profile_complete(True)
    sim.load_scenario(yaml="account: {balance: '0.99'}\nssh_keys: [{name: k}]\n")
    problem = error(deploy(api), 402, "INSUFFICIENT_CREDITS")
    assert problem["details"] == {"balance": "0.99", "minimum": "1.00", "currency": "USD"}
    sim.top_up("0.01")
    payload(deploy(api), 201)


def test_inr_accounts_need_one_hundred(sim: SimHandle, api: httpx.Client) -> None:
    sim.load_scenario(yaml="account: {currency: INR, balance: '99.99'}\nssh_keys: [{name: k}]\n")
    assert error(deploy(api), 402, "INSUFFICIENT_CREDITS")["details"]["minimum"] == "100.00"
    sim.top_up("1")
    created = payload(deploy(api), 201)
    assert created["hourly_price"] == 0  # nothing is billed while CREATING
    sim.advance(180)
    instance = payload(api.get(f"instances/{created['id']}/"))
    assert instance["hourly_price"] == GPU_PRICES["H100-SXM5-80GB"]["INR"]
    assert instance["currency"] == "INR"


def test_region_must_offer_the_model_and_have_stock(sim: SimHandle, api: httpx.Client) -> None:
    problem = error(deploy(api, region="CANADA-1", gpu_model="L40"), 422, "REGION_INCOMPATIBLE")
    assert problem["details"]["gpu_model"] == "L40"
    sim.set_stock("NORWAY-1", "L40", 3)
    problem = error(deploy(api, gpu_model="L40", gpu_count=4), 409, "OUT_OF_STOCK")
    assert problem["details"]["available"] == 3


def test_gpus_are_taken_on_deploy_and_returned_on_delete_and_hibernate(
    sim: SimHandle, api: httpx.Client
) -> None:
    before = stock(api, "NORWAY-1", "H100-SXM5-80GB")
    instance = active_instance(sim, api, gpu_count=8)
    assert stock(api, "NORWAY-1", "H100-SXM5-80GB") == before - 8
    payload(api.post(f"instances/{instance['id']}/hibernate/"), 202)
    assert stock(api, "NORWAY-1", "H100-SXM5-80GB") == before - 8  # held while hibernating
    sim.advance(150)
    assert stock(api, "NORWAY-1", "H100-SXM5-80GB") == before
    sim.set_stock("NORWAY-1", "H100-SXM5-80GB", 4)
    error(api.post(f"instances/{instance['id']}/hibernate-restore/"), 409, "OUT_OF_STOCK")
    sim.set_stock("NORWAY-1", "H100-SXM5-80GB", 8)
    payload(api.post(f"instances/{instance['id']}/hibernate-restore/"), 202)
    assert stock(api, "NORWAY-1", "H100-SXM5-80GB") == 0
    sim.advance(200)
    payload(api.delete(f"instances/{instance['id']}/"))
    sim.advance(60)
    assert stock(api, "NORWAY-1", "H100-SXM5-80GB") == 8


def test_references_must_exist(sim: SimHandle, api: httpx.Client) -> None:
    problem = error(deploy(api, ssh_key_ids=["key-missing"]), 404, "NOT_FOUND")
    assert problem["details"] == {"resource": "ssh_key", "id": "key-missing"}
    error(deploy(api, image_id="os-nowhere"), 404, "NOT_FOUND")
    error(api.get("instances/BRK-NOPE000/"), 404, "NOT_FOUND")


def test_public_ip_and_security_rules(sim: SimHandle, api: httpx.Client) -> None:
    instance = active_instance(sim, api)
    iid = instance["id"]
    off = payload(api.post(f"instances/{iid}/public-ip/", json={"enabled": False}))
    assert off == {
        "instance_id": iid,
        "status": "ACTIVE",
        "tier": instance["tier"],
        "public_ip_enabled": False,
    }
    assert payload(api.get(f"instances/{iid}/"))["ip_address"] is None
    on = payload(api.post(f"instances/{iid}/public-ip/", json={"enabled": True}))
    assert on["public_ip_enabled"] is True
    assert payload(api.get(f"instances/{iid}/"))["ip_address"]
    error(api.post(f"instances/{iid}/public-ip/", json={"enabled": "yes"}), 400, "VALIDATION_ERROR")
    rule = payload(
        api.post(
            f"instances/{iid}/security-rules/",
            json={
                "direction": "ingress",
                "protocol": "TCP",
                "port_range_min": 22,
                "port_range_max": 22,
                "remote_cidr": "10.0.0.0/8",
            },
        ),
        201,
    )
    assert rule == {"instance_id": iid, "rule_id": rule["rule_id"], "tier": instance["tier"]}
    assert payload(api.get(f"instances/{iid}/"))["security_rules"][0]["id"] == rule["rule_id"]
    removed = payload(api.delete(f"instances/{iid}/security-rules/{rule['rule_id']}/"))
    assert removed == rule  # Part C's C3: instance_id, rule_id, tier
    error(api.delete(f"instances/{iid}/security-rules/{rule['rule_id']}/"), 404, "NOT_FOUND")


def test_lists_filter_paginate_and_come_newest_first(sim: SimHandle, api: httpx.Client) -> None:
    for n in range(5):
        payload(deploy(api, name=f"node-{n}"), 201)
        sim.advance(1)
    payload(deploy(api, name="us-node", region="US-1"), 201)
    first = api.get("instances/", params={"per_page": 2, "page": 1})
    assert [i["name"] for i in payload(first)] == ["us-node", "node-4"]
    assert first.json()["pagination"] == {"page": 1, "per_page": 2, "total": 6, "total_pages": 3}
    assert [i["name"] for i in payload(api.get("instances/", params={"region": "US-1"}))] == [
        "us-node"
    ]
    sim.advance(180)
    assert len(payload(api.get("instances/", params={"status": "ACTIVE"}))) == 6
    assert payload(api.get("instances/", params={"status": "SHUTOFF"})) == []
    error(api.get("instances/", params={"per_page": 101}), 400, "VALIDATION_ERROR")
    error(api.get("instances/", params={"status": "SLEEPY"}), 400, "VALIDATION_ERROR")
    error(api.get("instances/", params={"region": "MARS-1"}), 400, "VALIDATION_ERROR")
