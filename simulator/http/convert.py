"""Records to ``barrack.models``: the one boundary where backend state becomes wire models.

A record's model is cached against its version, so an unchanged instance is converted
once, not once per request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final, TypeVar

from pydantic import SecretStr

from barrack import models
from barrack.models._rules import VOLUME_TYPE_TIERS
from barrack.models.ai import AIModel, AITransaction
from barrack.models.firewalls import (
    AttachedFirewall,
    FirewallAttachment,
    FirewallEnvironment,
    FirewallResponse,
    FirewallRule,
    FirewallVM,
)
from barrack.models.images import Image, SnapshotImageRelationship
from barrack.models.scripts import Script
from barrack.models.ssh_keys import CreatedSSHKey, SSHKey
from barrack.models.volumes import VolumeResponse
from simulator.backend import Backend
from simulator.billing import Segment, money, seconds_between
from simulator.records import (
    AIUsageRec,
    FirewallRec,
    Flavor,
    ImageRec,
    InstanceRec,
    Record,
    RuleRec,
    ScriptRec,
    SnapshotRec,
    SSHKeyRec,
    VolumeRec,
)
from simulator.seed_data import GPU_SPECS, AIModelSeed

__all__ = [
    "account_billing",
    "ai_model",
    "ai_transaction",
    "attached_firewall",
    "balance",
    "billing",
    "created_ssh_key",
    "credit_transactions",
    "firewall",
    "firewall_rule",
    "firewall_vm",
    "flavor",
    "image",
    "instance",
    "relationship",
    "script",
    "security_rule",
    "snapshot",
    "ssh_key",
    "user_vm",
    "volume",
    "volume_billing",
]

_HOUR = timedelta(hours=1)

T = TypeVar("T")
RecT = TypeVar("RecT", bound=Record)


def _cached(record: RecT, build: Callable[[RecT], T]) -> T:
    cache = record.cache
    if cache is not None and cache[0] == record.version:
        return cache[1]  # type: ignore[no-any-return]
    model = build(record)
    record.cache = (record.version, model)
    return model


def flavor(value: Flavor) -> models.VMFlavor:
    """An instance's hardware."""
    return models.VMFlavor(
        name=value.name,
        gpu_model=models.GpuModelEnum(value.gpu_model),
        gpu_count=models.GpuCountEnum(value.gpu_count),
        vcpus=value.vcpus,
        ram_gb=value.ram_gb,
        disk_gb=value.disk_gb,
    )


def security_rule(rule: RuleRec) -> models.VMSecurityRule:
    """An instance security rule."""
    return models.VMSecurityRule(
        id=rule.id,
        direction=models.DirectionEnum(rule.direction),
        protocol=models.ProtocolEnum(rule.protocol),
        ethertype=models.EthertypeEnum(rule.ethertype),
        port_range_min=rule.port_range_min,
        port_range_max=rule.port_range_max,
        remote_cidr=rule.remote_cidr,
        description=rule.description,
    )


def firewall_rule(rule: RuleRec) -> FirewallRule:
    """A firewall rule."""
    return FirewallRule(
        id=rule.id,
        direction=models.DirectionEnum(rule.direction),
        protocol=models.ProtocolEnum(rule.protocol),
        ethertype=models.EthertypeEnum(rule.ethertype),
        port_range_min=rule.port_range_min,
        port_range_max=rule.port_range_max,
        remote_cidr=rule.remote_cidr,
        description=rule.description,
        created_at=rule.created_at,
    )


def _tier(gpu_model: str) -> models.TierEnum | None:
    seed = GPU_SPECS.get(gpu_model)
    return models.TierEnum(seed.tier) if seed is not None else None


def instance(backend: Backend, record: InstanceRec) -> models.VMInstance:
    """A ``VMInstance``."""
    world = backend.world

    def build(rec: InstanceRec) -> models.VMInstance:
        volumes = world.state.volumes.rows
        image = None
        if rec.image_id is not None:
            image = models.VMImage(
                id=rec.image_id, name=rec.image_name, source=models.BootSource(rec.boot_source)
            )
        return models.VMInstance(
            id=rec.id,
            name=rec.name,
            status=models.VMStatus(rec.status),
            region=models.RegionEnum(rec.region),
            flavor=flavor(rec.flavor),
            image=image,
            boot_source=models.BootSource(rec.boot_source),
            ip_address=rec.ip_address,
            private_ip=rec.private_ip,
            public_ip_enabled=rec.public_ip_enabled,
            ssh_key_ids=list(rec.ssh_key_ids),
            volumes=[
                models.VMVolumeAttachment(
                    volume_id=vid,
                    name=volumes[vid].name if vid in volumes else None,
                    size_gb=volumes[vid].size_gb if vid in volumes else None,
                    bootable=vid in volumes and volumes[vid].device == "/dev/vda",
                    device=volumes[vid].device if vid in volumes else None,
                    attached_at=at,
                )
                for vid, at in rec.volumes.items()
            ],
            security_rules=[security_rule(r) for r in rec.security_rules.values()],
            tier=_tier(rec.flavor.gpu_model),
            hourly_price=money(backend.instances.rate(rec)),
            currency=models.CurrencyEnum(world.currency),
            startup_script_id=rec.startup_script_id,
            snapshot_id=rec.snapshot_id,
            created_at=rec.created_at,
            updated_at=rec.updated_at,
        )

    return _cached(record, build)


def user_vm(record: InstanceRec) -> models.UserVM:
    """An instance in short form."""
    return models.UserVM(
        id=record.id,
        name=record.name,
        status=models.VMStatus(record.status),
        region=models.RegionEnum(record.region),
        flavor=flavor(record.flavor),
        disk_gb=record.flavor.disk_gb,
        created_at=record.created_at,
    )


def snapshot(record: SnapshotRec) -> models.Snapshot:
    """A ``Snapshot``."""

    def build(rec: SnapshotRec) -> models.Snapshot:
        return models.Snapshot(
            id=rec.id,
            name=rec.name,
            description=rec.description,
            status=models.SnapshotStatus(rec.status),
            region=models.RegionEnum(rec.region),
            instance_id=rec.instance_id,
            instance_name=rec.instance_name,
            size_gb=rec.size_gb,
            disk_gb=rec.flavor.disk_gb,
            flavor=flavor(rec.flavor),
            has_image=bool(rec.image_ids),
            created_at=rec.created_at,
            updated_at=rec.updated_at,
        )

    return _cached(record, build)


def relationship(record: SnapshotRec) -> SnapshotImageRelationship:
    """Which images a snapshot backs."""
    return SnapshotImageRelationship(
        snapshot_id=record.id, has_image=bool(record.image_ids), image_ids=list(record.image_ids)
    )


def image(record: ImageRec) -> Image:
    """A custom ``Image``."""
    return Image(
        id=record.id,
        name=record.name,
        description=record.description,
        status=models.ImageStatus(record.status),
        region=models.RegionEnum(record.region),
        snapshot_id=record.snapshot_id,
        size_gb=record.size_gb,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def volume(backend: Backend, record: VolumeRec) -> VolumeResponse:
    """A volume."""
    return VolumeResponse(
        id=record.id,
        name=record.name,
        description=record.description,
        region=models.RegionEnum(record.region),
        size_gb=record.size_gb,
        volume_type=models.VolumeTypeEnum(record.volume_type),
        tier=models.TierEnum(VOLUME_TYPE_TIERS.get(record.volume_type, "legacy")),
        bootable=record.bootable,
        status=models.VolumeStatus(record.status),
        image_id=record.image_id,
        instance_id=record.instance_id,
        hourly_price=money(backend.volumes.rate(record)),
        currency=models.CurrencyEnum(backend.world.currency),
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def firewall(record: FirewallRec, names: dict[str, str]) -> FirewallResponse:
    """A firewall; ``names`` maps instance ids to names for the attachments."""
    return FirewallResponse(
        id=record.id,
        name=record.name,
        description=record.description,
        region=models.RegionEnum(record.region),
        environment=FirewallEnvironment(
            region=models.RegionEnum(record.region),
            network_id=record.network_id,
            name=f"{record.region} default network",
        ),
        rules=[firewall_rule(r) for r in record.rules.values()],
        attachments=[
            FirewallAttachment(
                firewall_id=record.id,
                instance_id=iid,
                instance_name=names.get(iid),
                attached_at=at,
            )
            for iid, at in record.attachments.items()
        ],
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def attached_firewall(record: FirewallRec, attached_at: datetime | None) -> AttachedFirewall:
    """A firewall as seen from an instance."""
    return AttachedFirewall(
        id=record.id,
        name=record.name,
        description=record.description,
        region=models.RegionEnum(record.region),
        rules=[firewall_rule(r) for r in record.rules.values()],
        attached_at=attached_at,
    )


def firewall_vm(record: InstanceRec) -> FirewallVM:
    """An instance a firewall could attach to."""
    return FirewallVM(
        id=record.id,
        name=record.name,
        status=models.VMStatus(record.status),
        region=models.RegionEnum(record.region),
        ip_address=record.ip_address,
    )


def ssh_key(record: SSHKeyRec) -> SSHKey:
    """An SSH key."""
    return SSHKey(
        id=record.id,
        name=record.name,
        public_key=record.public_key,
        fingerprint=record.fingerprint,
        created_at=record.created_at,
    )


def created_ssh_key(record: SSHKeyRec, private_key: str | None) -> CreatedSSHKey:
    """The one-time answer to creating a key (with the private half if it was generated)."""
    return CreatedSSHKey(
        id=record.id,
        name=record.name,
        public_key=record.public_key,
        fingerprint=record.fingerprint,
        created_at=record.created_at,
        private_key=SecretStr(private_key) if private_key is not None else None,
    )


def script(record: ScriptRec) -> Script:
    """A startup script."""
    return Script(
        id=record.id,
        name=record.name,
        description=record.description,
        content=record.content,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def balance(backend: Backend) -> models.Balance:
    """The credit balance."""
    world = backend.world
    amount = world.balance()
    return models.Balance(
        balance=money(amount),
        currency=models.CurrencyEnum(world.currency),
        updated_at=world.ledger.updated_at,
    )


def _clip(segment: Segment, start: datetime | None, end: datetime) -> Segment | None:
    seg_end = segment.end if segment.end is not None else end
    lo = max(segment.start, start) if start is not None else segment.start
    hi = min(seg_end, end)
    if hi <= lo:
        return None
    open_end = segment.end is None and hi == end
    return Segment(lo, None if open_end else hi, segment.status, segment.rate_per_hour)


_RESOURCE_TYPES: Final = {"instance": "gpus", "volume": "volumes", "snapshot": "snapshots"}
"""The ledger's kinds as Part C's ``resource_type`` values."""


def billing(
    backend: Backend,
    kind: str,
    resource_id: str,
    start: datetime | None,
    end: datetime | None,
) -> models.Billing:
    """A resource's bill over ``[start, end]`` (end defaults to now)."""
    world = backend.world
    now = world.now
    until = min(end, now) if end is not None else now
    currency = models.CurrencyEnum(world.currency)
    records: list[models.BillingRecord] = []
    total = Decimal(0)
    total_minutes = Decimal(0)
    by_status: dict[str, Decimal] = {}
    for segment in world.ledger.segments(kind, resource_id):
        clipped = _clip(segment, start, until)
        if clipped is None:
            continue
        seconds = clipped.seconds(until)
        amount = clipped.amount(until)
        minutes = seconds / 60
        records.append(
            models.BillingRecord(
                start=clipped.start,
                end=clipped.end,
                status=clipped.status,
                minutes=minutes.normalize(),
                rate_per_hour=money(clipped.rate_per_hour),
                amount=money(amount),
            )
        )
        total += amount
        total_minutes += minutes
        by_status[clipped.status] = by_status.get(clipped.status, Decimal(0)) + amount
    return models.Billing(
        resource_id=resource_id,
        resource_type=models.ResourceTypeEnum(_RESOURCE_TYPES.get(kind, kind)),
        currency=currency,
        start=start,
        end=until,
        total=money(total),
        records=records,
        summary=models.BillingSummary(
            total_minutes=total_minutes.normalize(),
            total_amount=money(total),
            currency=currency,
            by_status={k: money(v) for k, v in by_status.items()},
        ),
    )


def account_billing(
    backend: Backend,
    start: datetime | None,
    end: datetime | None,
    resource_type: str | None = None,
) -> list[models.AccountBillingRecord]:
    """Every billed period of the account over ``[start, end]``, newest first.

    Deleted resources are included (their tombstones name them); periods are clipped to
    the window like an instance's bill, so the amounts of a window add up, exactly, to
    what the balance lost to those meters in it.
    """
    world = backend.world
    until = min(end, world.now) if end is not None else world.now
    currency = models.CurrencyEnum(world.currency)
    rows: list[models.AccountBillingRecord] = []
    for kind, resource_id in world.ledger.meters():
        wire_type = _RESOURCE_TYPES.get(kind, kind)
        if resource_type is not None and wire_type != resource_type:
            continue
        labels = _billing_labels(backend, kind, resource_id)
        for segment in world.ledger.segments(kind, resource_id):
            clipped = _clip(segment, start, until)
            if clipped is None:
                continue
            rows.append(
                models.AccountBillingRecord(
                    resource_type=models.ResourceTypeEnum(wire_type),
                    resource_id=resource_id,
                    start=clipped.start,
                    end=clipped.end,
                    status=clipped.status,
                    minutes=(clipped.seconds(until) / 60).normalize(),
                    rate_per_hour=money(clipped.rate_per_hour),
                    amount=money(clipped.amount(until)),
                    currency=currency,
                    **labels,
                )
            )
    rows.sort(key=lambda r: (r.start, r.resource_id), reverse=True)
    return rows


def _billing_labels(backend: Backend, kind: str, resource_id: str) -> dict[str, Any]:
    """What a billing record says about its resource (deleted ones from their tombstones)."""
    state = backend.world.state
    if kind == "instance":
        vm = state.instances.get(resource_id) or state.instance_tombstones.get(resource_id)
        if vm is None:
            return {}
        tier = _tier(vm.flavor.gpu_model)
        return {
            "resource_name": vm.name,
            "instance_id": vm.id,
            "region": vm.region,
            "tier": tier.value if tier is not None else None,
            "gpu_model": vm.flavor.gpu_model,
            "gpu_count": vm.flavor.gpu_count,
        }
    if kind == "snapshot":
        snap = state.snapshots.get(resource_id) or state.snapshot_tombstones.get(resource_id)
        if snap is None:
            return {}
        return {
            "resource_name": snap.name,
            "instance_id": snap.instance_id,
            "region": snap.region,
            "tier": "legacy",
            "gpu_model": snap.flavor.gpu_model or None,
            "gpu_count": snap.flavor.gpu_count,
        }
    if kind == "volume":
        vol = state.volumes.get(resource_id) or state.volume_tombstones.get(resource_id)
        if vol is None:
            return {}
        return {
            "resource_name": vol.name,
            "instance_id": vol.instance_id,
            "region": vol.region,
            "tier": VOLUME_TYPE_TIERS.get(vol.volume_type, "legacy"),
        }
    return {}


def credit_transactions(
    backend: Backend, start: datetime | None, end: datetime | None
) -> list[models.CreditTransaction]:
    """Top-ups in ``[start, end)``, newest first (ids are their place in the history)."""
    world = backend.world
    currency = models.CurrencyEnum(world.currency)
    rows = [
        models.CreditTransaction(
            id=f"txn-{index + 1:06d}",
            type="top_up",
            amount=money(amount),
            currency=currency,
            created_at=at,
        )
        for index, (at, amount) in enumerate(world.state.account.top_ups)
        if (start is None or at >= start) and (end is None or at < end)
    ]
    rows.reverse()
    return rows


def volume_billing(backend: Backend, record: VolumeRec) -> models.VolumeBilling:
    """A volume's bill, hour by hour (the last hour may be partial)."""
    world = backend.world
    now = world.now
    rate = backend.volumes.rate_per_tb_hour(record.volume_type)
    rows: list[models.VolumeBillingRecord] = []
    total = Decimal(0)
    total_hours = Decimal(0)
    for segment in world.ledger.segments("volume", record.id):
        size_gb = segment.rate_per_hour * 1000 / rate if rate else Decimal(0)
        cursor = segment.start
        seg_end = segment.end if segment.end is not None else now
        while cursor < seg_end:
            hour_end = min(cursor.replace(minute=0, second=0, microsecond=0) + _HOUR, seg_end)
            hours = seconds_between(cursor, hour_end) / 3600
            amount = segment.rate_per_hour * hours
            rows.append(
                models.VolumeBillingRecord(
                    start=cursor,
                    end=hour_end,
                    size_gb=int(size_gb),
                    hours=hours.normalize(),
                    rate_per_tb_hour=money(rate),
                    amount=money(amount),
                )
            )
            total += amount
            total_hours += hours
            cursor = hour_end
    return models.VolumeBilling(
        records=rows,
        summary=models.VolumeBillingSummary(
            volume_id=record.id,
            currency=models.CurrencyEnum(world.currency),
            total_hours=total_hours.normalize(),
            total_amount=money(total),
            hourly_cost=money(backend.volumes.rate(record)),
        ),
    )


def ai_model(
    seed: AIModelSeed, input_price: Decimal, output_price: Decimal, currency: str
) -> AIModel:
    """A hosted AI model."""
    return AIModel(
        id=seed.id,
        name=seed.name,
        tier=models.TierEnum(seed.tier),
        context_length=seed.context_length,
        input_price_per_million=money(input_price),
        output_price_per_million=money(output_price),
        currency=models.CurrencyEnum(currency),
    )


def ai_transaction(record: AIUsageRec, currency: str) -> AITransaction:
    """One billed AI call."""
    return AITransaction(
        id=record.id,
        model=record.model,
        created_at=record.created_at,
        input_tokens=record.prompt_tokens,
        output_tokens=record.completion_tokens,
        cost=money(record.cost),
        currency=models.CurrencyEnum(currency),
    )
