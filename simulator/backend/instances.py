"""Instances: deploy, the B4 actions, public IP, security rules, and the stock they hold."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from barrack.models import DeploymentRequest, VMSecurityRuleRequest
from barrack.models.common import SecurityRuleRequestBase
from simulator.backend._service import Service
from simulator.errors import (
    InsufficientCredits,
    InvalidState,
    NotFound,
    OutOfStock,
    ValidationFailed,
)
from simulator.ids import draw, duration
from simulator.lifecycle import FULL_RATE_STATUSES, INSTANCE_TRANSITIONS, Transition
from simulator.records import Flavor, InstanceRec, RuleRec, SnapshotRec
from simulator.seed_data import GPU_COUNTS, GPU_SPECS, HIBERNATED_RATE
from simulator.stores import RegionCatalog
from simulator.telemetry.profiles import ProfileSpec, resolve_profile

__all__ = ["InstanceService", "make_flavor"]

_PUBLIC_BLOCKS: Final[dict[str, int]] = {"NORWAY-1": 64, "CANADA-1": 80, "US-1": 96}
"""Second octet of each region's public addresses, inside 100.64.0.0/10 (never a real host)."""

_SEEDED_BOOT_SECONDS: Final = 120
_ACTIONS_NEEDING_CREDIT: Final = frozenset({"start", "hibernate_restore"})
_SETTLED_FOR_RULES: Final = frozenset({"ACTIVE", "SHUTOFF", "HIBERNATED"})


def make_flavor(gpu_model: str, gpu_count: int) -> Flavor:
    """The hardware an instance of ``gpu_count`` x ``gpu_model`` gets."""
    spec = GPU_SPECS.get(gpu_model)
    if spec is None:
        raise ValidationFailed("gpu_model", f"unknown GPU model {gpu_model!r}")
    return Flavor(
        name=f"{gpu_count}x-{gpu_model}",
        gpu_model=gpu_model,
        gpu_count=gpu_count,
        vcpus=spec.vcpus_per_gpu * gpu_count,
        ram_gb=spec.ram_gb_per_gpu * gpu_count,
        disk_gb=spec.disk_gb_per_gpu * gpu_count,
    )


class InstanceService(Service):
    """Everything about instances, from deploy to delete."""

    # -- reading -----------------------------------------------------------------------

    def get(self, instance_id: str) -> InstanceRec:
        """An instance that is not deleted (404 otherwise)."""
        return self.w.state.instances.require(instance_id)

    def get_or_tombstone(self, instance_id: str) -> InstanceRec:
        """An instance, deleted ones included (their bills and telemetry remain)."""
        found = self.w.state.instances.get(instance_id)
        if found is None:
            found = self.w.state.instance_tombstones.get(instance_id)
        if found is None:
            raise NotFound("instance", instance_id)
        return found

    def select(self, status: str | None = None, region: str | None = None) -> list[InstanceRec]:
        """Instances, newest first, filtered by status and region."""
        return self.w.state.instances.select(status=status, region=region)

    def hibernated(self) -> list[InstanceRec]:
        """Instances now ``HIBERNATED``."""
        return self.w.state.instances.select(status="HIBERNATED")

    def eligible_for_snapshot(self) -> list[InstanceRec]:
        """Instances that can be snapshotted now (only ``ACTIVE``)."""
        return self.w.state.instances.select(status="ACTIVE")

    def rate(self, instance: InstanceRec, status: str | None = None) -> Decimal:
        """What the instance costs per hour in ``status`` (its current one by default)."""
        status = status or instance.status
        if status in FULL_RATE_STATUSES:
            return instance.hourly_price
        if status == "HIBERNATED":
            return HIBERNATED_RATE.get(self.w.currency, HIBERNATED_RATE["USD"])
        return Decimal(0)

    # -- creating ----------------------------------------------------------------------

    def deploy(self, request: DeploymentRequest) -> InstanceRec:
        """Deploy a new instance; it starts in ``CREATING`` (B4).

        Raises:
            ProfileIncomplete, InsufficientCredits, DuplicateName, NotFound,
            ValidationFailed, RegionIncompatible, InvalidState, OutOfStock.
        """
        state = self.w.state
        self.require_can_create()
        self.require_unique_name(state.instances, request.name)
        region = str(request.region)
        catalog = self.require_region(region)
        gpu_model = str(request.gpu_model)
        gpu_count = int(request.gpu_count)
        flavor = self._flavor(gpu_model, gpu_count)
        for key_id in request.ssh_key_ids:
            state.ssh_keys.require(key_id)
        if request.startup_script_id is not None:
            state.scripts.require(request.startup_script_id)
        boot_source, image_id, image_name = self._boot_source(request, region)
        self.require_offered(catalog, gpu_model)
        self._take_gpus(catalog, gpu_model, gpu_count)
        instance = self._new(
            name=request.name,
            catalog=catalog,
            flavor=flavor,
            boot_source=boot_source,
            image_id=image_id,
            image_name=image_name,
            public_ip_enabled=request.public_ip,
            ssh_key_ids=list(request.ssh_key_ids),
            startup_script_id=request.startup_script_id,
        )
        for rule in request.security_rules:
            self._add_rule(instance, rule)
        if request.volume_id is not None:
            self.backend.volumes.attach_boot(request.volume_id, instance)
        self._begin(instance, INSTANCE_TRANSITIONS["deploy"], self._seconds(instance, "deploy"))
        return instance

    def create_from_snapshot(
        self, snapshot: SnapshotRec, name: str, catalog: RegionCatalog
    ) -> InstanceRec:
        """The new instance of a restore (the snapshot service checked the rules first)."""
        flavor = snapshot.flavor
        self._take_gpus(catalog, flavor.gpu_model, flavor.gpu_count)
        instance = self._new(
            name=name,
            catalog=catalog,
            flavor=flavor,
            boot_source="snapshot",
            image_id=snapshot.id,
            image_name=snapshot.name,
            public_ip_enabled=snapshot.public_ip_enabled,
            ssh_key_ids=list(snapshot.ssh_key_ids),
            startup_script_id=None,
        )
        instance.snapshot_id = snapshot.id
        for rule in snapshot.security_rules:
            rule_id = self.w.ids.new("rule")
            instance.security_rules[rule_id] = RuleRec(
                rule_id,
                rule.direction,
                rule.protocol,
                rule.ethertype,
                rule.port_range_min,
                rule.port_range_max,
                rule.remote_cidr,
                rule.description,
                self.w.now,
            )
        base = self._seconds(instance, "restore")
        # Copying the disk takes time in proportion to its size; across regions the data
        # travels further, so it takes longer still.
        copy = snapshot.size_gb * 0.25
        if catalog.name != snapshot.region:
            copy += 60 + snapshot.size_gb * 0.5
        self._begin(instance, INSTANCE_TRANSITIONS["restore"], base + round(copy))
        return instance

    def seed(
        self,
        *,
        name: str,
        region: str,
        flavor: Flavor,
        status: str,
        created_at: datetime,
        status_since: datetime,
        image_id: str,
        public_ip: bool,
        ssh_key_ids: list[str],
        profile: ProfileSpec | None,
        anchor: datetime,
    ) -> InstanceRec:
        """Store a scenario's instance as it is at the start, with its past.

        Its GPUs are already allocated (the scenario's stock counts free GPUs), so they
        are not taken from stock, but are given back when it is hibernated or deleted.
        """
        catalog = self.w.state.regions[region]
        price = self.w.state.prices.get(flavor.gpu_model, {}).get(self.w.currency, Decimal(0))
        booted = min(created_at + timedelta(seconds=_SEEDED_BOOT_SECONDS), status_since)
        history = [(created_at, "CREATING")]
        if status == "ACTIVE":
            history.append((status_since, "ACTIVE"))
        else:
            history += [(booted, "ACTIVE"), (status_since, status)]
        instance = InstanceRec(
            id=self.w.ids.new("instance"),
            created_at=created_at,
            updated_at=status_since,
            name=name,
            region=region,
            flavor=flavor,
            status=status,
            status_since=status_since,
            boot_source="os_image",
            image_id=image_id,
            image_name=catalog.os_images[image_id][0],
            public_ip_enabled=public_ip,
            ssh_key_ids=ssh_key_ids,
            hourly_price=price * flavor.gpu_count,
            holds_gpus=status in FULL_RATE_STATUSES,
            history=history,
        )
        instance.private_ip = self._private_ip(region)
        if public_ip and status in FULL_RATE_STATUSES:
            instance.ip_address = self._public_ip(region)
        if status == "HIBERNATED":
            instance.hibernated_at = status_since
        instance.profile = resolve_profile(
            profile or ProfileSpec(), anchor, instance.id, GPU_SPECS[flavor.gpu_model].memory_gb
        )
        self.w.state.instances.add(instance)
        self.w.ledger.meter("instance", instance.id, status, self.rate(instance), status_since)
        return instance

    def set_profile(self, instance_id: str, spec: ProfileSpec) -> InstanceRec:
        """Give an instance a utilisation profile; offsets count from now."""
        instance = self.get(instance_id)
        instance.profile = resolve_profile(
            spec, self.w.now, instance.id, GPU_SPECS[instance.flavor.gpu_model].memory_gb
        )
        return instance

    def _flavor(self, gpu_model: str, gpu_count: int) -> Flavor:
        if gpu_count not in GPU_COUNTS:
            raise ValidationFailed(
                "gpu_count", f"gpu_count must be one of {list(GPU_COUNTS)}, got {gpu_count}"
            )
        return make_flavor(gpu_model, gpu_count)

    def _boot_source(
        self, request: DeploymentRequest, region: str
    ) -> tuple[str, str | None, str | None]:
        state = self.w.state
        if request.image_id is not None:
            catalog = state.regions[region]
            image = catalog.os_images.get(request.image_id)
            if image is None:
                for other in state.regions.values():
                    if request.image_id in other.os_images:
                        self.require_same_region("OS image", other.name, "instance", region)
                raise NotFound("os_image", request.image_id)
            return "os_image", request.image_id, image[0]
        if request.custom_image_id is not None:
            custom = state.images.require(request.custom_image_id)
            self.require_same_region("image " + custom.id, custom.region, "instance", region)
            if custom.status != "ACTIVE":
                raise InvalidState("image", custom.id, custom.status, ["ACTIVE"])
            return "custom_image", custom.id, custom.name
        volume_id = request.volume_id or ""
        volume = state.volumes.require(volume_id)
        self.require_same_region("volume " + volume.id, volume.region, "instance", region)
        if not volume.bootable:
            raise ValidationFailed("volume_id", f"volume {volume.id} is not bootable")
        if volume.status != "AVAILABLE":
            raise InvalidState("volume", volume.id, volume.status, ["AVAILABLE"])
        return "volume", None, None

    def _new(
        self,
        *,
        name: str,
        catalog: RegionCatalog,
        flavor: Flavor,
        boot_source: str,
        image_id: str | None,
        image_name: str | None,
        public_ip_enabled: bool,
        ssh_key_ids: list[str],
        startup_script_id: str | None,
    ) -> InstanceRec:
        now = self.w.now
        price = self.w.state.prices.get(flavor.gpu_model, {}).get(self.w.currency, Decimal(0))
        instance = InstanceRec(
            id=self.w.ids.new("instance"),
            created_at=now,
            updated_at=now,
            name=name,
            region=catalog.name,
            flavor=flavor,
            status="CREATING",
            status_since=now,
            boot_source=boot_source,
            image_id=image_id,
            image_name=image_name,
            public_ip_enabled=public_ip_enabled,
            ssh_key_ids=ssh_key_ids,
            hourly_price=price * flavor.gpu_count,
            startup_script_id=startup_script_id,
            holds_gpus=True,
            history=[(now, "CREATING")],
        )
        instance.profile = resolve_profile(
            ProfileSpec(), now, instance.id, GPU_SPECS[flavor.gpu_model].memory_gb
        )
        self.w.state.instances.add(instance)
        self.w.ledger.meter("instance", instance.id, "CREATING", Decimal(0), now)
        return instance

    # -- actions -----------------------------------------------------------------------

    def act(self, instance_id: str, action: str) -> InstanceRec:
        """Start one of the B4 actions; the instance is returned in its transitional state.

        Raises:
            NotFound: no such instance.
            InvalidState: the action is not allowed from the current state.
            InsufficientCredits: start or hibernate-restore with a balance at or below zero.
            OutOfStock: hibernate-restore with no free GPUs of the model in the region.
        """
        instance = self.get(instance_id)
        transition = INSTANCE_TRANSITIONS[action]
        if instance.status not in transition.sources:
            raise InvalidState(
                "instance", instance.id, instance.status, transition.sources, action=action
            )
        if action in _ACTIONS_NEEDING_CREDIT and self.w.balance() <= 0:
            raise InsufficientCredits(
                f"cannot {action.replace('_', '-')} with a balance of {self.w.balance()}",
                {"balance": str(self.w.balance()), "currency": self.w.currency},
            )
        if action == "hibernate_restore":
            catalog = self.w.state.regions[instance.region]
            self._take_gpus(catalog, instance.flavor.gpu_model, instance.flavor.gpu_count)
            instance.holds_gpus = True
        self._begin(instance, transition, self._seconds(instance, action))
        return instance

    def toggle_public_ip(self, instance_id: str, enabled: bool) -> InstanceRec:
        """Ask for a public IP or give it up; an ``ACTIVE`` instance gets one at once."""
        instance = self.get(instance_id)
        if instance.status not in _SETTLED_FOR_RULES:
            raise InvalidState("instance", instance.id, instance.status, _SETTLED_FOR_RULES)
        instance.public_ip_enabled = enabled
        if not enabled:
            instance.ip_address = None
        elif instance.status in {"ACTIVE", "SHUTOFF"} and instance.ip_address is None:
            instance.ip_address = self._public_ip(instance.region)
        instance.touch(self.w.now)
        return instance

    def add_security_rule(self, instance_id: str, request: VMSecurityRuleRequest) -> RuleRec:
        """Add a security rule to an instance in a settled state."""
        instance = self.get(instance_id)
        if instance.status not in _SETTLED_FOR_RULES:
            raise InvalidState("instance", instance.id, instance.status, _SETTLED_FOR_RULES)
        rule = self._add_rule(instance, request)
        instance.touch(self.w.now)
        return rule

    def remove_security_rule(self, instance_id: str, rule_id: str) -> str:
        """Remove one of an instance's security rules."""
        instance = self.get(instance_id)
        if rule_id not in instance.security_rules:
            raise NotFound("security_rule", rule_id)
        del instance.security_rules[rule_id]
        instance.touch(self.w.now)
        return rule_id

    def _add_rule(self, instance: InstanceRec, request: VMSecurityRuleRequest) -> RuleRec:
        rule = rule_from_request(self.w.ids.new("rule"), request, self.w.now)
        instance.security_rules[rule.id] = rule
        return rule

    # -- transitions -------------------------------------------------------------------

    def _seconds(self, instance: InstanceRec, action: str) -> int:
        low, high = INSTANCE_TRANSITIONS[action].seconds
        return duration(self.w.seed, low, high, instance.id, action, instance.actions)

    def _begin(self, instance: InstanceRec, transition: Transition, seconds: int) -> None:
        """Enter the transitional state now; settle after ``seconds``."""
        instance.actions += 1
        self.set_status(instance, transition.via, self.w.now)
        due = self.w.now + timedelta(seconds=seconds)
        attempt = instance.actions
        self.w.events.schedule(
            due,
            lambda at: self._finish(instance.id, transition, attempt, at),
            f"instance {instance.id} {transition.action}",
        )

    def _finish(self, instance_id: str, transition: Transition, attempt: int, at: datetime) -> None:
        instance = self.w.state.instances.get(instance_id)
        if instance is None or instance.status != transition.via or instance.actions != attempt:
            return  # deleted or overtaken (depletion) meanwhile
        target = transition.target
        rate = self.w.settings.transition_error_rate
        if rate and draw(self.w.seed, instance.id, transition.action, attempt) < rate:
            target = "ERROR"
        if (
            transition.action == "restore"
            and instance.snapshot_id is not None
            and instance.snapshot_id not in self.w.state.snapshots.rows
        ):
            target = "ERROR"  # A3: the snapshot was deleted while the restore ran
        if target == "ACTIVE" and self.backend.depletion.blocks_running():
            target = "SHUTOFF"  # B6: nothing runs on an empty balance
        self.set_status(instance, target, at)

    def set_status(self, instance: InstanceRec, status: str, at: datetime) -> None:
        """Move an instance to ``status`` at ``at``: indexes, meter, side effects."""
        if status == "DELETED":
            self._delete_now(instance, at)
            return
        self.w.state.instances.update(instance, status=status)
        instance.status_since = at
        instance.history.append((at, status))
        if status == "ACTIVE":
            if instance.private_ip is None:
                instance.private_ip = self._private_ip(instance.region)
            if instance.public_ip_enabled and instance.ip_address is None:
                instance.ip_address = self._public_ip(instance.region)
        elif status == "HIBERNATED":
            instance.hibernated_at = at
            instance.ip_address = None
            self._return_gpus(instance)
        elif status == "ERROR" and instance.history[-2][1] in {"CREATING", "RESTORING"}:
            self._return_gpus(instance)
        instance.touch(at)
        self.w.ledger.meter("instance", instance.id, status, self.rate(instance, status), at)
        self.backend.depletion.rates_changed()

    def _delete_now(self, instance: InstanceRec, at: datetime) -> None:
        """``DELETED``: give back GPUs, detach volumes and firewalls, keep a tombstone."""
        state = self.w.state
        self._return_gpus(instance)
        self.backend.volumes.release_all(instance, at)
        for firewall_id in list(instance.firewalls):
            firewall = state.firewalls.get(firewall_id)
            if firewall is not None:
                firewall.attachments.pop(instance.id, None)
                firewall.touch(at)
        instance.firewalls.clear()
        instance.status = "DELETED"
        instance.status_since = at
        instance.ip_address = None
        instance.history.append((at, "DELETED"))
        instance.touch(at)
        state.instances.remove(instance.id)
        state.instance_tombstones[instance.id] = instance
        self.w.ledger.close("instance", instance.id, at)
        self.backend.depletion.rates_changed()

    # -- stock and addresses -----------------------------------------------------------

    def _take_gpus(self, catalog: RegionCatalog, gpu_model: str, gpu_count: int) -> None:
        free = catalog.stock.get(gpu_model, 0)
        if free < gpu_count:
            raise OutOfStock(
                f"{catalog.name} has {free} free {gpu_model} GPUs; {gpu_count} needed",
                {
                    "region": catalog.name,
                    "gpu_model": gpu_model,
                    "available": free,
                    "requested": gpu_count,
                },
            )
        catalog.stock[gpu_model] = free - gpu_count

    def _return_gpus(self, instance: InstanceRec) -> None:
        if not instance.holds_gpus:
            return
        catalog = self.w.state.regions.get(instance.region)
        if catalog is not None:
            model = instance.flavor.gpu_model
            catalog.stock[model] = catalog.stock.get(model, 0) + instance.flavor.gpu_count
        instance.holds_gpus = False

    def _public_ip(self, region: str) -> str:
        n = self.w.next_number(f"public:{region}")
        second = _PUBLIC_BLOCKS.get(region, 112) + (n // 65000) % 16
        return f"100.{second}.{(n // 250) % 256}.{n % 250 + 2}"

    def _private_ip(self, region: str) -> str:
        n = self.w.next_number(f"private:{region}")
        catalog = self.w.state.regions.get(region)
        prefix = catalog.private_prefix if catalog is not None else "10.0"
        return f"{prefix}.{(n // 250) % 256}.{n % 250 + 2}"


def rule_from_request(rule_id: str, request: SecurityRuleRequestBase, now: datetime) -> RuleRec:
    """A rule record from a validated rule request (instance or firewall rule)."""
    return RuleRec(
        id=rule_id,
        direction=str(request.direction),
        protocol=str(request.protocol),
        ethertype=str(request.ethertype),
        port_range_min=request.port_range_min,
        port_range_max=request.port_range_max,
        remote_cidr=request.remote_cidr,
        description=request.description,
        created_at=now,
    )
