"""Snapshots, restores and custom images (A3, B5) with their exact errors."""

from __future__ import annotations

import httpx

from simulator.testing import SimHandle
from tests.simulator.helpers import active_instance, deploy, error, payload, snapshot_ready


def test_only_an_active_instance_can_be_snapshotted(sim: SimHandle, api: httpx.Client) -> None:
    created = payload(deploy(api), 201)
    problem = error(
        api.post("snapshots/", json={"instance_id": created["id"], "name": "too-early"}),
        409,
        "INVALID_STATE",
    )
    assert problem["details"]["current_status"] == "CREATING"
    assert problem["details"]["allowed"] == ["ACTIVE"]
    eligible = payload(api.get("snapshots/eligible-instances/"))
    assert eligible == []
    sim.advance(180)
    assert [vm["id"] for vm in payload(api.get("snapshots/eligible-instances/"))] == [created["id"]]


def test_snapshot_names_are_unique_and_well_formed(sim: SimHandle, api: httpx.Client) -> None:
    instance = active_instance(sim, api)
    body = {"instance_id": instance["id"], "name": "nightly"}
    payload(api.post("snapshots/", json=body), 201)
    error(api.post("snapshots/", json=body), 409, "DUPLICATE_NAME")
    error(api.post("snapshots/", json={**body, "name": "bad/name"}), 422, "INVALID_NAME_FORMAT")
    error(api.post("snapshots/", json={**body, "name": "x" * 51}), 422, "INVALID_NAME_FORMAT")


def test_snapshot_time_grows_with_disk_size(sim: SimHandle, api: httpx.Client) -> None:
    small = active_instance(sim, api, name="small", gpu_count=1)
    big = active_instance(sim, api, name="big", gpu_count=8)
    ids = {}
    for vm in (small, big):
        body = {"instance_id": vm["id"], "name": f"snap-{vm['name']}"}
        ids[vm["name"]] = payload(api.post("snapshots/", json=body), 201)["id"]
    ready_after: dict[str, int] = {}
    for minute in range(1, 40):
        sim.advance(60)
        for name, sid in ids.items():
            if (
                name not in ready_after
                and payload(api.get(f"snapshots/{sid}/"))["status"] == "SUCCESS"
            ):
                ready_after[name] = minute
    assert ready_after["small"] < ready_after["big"]
    snap = payload(api.get(f"snapshots/{ids['big']}/"))
    assert snap["disk_gb"] == 3600
    assert 0 < snap["size_gb"] < 3600
    assert snap["flavor"]["gpu_count"] == 8


def test_restore_rules_and_errors(sim: SimHandle, api: httpx.Client) -> None:
    instance = active_instance(sim, api, gpu_model="L40", name="renderer")
    creating = payload(
        api.post("snapshots/", json={"instance_id": instance["id"], "name": "s1"}), 201
    )
    problem = error(
        api.post(f"snapshots/{creating['id']}/restore/", json={"name": "copy"}),
        409,
        "INVALID_SNAPSHOT_STATUS",
    )
    assert problem["details"]["current_status"] == "CREATING"
    sim.advance(3600)
    sid = creating["id"]
    error(
        api.post(f"snapshots/{sid}/restore/", json={"name": "copy", "region": "CANADA-1"}),
        422,
        "REGION_INCOMPATIBLE",
    )
    error(api.post(f"snapshots/{sid}/restore/", json={"name": "renderer"}), 409, "DUPLICATE_NAME")
    error(api.post(f"snapshots/{sid}/restore/", json={"name": "a b"}), 422, "INVALID_NAME_FORMAT")
    sim.settings(layer2_fail_regions=["US-1"])
    error(
        api.post(f"snapshots/{sid}/restore/", json={"name": "copy", "region": "US-1"}),
        422,
        "LAYER2_VALIDATION_FAILED",
    )
    sim.settings(layer2_fail_regions=[])
    sim.set_stock("US-1", "L40", 0)
    error(
        api.post(f"snapshots/{sid}/restore/", json={"name": "copy", "region": "US-1"}),
        409,
        "OUT_OF_STOCK",
    )
    sim.set_profile_complete(False)
    error(api.post(f"snapshots/{sid}/restore/", json={"name": "copy"}), 403, "PROFILE_INCOMPLETE")
    error(api.post("snapshots/snap-missing/restore/", json={"name": "copy"}), 404, "NOT_FOUND")


def test_restore_deploys_a_new_instance_and_cross_region_is_slower(
    sim: SimHandle, api: httpx.Client
) -> None:
    instance = active_instance(sim, api, name="source")
    snap = snapshot_ready(sim, api, instance["id"], "base")
    same = payload(api.post(f"snapshots/{snap['id']}/restore/", json={"name": "same"}), 201)
    other = payload(
        api.post(f"snapshots/{snap['id']}/restore/", json={"name": "far", "region": "US-1"}), 201
    )
    for restored, region in ((same, "NORWAY-1"), (other, "US-1")):
        assert restored["status"] == "CREATING"
        assert restored["boot_source"] == "snapshot"
        assert restored["ip_address"] is None
        assert restored["region"] == region
        assert restored["flavor"] == instance["flavor"]
        assert restored["ssh_key_ids"] == instance["ssh_key_ids"]
        assert restored["id"] != instance["id"]
    minutes: dict[str, int] = {}
    for minute in range(1, 60):
        sim.advance(60)
        for vm in (same, other):
            got = payload(api.get(f"instances/{vm['id']}/"))
            if vm["name"] not in minutes and got["status"] == "ACTIVE":
                minutes[vm["name"]] = minute
    assert minutes["same"] < minutes["far"]


def test_deleted_snapshot_gives_410_and_fails_a_running_restore(
    sim: SimHandle, api: httpx.Client
) -> None:
    instance = active_instance(sim, api)
    snap = snapshot_ready(sim, api, instance["id"], "doomed")
    restoring = payload(api.post(f"snapshots/{snap['id']}/restore/", json={"name": "child"}), 201)
    assert payload(api.delete(f"snapshots/{snap['id']}/")) == {"snapshot_id": snap["id"]}
    error(api.get(f"snapshots/{snap['id']}/"), 404, "NOT_FOUND")
    error(
        api.post(f"snapshots/{snap['id']}/restore/", json={"name": "again"}),
        410,
        "SNAPSHOT_DELETED",
    )
    sim.advance(3600)
    assert payload(api.get(f"instances/{restoring['id']}/"))["status"] == "ERROR"


def test_a_snapshot_backing_an_image_cannot_be_deleted(sim: SimHandle, api: httpx.Client) -> None:
    instance = active_instance(sim, api)
    snap = snapshot_ready(sim, api, instance["id"], "golden")
    image = payload(
        api.post("images/", json={"snapshot_id": snap["id"], "name": "golden-img"}), 201
    )
    assert image["status"] == "CREATING"
    problem = error(api.delete(f"snapshots/{snap['id']}/"), 409, "INVALID_STATE")
    assert problem["details"]["image_id"] == image["id"]
    assert problem["details"]["image_name"] == "golden-img"
    relation = payload(api.get(f"snapshots/{snap['id']}/image-relationship/"))
    assert relation == {"snapshot_id": snap["id"], "has_image": True, "image_ids": [image["id"]]}
    batch = payload(api.post("snapshots/image-relationships/", json={"snapshot_ids": [snap["id"]]}))
    assert batch == [relation]
    assert payload(api.get(f"snapshots/{snap['id']}/"))["has_image"] is True
    sim.advance(600)
    assert payload(api.get(f"images/{image['id']}/"))["status"] == "ACTIVE"
    assert payload(api.delete(f"images/{image['id']}/")) == {"image_id": image["id"]}
    payload(api.delete(f"snapshots/{snap['id']}/"))


def test_snapshot_lists_filter_by_region_and_instance(sim: SimHandle, api: httpx.Client) -> None:
    one = active_instance(sim, api, name="one")
    two = active_instance(sim, api, name="two", region="US-1")
    for n in range(3):
        payload(api.post("snapshots/", json={"instance_id": one["id"], "name": f"one-{n}"}), 201)
        sim.advance(1)
    payload(api.post("snapshots/", json={"instance_id": two["id"], "name": "two-0"}), 201)
    everything = api.get("snapshots/", params={"per_page": 3})
    assert [s["name"] for s in payload(everything)] == ["two-0", "one-2", "one-1"]
    assert everything.json()["pagination"]["total"] == 4
    by_instance = payload(api.get("snapshots/", params={"instance_id": one["id"]}))
    assert {s["name"] for s in by_instance} == {"one-0", "one-1", "one-2"}
    assert [s["name"] for s in payload(api.get("snapshots/", params={"region": "US-1"}))] == [
        "two-0"
    ]


def test_image_rules(sim: SimHandle, api: httpx.Client) -> None:
    instance = active_instance(sim, api)
    creating = payload(
        api.post("snapshots/", json={"instance_id": instance["id"], "name": "s"}), 201
    )
    error(
        api.post("images/", json={"snapshot_id": creating["id"], "name": "img"}),
        409,
        "INVALID_SNAPSHOT_STATUS",
    )
    error(api.post("images/", json={"snapshot_id": "snap-x", "name": "img"}), 404, "NOT_FOUND")
