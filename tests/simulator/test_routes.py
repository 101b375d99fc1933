"""Every route of the table is served; bad requests never get a 500; the other groups."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from barrack._wire import API_PREFIX, ROUTES
from simulator.http.handlers import HANDLERS
from simulator.seed_data import VOLUME_RATES_PER_TB_HOUR
from simulator.testing import SimHandle
from tests.simulator.helpers import (
    active_instance,
    balance,
    deploy,
    error,
    os_image,
    payload,
    root_client,
)


def test_every_operation_has_a_handler_and_is_in_openapi(sim: SimHandle) -> None:
    assert set(HANDLERS) == set(ROUTES)
    with root_client(sim) as client:
        document = client.get("/openapi.json").json()
    for route in ROUTES.values():
        operation = document["paths"][API_PREFIX + route.path][route.method.lower()]
        assert operation["operationId"] == route.operation
        assert str(route.status) in operation["responses"]


@pytest.mark.parametrize("route", [r for r in ROUTES.values() if not r.path_params])
def test_every_route_without_ids_answers(sim: SimHandle, api: httpx.Client, route: object) -> None:
    method, path = route.method, route.path.lstrip("/")  # type: ignore[attr-defined]
    response = api.request(method, path) if method == "GET" else api.request(method, path, json={})
    assert response.status_code < 500, response.text
    if method == "GET":
        payload(response)


BAD_BODIES = [b"{not json", b"[]", b'"text"', b"123", b'{"unknown_field": 1}', b"\xff\xfe"]


@pytest.mark.parametrize("route", [r for r in ROUTES.values() if r.method != "GET"])
def test_bad_requests_never_get_a_500(sim: SimHandle, api: httpx.Client, route: object) -> None:
    method = route.method  # type: ignore[attr-defined]
    path = route.format_path(**{p: "x-1" for p in route.path_params}).lstrip("/")  # type: ignore[attr-defined]
    for body in BAD_BODIES:
        response = api.request(method, path, content=body)
        assert response.status_code in {400, 404, 409, 422}, (body, response.text)
        assert response.json()["success"] is False


def test_wrong_types_name_the_field(sim: SimHandle, api: httpx.Client) -> None:
    problem = error(
        api.post(
            "instances/",
            json={
                "name": "ok-name",
                "region": "US-1",
                "gpu_model": "A40",
                "gpu_count": "two",
                "image_id": "i",
                "ssh_key_ids": ["k"],
            },
        ),
        400,
        "VALIDATION_ERROR",
    )
    assert problem["details"]["field"] == "gpu_count"
    problem = error(
        api.post(
            "firewalls/",
            json={
                "name": "fw",
                "region": "US-1",
                "rules": [{"direction": "sideways", "protocol": "TCP"}],
            },
        ),
        400,
        "VALIDATION_ERROR",
    )
    assert problem["details"]["field"] == "rules[0].direction"
    error(api.get("nothing-here/"), 404, "NOT_FOUND")


def test_volumes(sim: SimHandle, api: httpx.Client) -> None:
    vol = payload(
        api.post("volumes/", json={"name": "v1", "region": "NORWAY-1", "size_gb": 100}), 201
    )
    assert vol["status"] == "CREATING"
    error(
        api.post("volumes/", json={"name": "v1", "region": "NORWAY-1", "size_gb": 100}),
        409,
        "DUPLICATE_NAME",
    )
    error(
        api.post("volumes/", json={"name": "v2", "region": "US-1", "size_gb": 5}),
        400,
        "VALIDATION_ERROR",
    )
    sim.advance(60)
    instance = active_instance(sim, api)
    far = active_instance(sim, api, name="far", region="US-1")
    error(
        api.post(f"instances/{far['id']}/volumes/attach/", json={"volume_ids": [vol["id"]]}),
        422,
        "REGION_INCOMPATIBLE",
    )
    attached = payload(
        api.post(f"instances/{instance['id']}/volumes/attach/", json={"volume_ids": [vol["id"]]})
    )
    assert attached[0]["status"] == "IN_USE"
    assert attached[0]["instance_id"] == instance["id"]
    error(api.delete(f"volumes/{vol['id']}/"), 409, "INVALID_STATE")
    grown = payload(api.post(f"volumes/{vol['id']}/resize/", json={"size_gb": 200}))
    assert grown["status"] == "RESIZING"
    assert grown["size_gb"] == 200
    error(api.post(f"volumes/{vol['id']}/resize/", json={"size_gb": 150}), 409, "INVALID_STATE")
    sim.advance(60)
    error(api.post(f"volumes/{vol['id']}/resize/", json={"size_gb": 150}), 400, "VALIDATION_ERROR")
    clone = payload(api.post(f"volumes/{vol['id']}/clone/", json={"name": "v1-copy"}), 201)
    assert clone["size_gb"] == 200
    assert clone["region"] == "NORWAY-1"
    payload(
        api.post(f"instances/{instance['id']}/volumes/detach/", json={"volume_ids": [vol["id"]]})
    )
    assert payload(api.delete(f"volumes/{vol['id']}/")) == {"volume_id": vol["id"]}
    listing = payload(api.get("volumes/"))
    assert [v["name"] for v in listing["volumes"]] == ["v1-copy"]
    assert listing["next_name"]
    types = {t["name"]: t for t in payload(api.get("volume-types/"))}
    assert set(types) == {"SSD", "HDD", "NVMe"}
    for name, kind in types.items():
        assert (kind["min_size_gb"], kind["max_size_gb"]) == (100, 1000)
        tier = kind["tier"]
        assert kind["price_per_tb_hour"] == VOLUME_RATES_PER_TB_HOUR[tier][name]["USD"]
    assert {n: k["tier"] for n, k in types.items()} == {
        "SSD": "legacy",
        "HDD": "advanced",
        "NVMe": "advanced",
    }


def test_volume_types_sizes_and_bootable(sim: SimHandle, api: httpx.Client) -> None:
    image = os_image(api, "US-1")
    base = {"region": "US-1", "size_gb": 100}
    for size in (99, 1001):
        problem = error(
            api.post("volumes/", json={**base, "name": f"v{size}", "size_gb": size}),
            400,
            "VALIDATION_ERROR",
        )
        assert problem["details"]["field"] == "size_gb"
    problem = error(
        api.post("volumes/", json={**base, "name": "old", "volume_type": "standard"}),
        400,
        "VALIDATION_ERROR",
    )
    assert problem["details"]["field"] == "volume_type"
    error(
        api.post("volumes/", json={**base, "name": "boot", "bootable": True}),
        400,
        "VALIDATION_ERROR",
    )  # a bootable volume needs an OS image
    error(
        api.post("volumes/", json={**base, "name": "data", "image_id": image}),
        400,
        "VALIDATION_ERROR",
    )  # and only a bootable one takes one
    boot = payload(
        api.post(
            "volumes/",
            json={
                **base,
                "name": "boot",
                "volume_type": "NVMe",
                "bootable": True,
                "image_id": image,
            },
        ),
        201,
    )
    assert (boot["volume_type"], boot["tier"], boot["bootable"]) == ("NVMe", "advanced", True)
    assert boot["image_id"] == image
    plain = payload(api.post("volumes/", json={**base, "name": "hdd", "volume_type": "HDD"}), 201)
    assert (plain["volume_type"], plain["tier"], plain["bootable"]) == ("HDD", "advanced", False)
    sim.advance(60)
    clone = payload(api.post(f"volumes/{boot['id']}/clone/", json={"name": "boot-copy"}), 201)
    assert (clone["volume_type"], clone["bootable"]) == ("NVMe", True)
    vm = payload(
        deploy(
            api,
            name="from-vol",
            region="US-1",
            gpu_model="A40",
            image_id=None,
            volume_id=boot["id"],
        ),
        201,
    )
    assert vm["boot_source"] == "volume"
    problem = error(
        deploy(
            api,
            name="from-hdd",
            region="US-1",
            gpu_model="A40",
            image_id=None,
            volume_id=plain["id"],
        ),
        400,
        "VALIDATION_ERROR",
    )
    assert problem["details"]["field"] == "volume_id"


def test_firewalls(sim: SimHandle, api: httpx.Client) -> None:
    instance = active_instance(sim, api)
    fw = payload(api.post("firewalls/", json={"name": "web", "region": "NORWAY-1"}), 201)
    error(api.post("firewalls/", json={"name": "web", "region": "US-1"}), 409, "DUPLICATE_NAME")
    error(
        api.post("firewalls/", json={"name": "bad!", "region": "US-1"}), 422, "INVALID_NAME_FORMAT"
    )
    rule = payload(
        api.post(f"firewalls/{fw['id']}/rules/", json={"direction": "ingress", "protocol": "ICMP"}),
        201,
    )
    available = payload(api.get(f"firewalls/{fw['id']}/available-instances/"))
    assert [vm["id"] for vm in available] == [instance["id"]]
    attached = payload(
        api.post(f"firewalls/{fw['id']}/attach/", json={"instance_ids": [instance["id"]]})
    )
    assert attached[0]["instance_id"] == instance["id"]
    assert (
        payload(api.get(f"instances/{instance['id']}/firewalls/"))[0]["rules"][0]["id"]
        == rule["id"]
    )
    us = payload(api.post("firewalls/", json={"name": "us", "region": "US-1"}), 201)
    error(
        api.post(f"firewalls/{us['id']}/attach/", json={"instance_ids": [instance["id"]]}),
        422,
        "REGION_INCOMPATIBLE",
    )
    removed = payload(api.delete(f"firewalls/{fw['id']}/rules/{rule['id']}/"))
    assert removed == {"firewall_id": fw["id"], "rule_id": rule["id"]}
    for n in range(23):
        payload(api.post("firewalls/", json={"name": f"fw-{n}", "region": "US-1"}), 201)
    problem = error(
        api.post("firewalls/", json={"name": "one-too-many", "region": "US-1"}),
        409,
        "INVALID_STATE",
    )
    assert problem["details"]["limit"] == 25
    protocols = {p["name"]: p["supports_ports"] for p in payload(api.get("firewalls/protocols/"))}
    assert protocols == {"TCP": True, "UDP": True, "ICMP": False}


def test_ssh_keys_and_scripts(sim: SimHandle, api: httpx.Client) -> None:
    generated = payload(api.post("ssh-keys/", json={"name": "gen"}), 201)
    assert generated["private_key"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    fetched = payload(api.get(f"ssh-keys/{generated['id']}/"))
    assert "private_key" not in fetched
    assert fetched["fingerprint"].startswith("SHA256:")
    error(
        api.post("ssh-keys/", json={"name": "k2", "public_key": "ssh-rsa nope"}),
        400,
        "VALIDATION_ERROR",
    )
    imported = payload(
        api.post("ssh-keys/", json={"name": "k3", "public_key": generated["public_key"]}), 201
    )
    assert "private_key" not in imported or imported["private_key"] is None
    assert payload(api.delete(f"ssh-keys/{imported['id']}/")) == {"ssh_key_id": imported["id"]}
    script = payload(
        api.post("scripts/", json={"name": "boot", "content": "#!/bin/sh\necho hi"}), 201
    )
    updated = payload(api.put(f"scripts/{script['id']}/", json={"content": "#!/bin/sh\nexit 0"}))
    assert updated["content"].endswith("exit 0")
    other = payload(api.post("scripts/", json={"name": "two", "content": "x"}), 201)
    error(
        api.post("scripts/bulk-delete/", json={"ids": [script["id"], "scr-none"]}), 404, "NOT_FOUND"
    )
    deleted = payload(api.post("scripts/bulk-delete/", json={"ids": [script["id"], other["id"]]}))
    assert deleted == {"script_ids": [script["id"], other["id"]]}
    assert payload(api.get("scripts/")) == []


def test_ai_chat_is_billed(sim: SimHandle, api: httpx.Client) -> None:
    models = payload(api.get("ai/models/"))
    before = balance(api)
    answer = payload(
        api.post(
            "ai/chat/completions/",
            json={
                "model": models[0]["id"],
                "messages": [{"role": "user", "content": "hello there"}],
            },
        )
    )
    assert answer["choices"][0]["message"]["content"]
    cost = Decimal(answer["cost"])
    assert cost > 0
    assert balance(api) == before - cost
    summary = payload(api.get("ai/usage/summary/"))
    assert summary["total_requests"] == 1
    assert Decimal(summary["total_cost"]) == cost
    assert payload(api.get("ai/usage/history/"))[0]["id"] == answer["id"]
    error(
        api.post(
            "ai/chat/completions/",
            json={"model": "nope", "messages": [{"role": "user", "content": "x"}]},
        ),
        404,
        "NOT_FOUND",
    )


def test_gpu_specs_and_stock_configurations(sim: SimHandle, api: httpx.Client) -> None:
    specs = {s["gpu_model"]: s for s in payload(api.get("gpu-specs/"))}
    assert specs["H100-SXM5-80GB"]["specs"]["gpu_memory_gb"] == 80
    assert "CANADA-1" not in specs["L40"]["regions"]
    sim.set_stock("US-1", "L40", 5)
    item = next(
        s
        for s in payload(api.get("gpu-stocks/", params={"region": "US-1"}))
        if s["gpu_model"] == "L40"
    )
    assert {c["gpu_count"]: c["available"] for c in item["configurations"]} == {
        1: 5,
        2: 2,
        4: 1,
        8: 0,
    }
