"""Turn a :class:`ScenarioSpec` into backend state, relative to the clock's start.

Everything happens in a fixed order through the backend's own services, so the same
scenario and seed give the same ids and data in every run.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from pydantic import ValidationError

from barrack.models.firewalls import AddFirewallRuleRequest
from simulator.backend.instances import make_flavor
from simulator.billing import Ledger
from simulator.records import InstanceRec
from simulator.scenarios.spec import (
    FirewallSpec,
    GenerateSpec,
    InstanceSpec,
    ScenarioError,
    ScenarioSpec,
    SnapshotSeriesSpec,
)
from simulator.seed_data import (
    DEFAULT_STOCK,
    GPU_PRICES,
    OS_IMAGES,
    REGION_OFFERS,
    REGIONS,
)
from simulator.stores import RegionCatalog, State
from simulator.telemetry.profiles import ProfileSpec

if TYPE_CHECKING:
    from simulator.backend import Backend

__all__ = ["DEFAULT_BALANCE", "load_scenario", "os_image_id"]

DEFAULT_BALANCE: Final = Decimal("100.00")
_BOOT_SECONDS: Final = 120
_CENT: Final = Decimal("0.01")


def os_image_id(region: str, key: str) -> str:
    """The id of an OS image in a region (``os-norway-1-ubuntu-22-04-cuda-12-4``)."""
    return f"os-{region.lower()}-{key}"


def load_scenario(backend: Backend, spec: ScenarioSpec) -> None:
    """Fill a fresh world from ``spec`` (the world's clock is at the scenario start)."""
    world = backend.world
    start = world.now
    _catalog(world.state, spec)
    account = world.state.account
    account.currency = spec.account.currency
    account.set_profile_complete(spec.account.profile_complete)

    keys = [
        backend.ssh_keys.add(k.name, k.public_key)
        if k.public_key is not None
        else backend.ssh_keys.add(k.name, backend.ssh_keys.generate(k.name)[0])
        for k in spec.ssh_keys
    ]
    key_ids = {k.name: k.id for k in keys}

    instances: dict[str, InstanceRec] = {}
    for spec_instance in spec.instances:
        instances[spec_instance.name] = _instance(backend, spec_instance, key_ids, start)
    if spec.generate is not None:
        _generate(backend, spec.generate, list(key_ids.values()), start)

    snapshots = {}
    for n, snap in enumerate(spec.snapshots):
        instance = instances[snap.instance]
        created = start - timedelta(seconds=snap.age)
        if created < instance.created_at:
            raise ScenarioError(f"snapshots[{n}].age: the snapshot predates its instance")
        snapshots[snap.name] = backend.snapshots.add(
            instance=instance,
            name=snap.name,
            description=snap.description,
            created_at=created,
            status=snap.status,
        )
    for series in spec.snapshot_series:
        _series(backend, series, instances[series.instance], start)
    for image in spec.images:
        backend.images.build(
            snapshots[image.snapshot],
            image.name,
            image.description,
            status="ACTIVE",
            created_at=snapshots[image.snapshot].created_at + timedelta(minutes=10),
        )
    for n, volume in enumerate(spec.volumes):
        record = backend.volumes.add(
            name=volume.name,
            region=volume.region,
            size_gb=volume.size_gb,
            volume_type=volume.volume_type,
            bootable=volume.bootable,
            image_id=os_image_id(volume.region, volume.image) if volume.image else None,
            description=None,
            created_at=start - timedelta(seconds=volume.age),
            status="AVAILABLE",
        )
        if volume.attach_to is not None:
            target = instances[volume.attach_to]
            if target.region != volume.region:
                raise ScenarioError(f"volumes[{n}].attach_to: {target.name} is in {target.region}")
            backend.volumes.attach_boot(record.id, target)
    for n, firewall in enumerate(spec.firewalls):
        _firewall(backend, n, firewall, instances)

    ledger: Ledger = world.ledger
    if spec.account.runway_hours is not None:
        burn = ledger.burn * Decimal(str(spec.account.runway_hours))
        ledger.set_opening_balance(burn.quantize(_CENT))
    else:
        ledger.set_opening_balance(
            spec.account.balance if spec.account.balance is not None else DEFAULT_BALANCE
        )


def _catalog(state: State, spec: ScenarioSpec) -> None:
    for seed in REGIONS:
        override = spec.regions.get(seed.name)  # type: ignore[call-overload]
        catalog = RegionCatalog(
            name=seed.name,
            location=(override.location if override and override.location else seed.location),
            available=override.available if override else True,
            private_prefix=seed.private_prefix,
            stock={m: DEFAULT_STOCK[seed.name].get(m, 0) for m in REGION_OFFERS[seed.name]},
            os_images={
                os_image_id(seed.name, i.key): (i.name, i.os, i.version, i.size_gb)
                for i in OS_IMAGES
            },
        )
        state.regions[seed.name] = catalog
    for stock in spec.stock:
        state.regions[stock.region].stock[stock.gpu_model] = stock.available
    state.prices = {model: dict(prices) for model, prices in GPU_PRICES.items()}
    for price in spec.prices:
        state.prices[price.gpu_model][price.currency] = price.price_per_hour


def _instance(
    backend: Backend, spec: InstanceSpec, key_ids: dict[str, str], start: datetime
) -> InstanceRec:
    names = spec.ssh_keys if spec.ssh_keys is not None else list(key_ids)
    created = start - timedelta(seconds=spec.age)
    return backend.instances.seed(
        name=spec.name,
        region=spec.region,
        flavor=make_flavor(spec.gpu_model, spec.gpu_count),
        status=spec.status,
        created_at=created,
        status_since=start - timedelta(seconds=spec.status_age)
        if spec.status_age is not None
        else min(created + timedelta(seconds=_BOOT_SECONDS), start),
        image_id=os_image_id(spec.region, spec.image),
        public_ip=spec.public_ip,
        ssh_key_ids=[key_ids[n] for n in names],
        profile=spec.utilization,
        anchor=start,
    )


def _series(
    backend: Backend, series: SnapshotSeriesSpec, instance: InstanceRec, start: datetime
) -> None:
    """One snapshot a day at the slot, for the ``days`` slots before the start."""
    hour, minute = (int(part) for part in series.slot.split(":"))
    last = start.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if last >= start:
        last -= timedelta(days=1)
    for back in range(series.days - 1, -1, -1):
        slot = last - timedelta(days=back)
        # A nightly run starts at the slot and takes a few seconds per instance.
        created = slot + timedelta(seconds=5 + draw_seconds(backend.world.seed, slot, instance))
        if slot < instance.created_at or created >= start:
            continue
        backend.snapshots.add(
            instance=instance,
            name=series.name.format(instance=instance.name, slot=slot)[:50],
            description=(
                series.description.format(instance=instance.name, slot=slot)[:255]
                if series.description is not None
                else None
            ),
            created_at=created,
            status="SUCCESS",
        )


def draw_seconds(seed: int, slot: datetime, instance: InstanceRec) -> int:
    """A few seconds of delay after a slot, fixed by the seed, slot and instance."""
    return random.Random(f"{seed}:{slot.isoformat()}:{instance.id}").randint(0, 40)


def _firewall(
    backend: Backend, n: int, firewall: FirewallSpec, instances: dict[str, InstanceRec]
) -> None:
    rules = []
    for m, rule in enumerate(firewall.rules):
        try:
            rules.append(AddFirewallRuleRequest.model_validate(rule.model_dump()))
        except ValidationError as exc:
            problem = exc.errors(include_url=False, include_input=False)[0]["msg"]
            raise ScenarioError(f"firewalls[{n}].rules[{m}]: {problem}") from None
    record = backend.firewalls.seed(
        name=firewall.name, region=firewall.region, description=firewall.description, rules=rules
    )
    for name in firewall.attach_to:
        instance = instances[name]
        if instance.region != record.region:
            raise ScenarioError(f"firewalls[{n}].attach_to: {name} is in {instance.region}")
        record.attachments[instance.id] = record.created_at
        instance.firewalls[record.id] = record.created_at


def _generate(backend: Backend, spec: GenerateSpec, key_ids: list[str], start: datetime) -> None:
    """A large, varied fleet: deterministic from the seed, spread over regions and models."""
    rng = random.Random(f"{backend.world.seed}:generate")
    regions: list[str] = (
        [str(r) for r in spec.regions] if spec.regions else [r.name for r in REGIONS]
    )
    statuses = [s for s, weight in spec.statuses.items() if weight > 0] or ["ACTIVE"]
    weights = [spec.statuses[s] for s in statuses]
    presets = ["idle", "busy", "spiky"] if spec.utilization == "mixed" else [spec.utilization]
    width = max(4, len(str(spec.instances)))
    for n in range(spec.instances):
        region = regions[n % len(regions)]
        model = rng.choice(REGION_OFFERS[region])
        count = rng.choice((1, 1, 2, 4, 8))
        status = rng.choices(statuses, weights)[0]
        age = rng.uniform(2 * 86400, 90 * 86400)
        created = start - timedelta(seconds=age)
        instance = backend.instances.seed(
            name=f"{spec.name_prefix}-{n:0{width}d}"[:30],
            region=region,
            flavor=make_flavor(model, count),
            status=status,
            created_at=created,
            status_since=created + timedelta(seconds=rng.uniform(_BOOT_SECONDS, age / 2)),
            image_id=os_image_id(region, OS_IMAGES[0].key),
            public_ip=True,
            ssh_key_ids=key_ids[:1],
            profile=ProfileSpec(preset=rng.choice(presets)),  # type: ignore[arg-type]
            anchor=start,
        )
        for k in range(spec.snapshots_per_instance):
            taken = start - timedelta(days=k + 1, hours=-2) - timedelta(minutes=n % 60)
            if taken <= created:
                taken = created + timedelta(minutes=k + 1)
            backend.snapshots.add(
                instance=instance,
                name=f"{instance.name}-snap-{k:03d}",
                description=None,
                created_at=taken,
                status="SUCCESS",
            )
