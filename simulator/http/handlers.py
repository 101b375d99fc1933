"""One handler per operation of ``barrack._wire.ROUTES``: call the backend, return models.

A handler gets the backend and the parsed :class:`Call` and returns a :class:`Reply`
(the envelope's ``data`` and, for paginated lists, the page). It never touches HTTP;
paths, methods and statuses come from the route table when the handlers are mounted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, TypeVar

from pydantic import ValidationError

from barrack import models
from barrack.models._rules import VOLUME_TYPE_TIERS
from barrack.models.ai import ChatChoice, ChatCompletion, ChatMessage, ChatUsage, UsageSummary
from barrack.models.catalog import PricingRequest
from barrack.models.firewalls import FirewallAttachment, Protocol
from barrack.models.hibernation import HibernatedVMs, HibernationBillingMetrics, RecentHibernation
from barrack.models.volumes import VolumesWithNextName, VolumeType
from simulator.backend import Backend
from simulator.billing import money
from simulator.errors import ValidationFailed
from simulator.http import convert
from simulator.http.parsing import BulkDeleteBody, Query, TogglePublicIPBody, validation_failed
from simulator.seed_data import (
    CURRENCIES,
    GPU_COUNTS,
    GPU_MAX_COUNT,
    GPU_SPECS,
    SNAPSHOT_FIXED_SIZE_GB,
    SNAPSHOT_RATE,
    VOLUME_MINIMUM_SIZE_GB,
    VOLUME_RATES_PER_TB_HOUR,
)

__all__ = ["HANDLERS", "Call", "Handler", "Reply"]


@dataclass(slots=True)
class Call:
    """A parsed request: path parameters, accepted query parameters, validated body."""

    params: dict[str, str]
    query: Query
    body: Any


@dataclass(slots=True)
class Reply:
    """What goes in the answer: the payload, or the flat fields of a flat route."""

    data: Any
    pagination: models.Pagination | None = None
    message: str | None = None
    compact: bool = False
    """Leave out null fields, as Part C's ``pricing_data`` does (no ``max_count`` on volumes)."""


def flat(**fields: Any) -> Reply:
    """A flat answer's fields (actions and deletes: ``barrack._wire.FLAT``)."""
    return Reply(fields)


def instance_action(backend: Backend, record: Any) -> Reply:
    """What an instance action answers: ``instance_id``, its new ``status`` and ``tier``."""
    vm = convert.instance(backend, record)
    return flat(instance_id=vm.id, status=vm.status, tier=vm.tier)


Handler = Callable[[Backend, Call], Reply]
HANDLERS: dict[str, Handler] = {}
T = TypeVar("T")
R = TypeVar("R")


def handles(operation: str) -> Callable[[Handler], Handler]:
    """Register a handler for an operation of the route table."""

    def register(handler: Handler) -> Handler:
        if operation in HANDLERS:
            raise ValueError(f"two handlers for {operation}")
        HANDLERS[operation] = handler
        return handler

    return register


def page(items: Sequence[T], query: Query, convert_one: Callable[[T], R]) -> Reply:
    """One page of a list (B1); only the items on the page are converted."""
    per_page = query.per_page
    total = len(items)
    start = (query.page - 1) * per_page
    chunk = items[start : start + per_page]
    return Reply(
        [convert_one(item) for item in chunk],
        models.Pagination(
            page=query.page,
            per_page=per_page,
            total=total,
            total_pages=max(1, math.ceil(total / per_page)),
        ),
    )


# -- account and catalog ------------------------------------------------------------------


@handles("balance.get")
def balance_get(backend: Backend, call: Call) -> Reply:
    """GET /balance."""
    return Reply(convert.balance(backend))


@handles("balance.transactions")
def balance_transactions(b: Backend, call: Call) -> Reply:
    """GET /balance/transactions?start=&end= (top-ups)."""
    rows = convert.credit_transactions(b, call.query.time("start"), call.query.time("end"))
    return page(rows, call.query, lambda row: row)


@handles("billing.records")
def billing_records(b: Backend, call: Call) -> Reply:
    """GET /billing/records?start=&end=&resource_type= (every billed period)."""
    resource_type = call.query.values.get("resource_type")
    if resource_type is not None and resource_type not in {"gpus", "volumes", "snapshots"}:
        raise ValidationFailed(
            "resource_type",
            f"resource_type must be gpus, volumes or snapshots, not {resource_type!r}",
        )
    rows = convert.account_billing(
        b, call.query.time("start"), call.query.time("end"), resource_type
    )
    return page(rows, call.query, lambda row: row)


@handles("regions.list")
def regions_list(backend: Backend, call: Call) -> Reply:
    """GET /regions."""
    return Reply(
        [
            models.Region(
                name=models.RegionEnum(r.name), location=r.location, available=r.available
            )
            for r in backend.catalog.regions()
        ]
    )


@handles("gpu_stocks.list")
def gpu_stocks_list(backend: Backend, call: Call) -> Reply:
    """GET /gpu-stocks?region=."""
    return Reply(
        [
            models.GPUStockItem(
                region=models.RegionEnum(catalog.name),
                gpu_model=models.GpuModelEnum(model),
                available=free,
                configurations=[
                    models.GPUStockConfiguration(
                        gpu_count=models.GpuCountEnum(c), available=free // c
                    )
                    for c in GPU_COUNTS
                ],
            )
            for catalog, model, free in backend.catalog.stock(call.query.text("region"))
        ]
    )


@handles("gpu_specs.list")
def gpu_specs_list(backend: Backend, call: Call) -> Reply:
    """GET /gpu-specs."""
    specs = []
    for model, regions in backend.catalog.specs():
        seed = GPU_SPECS[model]
        specs.append(
            models.GPUSpec(
                gpu_model=models.GpuModelEnum(model),
                tier=models.TierEnum(seed.tier),
                specs=models.Specs(
                    gpu_memory_gb=seed.memory_gb,
                    vcpus_per_gpu=seed.vcpus_per_gpu,
                    ram_gb_per_gpu=seed.ram_gb_per_gpu,
                    disk_gb_per_gpu=seed.disk_gb_per_gpu,
                ),
                metadata=models.SpecsMetadata(
                    architecture=seed.architecture,
                    memory_type=seed.memory_type,
                    interconnect=seed.interconnect,
                    description=seed.dcgm_name,
                ),
                gpu_counts=[models.GpuCountEnum(c) for c in GPU_COUNTS],
                regions=[models.RegionEnum(r) for r in regions],
            )
        )
    return Reply(specs)


_TIERS: Final = ("legacy", "advanced")
_RESOURCE_TYPES: Final = ("gpus", "volumes", "snapshots")


def _pricing(backend: Backend, ask: PricingRequest) -> Reply:
    """Part C's ``pricing_data``, narrowed by the request's tier, type, model and count."""
    state = backend.world.state
    tier = str(ask.tier) if ask.tier is not None else None
    wanted = str(ask.resource_type) if ask.resource_type is not None else None
    if ask.gpu_model is not None and str(ask.gpu_model) not in state.prices:
        raise ValidationFailed("gpu_model", f"unknown GPU model {str(ask.gpu_model)!r}")
    for name, value, known in (
        ("tier", ask.tier, _TIERS),
        ("resource_type", ask.resource_type, _RESOURCE_TYPES),
        ("currency", ask.currency, CURRENCIES),
        ("volume_type", ask.volume_type, tuple(VOLUME_TYPE_TIERS)),
    ):
        if value is not None and str(value) not in known:
            raise ValidationFailed(name, f"unknown {name} {str(value)!r}; one of {list(known)}")

    def price(by_currency: dict[str, Decimal], unit: str, **extra: Any) -> models.Price:
        prices = {
            models.CurrencyEnum(c): v for c, v in by_currency.items()
        }  # as listed, like Part C
        return models.Price(prices=prices, unit=unit, **extra)

    data = models.PricingData(
        metadata=models.PricingMetadata(
            supported_currencies=[models.CurrencyEnum(c) for c in CURRENCIES],
            supported_tiers=[models.TierEnum(t) for t in _TIERS],
            volume_minimum_size_gb=VOLUME_MINIMUM_SIZE_GB,
            authentication_type="api_key",
            timestamp=backend.world.now,
        )
    )
    if wanted in (None, "gpus"):
        gpus: dict[models.TierEnum, dict[models.GpuModelEnum, models.Price]] = {}
        for model, by_currency in state.prices.items():
            seed = GPU_SPECS.get(model)
            model_tier = seed.tier if seed is not None else "legacy"
            max_count = GPU_MAX_COUNT.get(model, max(GPU_COUNTS))
            if tier not in (None, model_tier) or ask.gpu_model not in (None, model):
                continue
            if ask.gpu_count is not None and int(ask.gpu_count) > max_count:
                continue
            gpus.setdefault(models.TierEnum(model_tier), {})[models.GpuModelEnum(model)] = price(
                by_currency, "per GPU per hour", max_count=max_count
            )
        data.gpus = models.GPUPricing(pricing=gpus, description="GPU pricing by model and tier")
    if wanted in (None, "volumes"):
        volumes: dict[models.TierEnum, dict[models.VolumeTypeEnum, models.Price]] = {}
        for volume_tier, by_type in VOLUME_RATES_PER_TB_HOUR.items():
            for volume_type, by_currency in by_type.items():
                if tier not in (None, volume_tier) or ask.volume_type not in (None, volume_type):
                    continue
                volumes.setdefault(models.TierEnum(volume_tier), {})[
                    models.VolumeTypeEnum(volume_type)
                ] = price(by_currency, "per TB per hour")
        data.volumes = models.VolumePricing(
            pricing=volumes,
            minimum_size_gb=VOLUME_MINIMUM_SIZE_GB,
            description="Volume storage pricing based on tier and volume type",
        )
    if wanted in (None, "snapshots") and tier in (None, "legacy"):
        data.snapshots = models.SnapshotPricing(
            pricing={
                models.TierEnum.LEGACY: price(
                    SNAPSHOT_RATE,
                    f"per hour (fixed {SNAPSHOT_FIXED_SIZE_GB}GB)",
                    fixed_size_gb=SNAPSHOT_FIXED_SIZE_GB,
                )
            },
            description=(
                f"Snapshot pricing - fixed {SNAPSHOT_FIXED_SIZE_GB}GB per snapshot, "
                "legacy tier only"
            ),
        )
    return Reply(data, message="Pricing information retrieved successfully", compact=True)


@handles("pricing.list")
def pricing_list(backend: Backend, call: Call) -> Reply:
    """GET /pricing/?tier=&currency=&resource_type=&gpu_model=&gpu_count=&volume_type=."""
    try:
        ask = PricingRequest.model_validate(call.query.values)
    except ValidationError as exc:
        raise validation_failed(exc) from None
    return _pricing(backend, ask)


@handles("pricing.quote")
def pricing_quote(backend: Backend, call: Call) -> Reply:
    """POST /pricing/ (Part C's C1): the fields as a JSON body and as query parameters.

    C4: the endpoint takes its fields both ways; where both give one, the body's wins.
    """
    body: PricingRequest = call.body
    if not call.query.values:
        return _pricing(backend, body)
    try:
        ask = PricingRequest.model_validate(
            {**call.query.values, **body.model_dump(exclude_none=True)}
        )
    except ValidationError as exc:
        raise validation_failed(exc) from None
    return _pricing(backend, ask)


@handles("os_images.list")
def os_images_list(backend: Backend, call: Call) -> Reply:
    """GET /os-images?region=."""
    return Reply(
        [
            models.OSImage(
                id=image_id,
                name=catalog.os_images[image_id][0],
                region=models.RegionEnum(catalog.name),
                os=catalog.os_images[image_id][1],
                version=catalog.os_images[image_id][2],
                size_gb=catalog.os_images[image_id][3],
            )
            for image_id, catalog in backend.catalog.os_images(call.query.text("region"))
        ]
    )


# -- instances -----------------------------------------------------------------------------


def _vm(backend: Backend) -> Callable[[Any], models.VMInstance]:
    return lambda record: convert.instance(backend, record)


@handles("instances.create")
def instances_create(backend: Backend, call: Call) -> Reply:
    """POST /instances."""
    return Reply(convert.instance(backend, backend.instances.deploy(call.body)))


@handles("instances.list")
def instances_list(backend: Backend, call: Call) -> Reply:
    """GET /instances?status=&region=."""
    region = call.query.text("region")
    if region is not None:
        backend.instances.require_region(region)
    records = backend.instances.select(call.query.status(), region)
    return page(records, call.query, _vm(backend))


@handles("instances.get")
def instances_get(backend: Backend, call: Call) -> Reply:
    """GET /instances/{id}."""
    return Reply(convert.instance(backend, backend.instances.get(call.params["instance_id"])))


@handles("instances.billing")
def instances_billing(backend: Backend, call: Call) -> Reply:
    """GET /instances/{id}/billing?start=&end=."""
    record = backend.instances.get_or_tombstone(call.params["instance_id"])
    return Reply(
        convert.billing(
            backend, "instance", record.id, call.query.time("start"), call.query.time("end")
        )
    )


def _action(action: str) -> Handler:
    def handler(backend: Backend, call: Call) -> Reply:
        return instance_action(backend, backend.instances.act(call.params["instance_id"], action))

    handler.__doc__ = f"POST /instances/{{id}}/{action}."
    return handler


for _op, _verb in (
    ("instances.start", "start"),
    ("instances.stop", "stop"),
    ("instances.reboot", "reboot"),
    ("instances.hibernate", "hibernate"),
    ("instances.restore_hibernated", "hibernate_restore"),
    ("instances.delete", "delete"),
):
    handles(_op)(_action(_verb))


@handles("instances.toggle_public_ip")
def instances_toggle_public_ip(backend: Backend, call: Call) -> Reply:
    """POST /instances/{id}/public-ip."""
    body: TogglePublicIPBody = call.body
    record = backend.instances.toggle_public_ip(call.params["instance_id"], body.enabled)
    reply = instance_action(backend, record)
    reply.data["public_ip_enabled"] = record.public_ip_enabled
    return reply


@handles("instances.add_security_rule")
def instances_add_security_rule(backend: Backend, call: Call) -> Reply:
    """POST /instances/{id}/security-rules."""
    instance_id = call.params["instance_id"]
    rule = convert.security_rule(backend.instances.add_security_rule(instance_id, call.body))
    vm = convert.instance(backend, backend.instances.get(instance_id))
    return flat(instance_id=instance_id, rule_id=rule.id, tier=vm.tier)


@handles("instances.remove_security_rule")
def instances_remove_security_rule(backend: Backend, call: Call) -> Reply:
    """DELETE /instances/{id}/security-rules/{rule_id}."""
    instance_id = call.params["instance_id"]
    rule_id = backend.instances.remove_security_rule(instance_id, call.params["rule_id"])
    vm = convert.instance(backend, backend.instances.get(instance_id))
    return flat(instance_id=instance_id, rule_id=rule_id, tier=vm.tier)


@handles("instances.list_hibernated")
def instances_list_hibernated(backend: Backend, call: Call) -> Reply:
    """GET /instances/hibernated."""
    world = backend.world
    currency = models.CurrencyEnum(world.currency)
    rows: list[RecentHibernation] = []
    cost = savings = accrued_total = Decimal(0)
    for record in backend.instances.hibernated():
        rate = backend.instances.rate(record)
        since = record.hibernated_at or record.status_since or record.updated_at
        accrued = sum(
            (s.amount(world.now) for s in world.ledger.segments("instance", record.id)
             if s.status == "HIBERNATED" and s.start >= since),
            Decimal(0),
        )  # fmt: skip
        rows.append(
            RecentHibernation(
                instance_id=record.id,
                instance_name=record.name,
                region=models.RegionEnum(record.region),
                flavor=convert.flavor(record.flavor),
                hibernated_at=since,
                hourly_price=money(rate),
                active_hourly_price=money(record.hourly_price),
                accrued_cost=money(accrued),
            )
        )
        cost += rate
        savings += record.hourly_price - rate
        accrued_total += accrued
    return Reply(
        HibernatedVMs(
            instances=rows,
            metrics=HibernationBillingMetrics(
                hibernated_count=len(rows),
                currency=currency,
                total_hourly_cost=money(cost),
                total_hourly_savings=money(savings),
                total_accrued_cost=money(accrued_total),
            ),
        )
    )


@handles("instances.firewalls")
def instances_firewalls(backend: Backend, call: Call) -> Reply:
    """GET /instances/{id}/firewalls."""
    pairs = backend.firewalls.of_instance(call.params["instance_id"])
    return Reply([convert.attached_firewall(f, i.firewalls.get(f.id)) for f, i in pairs])


@handles("instances.attach_volumes")
def instances_attach_volumes(backend: Backend, call: Call) -> Reply:
    """POST /instances/{id}/volumes/attach."""
    volumes = backend.volumes.attach(call.params["instance_id"], list(call.body.volume_ids))
    return Reply([convert.volume(backend, v) for v in volumes])


@handles("instances.detach_volumes")
def instances_detach_volumes(backend: Backend, call: Call) -> Reply:
    """POST /instances/{id}/volumes/detach."""
    volumes = backend.volumes.detach(call.params["instance_id"], list(call.body.volume_ids))
    return Reply([convert.volume(backend, v) for v in volumes])


# -- SSH keys and scripts ------------------------------------------------------------------


@handles("ssh_keys.list")
def ssh_keys_list(backend: Backend, call: Call) -> Reply:
    """GET /ssh-keys."""
    return Reply([convert.ssh_key(k) for k in backend.ssh_keys.select()])


@handles("ssh_keys.get")
def ssh_keys_get(backend: Backend, call: Call) -> Reply:
    """GET /ssh-keys/{id}."""
    return Reply(convert.ssh_key(backend.ssh_keys.get(call.params["key_id"])))


@handles("ssh_keys.create")
def ssh_keys_create(backend: Backend, call: Call) -> Reply:
    """POST /ssh-keys."""
    record, private = backend.ssh_keys.create(call.body)
    return Reply(convert.created_ssh_key(record, private))


@handles("ssh_keys.delete")
def ssh_keys_delete(backend: Backend, call: Call) -> Reply:
    """DELETE /ssh-keys/{id}."""
    return flat(ssh_key_id=backend.ssh_keys.delete(call.params["key_id"]))


@handles("scripts.list")
def scripts_list(backend: Backend, call: Call) -> Reply:
    """GET /scripts."""
    return Reply([convert.script(s) for s in backend.scripts.select()])


@handles("scripts.get")
def scripts_get(backend: Backend, call: Call) -> Reply:
    """GET /scripts/{id}."""
    return Reply(convert.script(backend.scripts.get(call.params["script_id"])))


@handles("scripts.create")
def scripts_create(backend: Backend, call: Call) -> Reply:
    """POST /scripts."""
    return Reply(convert.script(backend.scripts.create(call.body)))


@handles("scripts.update")
def scripts_update(backend: Backend, call: Call) -> Reply:
    """PUT /scripts/{id}."""
    return Reply(convert.script(backend.scripts.update(call.params["script_id"], call.body)))


@handles("scripts.delete")
def scripts_delete(backend: Backend, call: Call) -> Reply:
    """DELETE /scripts/{id}."""
    return flat(script_id=backend.scripts.delete(call.params["script_id"]))


@handles("scripts.delete_many")
def scripts_delete_many(backend: Backend, call: Call) -> Reply:
    """POST /scripts/bulk-delete."""
    body: BulkDeleteBody = call.body
    return flat(script_ids=backend.scripts.delete_many(body.ids))


# -- volumes -------------------------------------------------------------------------------


@handles("volumes.list")
def volumes_list(backend: Backend, call: Call) -> Reply:
    """GET /volumes?region=."""
    region = call.query.text("region")
    if region is not None:
        backend.volumes.require_region(region)
    return Reply(
        VolumesWithNextName(
            volumes=[convert.volume(backend, v) for v in backend.volumes.select(region)],
            next_name=backend.volumes.next_name(),
        )
    )


@handles("volumes.create")
def volumes_create(backend: Backend, call: Call) -> Reply:
    """POST /volumes."""
    return Reply(convert.volume(backend, backend.volumes.create(call.body)))


@handles("volumes.get")
def volumes_get(backend: Backend, call: Call) -> Reply:
    """GET /volumes/{id}."""
    return Reply(convert.volume(backend, backend.volumes.get(call.params["volume_id"])))


@handles("volumes.delete")
def volumes_delete(backend: Backend, call: Call) -> Reply:
    """DELETE /volumes/{id}."""
    return flat(volume_id=backend.volumes.delete(call.params["volume_id"]))


@handles("volumes.resize")
def volumes_resize(backend: Backend, call: Call) -> Reply:
    """POST /volumes/{id}/resize."""
    return Reply(
        convert.volume(backend, backend.volumes.resize(call.params["volume_id"], call.body.size_gb))
    )


@handles("volumes.clone")
def volumes_clone(backend: Backend, call: Call) -> Reply:
    """POST /volumes/{id}/clone."""
    return Reply(
        convert.volume(backend, backend.volumes.clone(call.params["volume_id"], call.body))
    )


@handles("volumes.types")
def volumes_types(backend: Backend, call: Call) -> Reply:
    """GET /volume-types."""
    currency = models.CurrencyEnum(backend.world.currency)
    return Reply(
        [
            VolumeType(
                name=models.VolumeTypeEnum(name),
                tier=models.TierEnum(tier),
                min_size_gb=low,
                max_size_gb=high,
                price_per_tb_hour=money(backend.volumes.rate_per_tb_hour(name)),
                currency=currency,
                description=f"{name} storage, {tier} tier",
            )
            for name, tier, low, high in backend.catalog.volume_types()
        ]
    )


@handles("volumes.billing")
def volumes_billing(backend: Backend, call: Call) -> Reply:
    """GET /volumes/{id}/billing."""
    return Reply(convert.volume_billing(backend, backend.volumes.get(call.params["volume_id"])))


# -- firewalls -----------------------------------------------------------------------------


def _instance_names(backend: Backend) -> dict[str, str]:
    return {i.id: i.name for i in backend.world.state.instances.rows.values()}


@handles("firewalls.list")
def firewalls_list(backend: Backend, call: Call) -> Reply:
    """GET /firewalls."""
    names = _instance_names(backend)
    return Reply([convert.firewall(f, names) for f in backend.firewalls.select()])


@handles("firewalls.protocols")
def firewalls_protocols(backend: Backend, call: Call) -> Reply:
    """GET /firewalls/protocols."""
    return Reply(
        [
            Protocol(name=models.ProtocolEnum.TCP, supports_ports=True, description="TCP"),
            Protocol(name=models.ProtocolEnum.UDP, supports_ports=True, description="UDP"),
            Protocol(
                name=models.ProtocolEnum.ICMP, supports_ports=False, description="ICMP (ping)"
            ),
        ]
    )


@handles("firewalls.get")
def firewalls_get(backend: Backend, call: Call) -> Reply:
    """GET /firewalls/{id}."""
    return Reply(
        convert.firewall(
            backend.firewalls.get(call.params["firewall_id"]), _instance_names(backend)
        )
    )


@handles("firewalls.create")
def firewalls_create(backend: Backend, call: Call) -> Reply:
    """POST /firewalls."""
    return Reply(convert.firewall(backend.firewalls.create(call.body), {}))


@handles("firewalls.delete")
def firewalls_delete(backend: Backend, call: Call) -> Reply:
    """DELETE /firewalls/{id}."""
    return flat(firewall_id=backend.firewalls.delete(call.params["firewall_id"]))


@handles("firewalls.available_instances")
def firewalls_available_instances(backend: Backend, call: Call) -> Reply:
    """GET /firewalls/{id}/available-instances."""
    return Reply(
        [
            convert.firewall_vm(i)
            for i in backend.firewalls.available_instances(call.params["firewall_id"])
        ]
    )


@handles("firewalls.add_rule")
def firewalls_add_rule(backend: Backend, call: Call) -> Reply:
    """POST /firewalls/{id}/rules."""
    return Reply(
        convert.firewall_rule(backend.firewalls.add_rule(call.params["firewall_id"], call.body))
    )


@handles("firewalls.remove_rule")
def firewalls_remove_rule(backend: Backend, call: Call) -> Reply:
    """DELETE /firewalls/{id}/rules/{rule_id}."""
    firewall_id = call.params["firewall_id"]
    return flat(
        firewall_id=firewall_id,
        rule_id=backend.firewalls.remove_rule(firewall_id, call.params["rule_id"]),
    )


@handles("firewalls.attach")
def firewalls_attach(backend: Backend, call: Call) -> Reply:
    """POST /firewalls/{id}/attach."""
    firewall_id = call.params["firewall_id"]
    instances = backend.firewalls.attach(firewall_id, list(call.body.instance_ids))
    return Reply(
        [
            FirewallAttachment(
                firewall_id=firewall_id,
                instance_id=i.id,
                instance_name=i.name,
                attached_at=i.firewalls.get(firewall_id),
            )
            for i in instances
        ]
    )


# -- snapshots and images ------------------------------------------------------------------


@handles("snapshots.list")
def snapshots_list(backend: Backend, call: Call) -> Reply:
    """GET /snapshots?region=&instance_id=."""
    region = call.query.text("region")
    if region is not None:
        backend.snapshots.require_region(region)
    records = backend.snapshots.select(region, call.query.text("instance_id"))
    return page(records, call.query, convert.snapshot)


@handles("snapshots.eligible_instances")
def snapshots_eligible_instances(backend: Backend, call: Call) -> Reply:
    """GET /snapshots/eligible-instances."""
    return Reply([convert.user_vm(i) for i in backend.instances.eligible_for_snapshot()])


@handles("snapshots.get")
def snapshots_get(backend: Backend, call: Call) -> Reply:
    """GET /snapshots/{id}."""
    return Reply(convert.snapshot(backend.snapshots.get(call.params["snapshot_id"])))


@handles("snapshots.billing")
def snapshots_billing(backend: Backend, call: Call) -> Reply:
    """GET /snapshots/{id}/billing."""
    record = backend.snapshots.get(call.params["snapshot_id"])
    return Reply(convert.billing(backend, "snapshot", record.id, None, None))


@handles("snapshots.create")
def snapshots_create(backend: Backend, call: Call) -> Reply:
    """POST /snapshots."""
    return Reply(convert.snapshot(backend.snapshots.create(call.body)))


@handles("snapshots.delete")
def snapshots_delete(backend: Backend, call: Call) -> Reply:
    """DELETE /snapshots/{id}."""
    return flat(snapshot_id=backend.snapshots.delete(call.params["snapshot_id"]))


@handles("snapshots.restore")
def snapshots_restore(backend: Backend, call: Call) -> Reply:
    """POST /snapshots/{id}/restore."""
    return Reply(
        convert.instance(backend, backend.snapshots.restore(call.params["snapshot_id"], call.body))
    )


@handles("snapshots.image_relationship")
def snapshots_image_relationship(backend: Backend, call: Call) -> Reply:
    """GET /snapshots/{id}/image-relationship."""
    return Reply(convert.relationship(backend.snapshots.get(call.params["snapshot_id"])))


@handles("snapshots.image_relationships")
def snapshots_image_relationships(backend: Backend, call: Call) -> Reply:
    """POST /snapshots/image-relationships."""
    ids: list[str] = list(dict.fromkeys(call.body.snapshot_ids))
    return Reply([convert.relationship(backend.snapshots.get(i)) for i in ids])


@handles("images.list")
def images_list(backend: Backend, call: Call) -> Reply:
    """GET /images."""
    return Reply([convert.image(i) for i in backend.images.select()])


@handles("images.get")
def images_get(backend: Backend, call: Call) -> Reply:
    """GET /images/{id}."""
    return Reply(convert.image(backend.images.get(call.params["image_id"])))


@handles("images.create")
def images_create(backend: Backend, call: Call) -> Reply:
    """POST /images."""
    return Reply(convert.image(backend.images.create(call.body)))


@handles("images.delete")
def images_delete(backend: Backend, call: Call) -> Reply:
    """DELETE /images/{id}."""
    return flat(image_id=backend.images.delete(call.params["image_id"]))


# -- AI --------------------------------------------------------------------------------------


@handles("ai.models")
def ai_models(backend: Backend, call: Call) -> Reply:
    """GET /ai/models."""
    currency = backend.world.currency
    return Reply([convert.ai_model(s, i, o, currency) for s, i, o in backend.ai.models()])


@handles("ai.chat")
def ai_chat(backend: Backend, call: Call) -> Reply:
    """POST /ai/chat/completions."""
    usage, answer = backend.ai.chat(call.body)
    return Reply(
        ChatCompletion(
            id=usage.id,
            model=usage.model,
            created_at=usage.created_at,
            choices=[
                ChatChoice(
                    index=0,
                    message=ChatMessage(role="assistant", content=answer),
                    finish_reason="stop",
                )
            ],
            usage=ChatUsage(
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                total_tokens=usage.prompt_tokens + usage.completion_tokens,
            ),
            cost=money(usage.cost),
            currency=models.CurrencyEnum(backend.world.currency),
        )
    )


@handles("ai.usage_summary")
def ai_usage_summary(backend: Backend, call: Call) -> Reply:
    """GET /ai/usage/summary?start=&end=."""
    start, end = call.query.time("start"), call.query.time("end")
    records = backend.ai.history(start, end)
    by_model: dict[str, Decimal] = {}
    for record in records:
        by_model[record.model] = by_model.get(record.model, Decimal(0)) + record.cost
    return Reply(
        UsageSummary(
            start=start,
            end=end,
            total_requests=len(records),
            total_input_tokens=sum(r.prompt_tokens for r in records),
            total_output_tokens=sum(r.completion_tokens for r in records),
            total_cost=money(sum((r.cost for r in records), Decimal(0))),
            currency=models.CurrencyEnum(backend.world.currency),
            cost_by_model={k: money(v) for k, v in by_model.items()},
        )
    )


@handles("ai.usage_history")
def ai_usage_history(backend: Backend, call: Call) -> Reply:
    """GET /ai/usage/history?start=&end=."""
    records = backend.ai.history(call.query.time("start"), call.query.time("end"))
    currency = backend.world.currency
    return page(records, call.query, lambda r: convert.ai_transaction(r, currency))
