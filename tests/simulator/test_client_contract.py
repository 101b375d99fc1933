"""Every operation of the API through the real client against the simulator, over a socket.

The client and the simulator share the route table and the models; this walks a realistic
life of an account through every operation, so any drift between what the simulator
sends and what the client parses fails here. The simulator's request log then proves, for
every route of ``barrack._wire.ROUTES``, that the client called its path with the trailing
slash and that the simulator answered under the route's payload key (or flat).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from barrack import AsyncBarrack, InvalidStateError, RetryPolicy
from barrack._wire import API_PREFIX, ENVELOPE_FIELDS, ROUTES, Route
from barrack.models import GpuModelEnum, TierEnum, VolumeTypeEnum
from simulator.seed_data import GPU_PRICES, VOLUME_RATES_PER_TB_HOUR
from simulator.testing import SimHandle
from tests.simulator.helpers import route_of

PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBaYhO8wI6nZ3l1rXK2xHtOi0uYQzY4h6s8c0bq8fR1x laptop"
)


@pytest.fixture
async def client(sim: SimHandle) -> AsyncIterator[AsyncBarrack]:
    async with AsyncBarrack(
        api_key=sim.api_key, base_url=sim.base_url, retry_policy=RetryPolicy(max_attempts=1)
    ) as c:
        yield c


def expected_keys(spec: Route) -> set[str] | None:
    """The top-level keys of a keyed route's success answer; None for a flat route."""
    if spec.payload is None:
        return None
    return {*ENVELOPE_FIELDS, spec.payload} | ({"pagination"} if spec.paginated else set())


def check_log(entries: list[dict[str, object]]) -> set[str]:
    """Check every API request of the log against its route; the operations that succeeded."""
    succeeded: set[str] = set()
    for entry in entries:
        method, path, status = str(entry["method"]), str(entry["path"]), entry["status"]
        assert path.startswith(API_PREFIX + "/"), entry
        assert path.endswith("/"), f"{method} {path}: no trailing slash"
        spec = route_of(method, path)
        assert spec is not None, f"{method} {path} matches no route"
        keys = list(entry["body_keys"])  # type: ignore[call-overload]
        assert isinstance(status, int)
        if status >= 400:
            assert set(keys) == {"success", "message", "error", "request_id"}, entry
            continue
        assert status == spec.status, entry
        assert "data" not in keys, entry
        wanted = expected_keys(spec)
        if wanted is None:
            flat = set(keys) - set(ENVELOPE_FIELDS)
            assert set(ENVELOPE_FIELDS) <= set(keys), entry
            assert flat, f"{spec.operation}: a flat answer with no fields"
            assert not flat & {"pagination", *(r.payload for r in ROUTES.values())}, entry
        else:
            assert set(keys) == wanted, (spec.operation, keys)
        succeeded.add(spec.operation)
    return succeeded


async def test_every_operation_round_trips(sim: SimHandle, client: AsyncBarrack) -> None:
    sim.clear_requests()
    # Account and catalogue
    balance = await client.balance.get()
    assert balance.balance == Decimal("100.00")
    regions = await client.regions.list()
    assert {r.name for r in regions} == {"NORWAY-1", "CANADA-1", "US-1"}
    assert await client.gpu_stocks.list(region="US-1")
    assert await client.gpu_specs.list()
    prices = await client.pricing.get(gpu_model="L40")
    assert prices.gpus is not None
    l40 = prices.gpus.pricing[TierEnum.LEGACY][GpuModelEnum.L40]
    assert prices.gpus.pricing == {"legacy": {"L40": l40}}
    assert l40.prices == GPU_PRICES["L40"]
    quote = await client.pricing.quote(resource_type="volumes", volume_type="NVMe", tier="advanced")
    assert quote.gpus is None
    assert quote.volumes is not None
    nvme = quote.volumes.pricing[TierEnum.ADVANCED][VolumeTypeEnum.NVME].prices
    assert nvme == VOLUME_RATES_PER_TB_HOUR["advanced"]["NVMe"]
    images = await client.os_images.list(region="US-1")

    # Keys and scripts
    key = await client.ssh_keys.create(name="laptop", public_key=PUBLIC_KEY)
    generated = await client.ssh_keys.create(name="generated")
    assert generated.private_key is not None
    assert await client.ssh_keys.get(key.id)
    assert len(await client.ssh_keys.list()) >= 2
    await client.ssh_keys.delete(generated.id)
    script = await client.scripts.create(name="setup", content="#!/bin/bash\nnvidia-smi\n")
    assert (await client.scripts.update(script.id, description="v2")).description == "v2"
    assert (await client.scripts.get(script.id)).content.startswith("#!")
    assert await client.scripts.list()
    extra = await client.scripts.create(name="extra", content="#!/bin/sh\n")
    assert await client.scripts.delete_many([extra.id]) == [extra.id]

    # An instance through its life
    vm = await client.instances.create(
        name="trainer-1",
        region="US-1",
        gpu_model="L40",
        image_id=images[0].id,
        ssh_key_ids=[key.id],
        startup_script_id=script.id,
    )
    assert vm.status == "CREATING"
    await client.scripts.delete(script.id)
    sim.advance("5m")
    vm = await client.instances.get(vm.id)
    assert vm.status == "ACTIVE"
    assert [v.id async for v in client.instances.list(status="ACTIVE")] == [vm.id]
    added = await client.instances.add_security_rule(
        vm.id,
        direction="ingress",
        protocol="TCP",
        port_range_min=22,
        port_range_max=22,
        remote_cidr="203.0.113.0/24",
    )
    assert (added.instance_id, added.tier) == (vm.id, vm.tier)
    removed = await client.instances.remove_security_rule(vm.id, added.rule_id)
    assert (removed.instance_id, removed.rule_id, removed.tier) == (vm.id, added.rule_id, vm.tier)
    toggled = await client.instances.set_public_ip(vm.id, enabled=False)
    assert (toggled.instance_id, toggled.public_ip_enabled) == (vm.id, False)
    assert (await client.instances.reboot(vm.id)).status == "REBOOTING"
    sim.advance("2m")
    assert (await client.instances.stop(vm.id)).status == "STOPPING"
    sim.advance("2m")
    assert (await client.instances.start(vm.id)).status == "STARTING"
    sim.advance("2m")
    with pytest.raises(InvalidStateError):
        await client.instances.start(vm.id)
    billing = await client.instances.billing(vm.id)
    assert billing.total > 0

    # Volumes
    vol = await client.volumes.create(name="data", region="US-1", size_gb=100)
    sim.advance("2m")
    assert (await client.volumes.get(vol.id)).size_gb == 100
    assert (await client.volumes.list(region="US-1")).volumes
    assert await client.volumes.types()
    resized = await client.volumes.resize(vol.id, size_gb=200)
    sim.advance("2m")
    clone = await client.volumes.clone(vol.id, name="data-copy")
    sim.advance("2m")
    assert resized.id == vol.id
    attached = await client.instances.attach_volumes(vm.id, [vol.id])
    assert attached[0].instance_id == vm.id
    await client.instances.detach_volumes(vm.id, [vol.id])
    assert await client.volumes.billing(vol.id)
    await client.volumes.delete(clone.id)

    # Firewalls
    fw = await client.firewalls.create(name="ssh only", region="US-1")
    assert await client.firewalls.protocols()
    fw_rule = await client.firewalls.add_rule(
        fw.id, direction="ingress", protocol="TCP", port_range_min=22, port_range_max=22
    )
    assert [i.id for i in await client.firewalls.available_instances(fw.id)] == [vm.id]
    assert await client.firewalls.attach(fw.id, [vm.id])
    assert [f.id for f in await client.instances.firewalls(vm.id)] == [fw.id]
    assert (await client.firewalls.get(fw.id)).rules
    assert await client.firewalls.list()
    await client.firewalls.remove_rule(fw.id, fw_rule.id)

    # Snapshots, images, restore
    assert [u.id for u in await client.snapshots.eligible_instances()] == [vm.id]
    snap = await client.snapshots.create(instance_id=vm.id, name="before-upgrade")
    sim.advance("1h")
    snap = await client.snapshots.get(snap.id)
    assert snap.status.is_ready
    assert [s.id async for s in client.snapshots.list(instance_id=vm.id)] == [snap.id]
    assert await client.snapshots.billing(snap.id)
    image = await client.images.create(snapshot_id=snap.id, name="golden")
    assert (await client.snapshots.image_relationship(snap.id)).has_image
    relations = await client.snapshots.image_relationships([snap.id])
    assert relations[0].snapshot_id == snap.id
    with pytest.raises(InvalidStateError):
        await client.snapshots.delete(snap.id)
    assert await client.images.get(image.id)
    assert await client.images.list()
    await client.images.delete(image.id)
    copy = await client.snapshots.restore(snap.id, name="trainer-1-no", region="NORWAY-1")
    assert copy.boot_source == "snapshot"
    assert copy.ip_address is None

    # Hibernation
    assert (await client.instances.hibernate(vm.id)).status == "HIBERNATING"
    sim.advance("5m")
    hibernated = await client.instances.list_hibernated()
    assert [h.instance_id for h in hibernated.instances] == [vm.id]
    assert (await client.instances.restore_hibernated(vm.id)).status == "RESTORING"
    sim.advance("5m")

    # AI
    models = await client.ai.models()
    reply = await client.ai.chat(
        model=models[0].id, messages=[{"role": "user", "content": "hello"}]
    )
    assert reply.choices
    assert await client.ai.usage_summary()
    assert await client.ai.usage_history().to_list()

    # Account-wide billing (guessed routes): the instance has been billed, no top-up yet
    records = await client.billing.records().to_list()
    assert any(r.resource_id == vm.id and r.amount > 0 for r in records)
    assert await client.balance.transactions().to_list() == []

    # Clean up
    await client.snapshots.delete(snap.id)
    await client.firewalls.delete(fw.id)
    assert (await client.instances.delete(copy.id)).status == "DELETING"
    deleted = await client.instances.delete(vm.id)
    assert (deleted.instance_id, deleted.tier) == (vm.id, vm.tier)
    sim.advance("5m")
    await client.volumes.delete(vol.id)
    await client.ssh_keys.delete(key.id)

    succeeded = check_log(sim.requests())
    missing = set(ROUTES) - succeeded
    assert not missing, f"operations never answered with success: {sorted(missing)}"
