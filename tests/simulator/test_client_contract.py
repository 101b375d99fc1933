"""Every operation of the API through the real client against the simulator, over a socket.

The client and the simulator share the route table and the models; this walks a realistic
life of an account through every operation, so any drift between what the simulator
sends and what the client parses fails here. The request log proves every route was hit.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from barrack import AsyncBarrack, InvalidStateError, RetryPolicy
from barrack._wire import ROUTES
from simulator.testing import SimHandle

PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBaYhO8wI6nZ3l1rXK2xHtOi0uYQzY4h6s8c0bq8fR1x laptop"
)


@pytest.fixture
async def client(sim: SimHandle) -> AsyncIterator[AsyncBarrack]:
    async with AsyncBarrack(
        api_key=sim.api_key, base_url=sim.base_url, retry_policy=RetryPolicy(max_attempts=1)
    ) as c:
        yield c


def _template(method: str, path: str) -> tuple[str, str] | None:
    path = path.removeprefix("/v1")
    for spec in ROUTES.values():
        if spec.method != method:
            continue
        pattern = re.sub(
            r"\{\w+\}", "[^/]+", re.escape(spec.path).replace(r"\{", "{").replace(r"\}", "}")
        )
        if re.fullmatch(pattern, path):
            return method, spec.path
    return None


async def test_every_operation_round_trips(sim: SimHandle, client: AsyncBarrack) -> None:
    # Account and catalogue
    balance = await client.balance.get()
    assert balance.balance == Decimal("100.00")
    regions = await client.regions.list()
    assert {r.name for r in regions} == {"NORWAY-1", "CANADA-1", "US-1"}
    assert await client.gpu_stocks.list(region="US-1")
    assert await client.gpu_specs.list()
    prices = await client.pricing.list(gpu_model="L40")
    assert prices
    assert prices[0].price_per_hour == Decimal("1.19")
    assert await client.pricing.quote(gpu_model="L40", gpu_count=2, region="US-1")
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
    rule = await client.instances.add_security_rule(
        vm.id,
        direction="ingress",
        protocol="TCP",
        port_range_min=22,
        port_range_max=22,
        remote_cidr="203.0.113.0/24",
    )
    await client.instances.remove_security_rule(vm.id, rule.id)
    assert (await client.instances.set_public_ip(vm.id, enabled=False)).public_ip_enabled is False
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

    # Clean up
    await client.snapshots.delete(snap.id)
    await client.firewalls.delete(fw.id)
    await client.instances.delete(copy.id)
    await client.instances.delete(vm.id)
    sim.advance("5m")
    await client.volumes.delete(vol.id)
    await client.ssh_keys.delete(key.id)

    hit = {_template(r["method"], r["path"]) for r in sim.requests()}
    missing = {(s.method, s.path) for s in ROUTES.values()} - hit
    assert not missing, f"operations never exercised: {sorted(missing)}"
