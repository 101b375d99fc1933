"""Built-in scenarios, determinism, and the YAML loader's errors."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal

import httpx
import pytest

from simulator.control import SimControlError
from simulator.scenarios import ScenarioError, builtin_scenario, parse_scenario_yaml
from simulator.seed_data import GPU_PRICES
from simulator.testing import SimHandle
from tests.simulator.helpers import payload

NAME = re.compile(r"^auto-(?P<instance>.+)-(?P<day>\d{8})-0200$")
DESCRIPTION = re.compile(r"^managed-by=barrack-ops policy=nightly slot=\d{4}-\d\d-\d\dT02:00Z$")


def all_pages(api: httpx.Client, path: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    page = 1
    while True:
        response = api.get(path, params={"page": page, "per_page": 100})
        items += payload(response)
        if page >= response.json()["pagination"]["total_pages"]:
            return items
        page += 1


def test_empty_has_the_catalog_and_nothing_else(sim: SimHandle, api: httpx.Client) -> None:
    assert payload(api.get("balance/")) == {
        "balance": Decimal("100.0000"),
        "currency": "USD",
        "updated_at": "2026-01-05T12:00:00Z",
    }
    assert {r["name"] for r in payload(api.get("regions/"))} == {"NORWAY-1", "CANADA-1", "US-1"}
    assert payload(api.get("instances/")) == []
    assert payload(api.get("snapshots/")) == []
    assert len(payload(api.get("ssh-keys/"))) == 1
    prices = payload(api.get("pricing/", params={"gpu_model": "H100-SXM5-80GB"}))
    h100 = prices["gpus"]["pricing"]["advanced"]["H100-SXM5-80GB"]
    assert h100["prices"] == GPU_PRICES["H100-SXM5-80GB"]
    quote = payload(api.post("pricing/", json={"gpu_model": "L40", "gpu_count": 4}))
    assert quote["gpus"]["pricing"] == {
        "legacy": {"L40": {"prices": GPU_PRICES["L40"], "max_count": 8, "unit": "per GPU per hour"}}
    }


def test_demo_is_a_realistic_fleet(sim: SimHandle, api: httpx.Client) -> None:
    sim.load_scenario("demo")
    instances = all_pages(api, "instances/")
    statuses = Counter(str(i["status"]) for i in instances)
    assert len(instances) == 12
    assert statuses["SHUTOFF"] == 1
    assert statuses["HIBERNATED"] == 1
    assert {str(i["region"]) for i in instances} == {"NORWAY-1", "CANADA-1", "US-1"}
    snapshots = all_pages(api, "snapshots/")
    nightly = [s for s in snapshots if NAME.match(str(s["name"]))]
    assert len(nightly) > 250
    for snap in nightly:
        match = NAME.match(str(snap["name"]))
        assert match
        assert match["instance"] == snap["instance_name"]
        assert DESCRIPTION.match(str(snap["description"]))
        assert str(snap["created_at"])[11:16] == "02:00"
    manual = [s for s in snapshots if not NAME.match(str(s["name"]))]
    assert 2 <= len(manual) <= 6
    assert [s["name"] for s in snapshots if s["has_image"]] == ["golden-inference"]
    # The balance lasts about two days at the fleet's burn (instances, snapshots, volumes).
    sim.advance("46h")
    assert Decimal(payload(api.get("balance/"))["balance"]) > 0
    assert Counter(str(i["status"]) for i in all_pages(api, "instances/")) == statuses
    sim.advance("4h")
    assert Decimal(payload(api.get("balance/"))["balance"]) <= 0
    assert {str(i["status"]) for i in all_pages(api, "instances/")} == {"SHUTOFF", "HIBERNATED"}


def test_same_seed_same_ids_other_seed_other_ids(sim: SimHandle, api: httpx.Client) -> None:
    def ids() -> list[str]:
        return [str(i["id"]) for i in all_pages(api, "instances/")] + [
            str(s["id"]) for s in all_pages(api, "snapshots/")
        ]

    sim.load_scenario("demo", seed=5)
    first = ids()
    sim.reset()
    assert ids() == first
    sim.load_scenario("demo", seed=5)
    assert ids() == first
    sim.load_scenario("demo", seed=6)
    assert ids() != first
    assert all(re.fullmatch(r"BRK-[A-Z0-9]{6}\d", i) for i in first if i.startswith("BRK-"))


def test_a_yaml_scenario_is_loaded(sim: SimHandle, api: httpx.Client) -> None:
    sim.load_scenario(
        yaml="""
name: small
account: {currency: EUR, balance: "25.50"}
stock: [{region: US-1, gpu_model: A40, available: 2}]
prices: [{gpu_model: A40, currency: EUR, price_per_hour: "0.50"}]
ssh_keys: [{name: me}]
instances:
  - {name: box, region: US-1, gpu_model: A40, age: 2h, utilization: {preset: busy}}
  - {name: old, region: US-1, gpu_model: A40, status: HIBERNATED, age: 3d, status_age: 1d}
snapshots: [{name: first, instance: box, age: 1h}]
images: [{name: img, snapshot: first}]
volumes: [{name: vol, region: US-1, size_gb: 100, attach_to: box}]
firewalls:
  - name: web
    region: US-1
    rules: [{protocol: TCP, port_range_min: 443, port_range_max: 443}]
    attach_to: [box]
"""
    )
    assert payload(api.get("balance/"))["currency"] == "EUR"
    box = next(i for i in payload(api.get("instances/")) if i["name"] == "box")
    assert box["hourly_price"] == Decimal("0.50")
    assert box["volumes"][0]["name"] == "vol"
    stock = payload(api.get("gpu-stocks/", params={"region": "US-1"}))
    assert next(s for s in stock if s["gpu_model"] == "A40")["available"] == 2
    assert payload(api.get(f"instances/{box['id']}/firewalls/"))[0]["name"] == "web"
    assert payload(api.get("images/"))[0]["status"] == "ACTIVE"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("instances: [{name: a1, region: MARS-1, gpu_model: L40}]", "instances[0].region"),
        (
            "instances: [{name: a1, region: US-1, gpu_model: L40, colour: red}]",
            "instances[0].colour",
        ),
        ("account: {balance: lots}", "account.balance"),
        ("snapshots: [{name: s, instance: ghost}]", "snapshots[0].instance"),
        ("instances: [{name: a1, region: US-1, gpu_model: L40, age: soon}]", "instances[0].age"),
        ("instances: [{name: a1, region: US-1, gpu_model: L40, gpu_count: 3}]", "instances[0]"),
        ("generate: {instances: -1}", "generate.instances"),
        ("- just a list", "scenario"),
        ("name: [unclosed", "YAML"),
    ],
)
def test_yaml_errors_name_the_field(text: str, field: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(field)):
        parse_scenario_yaml(text)


def test_a_bad_scenario_keeps_the_old_one(sim: SimHandle, api: httpx.Client) -> None:
    with pytest.raises(SimControlError, match="VALIDATION_ERROR"):
        sim.load_scenario(yaml="instances: [{name: a, region: US-1, gpu_model: L40}]")
    with pytest.raises(SimControlError, match="unknown scenario"):
        sim.load_scenario("nope")
    assert len(payload(api.get("ssh-keys/"))) == 1


def test_fleet_generator(sim: SimHandle, api: httpx.Client) -> None:
    summary = sim.load_scenario("fleet", instances=150, snapshots_per_instance=2)
    assert summary["instances"] == 150
    assert summary["snapshots"] == 300
    listed = api.get("instances/", params={"per_page": 100, "page": 2})
    assert len(payload(listed)) == 50
    assert listed.json()["pagination"]["total_pages"] == 2
    spec = builtin_scenario("fleet", instances=10)
    assert spec.generate is not None
    assert spec.generate.instances == 10
