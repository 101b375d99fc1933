"""Volumes: region-bound block storage, billed per TB-hour while it exists."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from barrack.models._rules import VOLUME_MAX_GB, VOLUME_TYPE_TIERS
from barrack.models.volumes import CloneVolumeRequest, CreateVolumeRequest
from simulator.backend._service import Service
from simulator.errors import InvalidState, NotFound, ValidationFailed
from simulator.ids import duration
from simulator.lifecycle import VOLUME_TRANSITIONS, Transition
from simulator.records import InstanceRec, VolumeRec
from simulator.seed_data import VOLUME_RATES_PER_TB_HOUR

__all__ = ["VolumeService"]

_GB_PER_TB = Decimal(1000)
_DELETABLE = frozenset({"AVAILABLE", "ERROR"})
_ATTACHABLE = frozenset({"AVAILABLE"})


class VolumeService(Service):
    """Volumes and their attachments."""

    def get(self, volume_id: str) -> VolumeRec:
        """A volume (404 otherwise)."""
        return self.w.state.volumes.require(volume_id)

    def select(self, region: str | None = None) -> list[VolumeRec]:
        """Volumes, newest first, optionally of one region."""
        return self.w.state.volumes.select(region=region)

    def next_name(self) -> str:
        """The first free ``volume-N`` name."""
        n = len(self.w.state.volumes) + 1
        while self.w.state.volumes.by_name(f"volume-{n}") is not None:
            n += 1
        return f"volume-{n}"

    def rate_per_tb_hour(self, volume_type: str) -> Decimal:
        """The storage rate of a volume type in the account currency (Part C)."""
        tier = VOLUME_TYPE_TIERS.get(volume_type, "legacy")
        by_currency = VOLUME_RATES_PER_TB_HOUR[tier].get(volume_type)
        if by_currency is None:
            raise ValidationFailed("volume_type", f"unknown volume type {volume_type!r}")
        return by_currency.get(self.w.currency, by_currency["USD"])

    def rate(self, volume: VolumeRec) -> Decimal:
        """What a volume costs per hour: its type's TB-hour rate (1 TB = 1000 GB)."""
        return self.rate_per_tb_hour(volume.volume_type) * volume.size_gb / _GB_PER_TB

    def create(self, request: CreateVolumeRequest) -> VolumeRec:
        """Create a volume; it starts in ``CREATING``.

        Raises:
            ValidationFailed, NotFound (OS image), DuplicateName, ProfileIncomplete,
            InsufficientCredits.
        """
        region = str(request.region)
        catalog = self.require_region(region)
        volume_type = str(request.volume_type)
        self.rate_per_tb_hour(volume_type)
        if request.image_id is not None and request.image_id not in catalog.os_images:
            raise NotFound("os_image", request.image_id)
        self.require_unique_name(self.w.state.volumes, request.name)
        self.require_can_create()
        volume = self.add(
            name=request.name,
            region=region,
            size_gb=request.size_gb,
            volume_type=volume_type,
            bootable=request.bootable,
            image_id=request.image_id,
            description=request.description,
            created_at=self.w.now,
            status="CREATING",
        )
        self._begin(volume, VOLUME_TRANSITIONS["create"], "AVAILABLE")
        return volume

    def add(
        self,
        *,
        name: str,
        region: str,
        size_gb: int,
        volume_type: str,
        bootable: bool = False,
        image_id: str | None,
        description: str | None,
        created_at: datetime,
        status: str,
    ) -> VolumeRec:
        """Store a volume and start its meter (billed from creation while it exists)."""
        volume = VolumeRec(
            id=self.w.ids.new("volume"),
            created_at=created_at,
            updated_at=created_at,
            name=name,
            description=description,
            region=region,
            size_gb=size_gb,
            volume_type=volume_type,
            bootable=bootable,
            status=status,
            image_id=image_id,
        )
        self.w.state.volumes.add(volume)
        self.w.ledger.meter("volume", volume.id, status, self.rate(volume), created_at)
        self.backend.depletion.rates_changed()
        return volume

    def clone(self, volume_id: str, request: CloneVolumeRequest) -> VolumeRec:
        """Copy a volume into a new one in the same region."""
        source = self.get(volume_id)
        if source.status not in {"AVAILABLE", "IN_USE"}:
            raise InvalidState("volume", source.id, source.status, ["AVAILABLE", "IN_USE"])
        self.require_unique_name(self.w.state.volumes, request.name)
        self.require_can_create()
        copy = self.add(
            name=request.name,
            region=source.region,
            size_gb=source.size_gb,
            volume_type=source.volume_type,
            bootable=source.bootable,
            image_id=source.image_id,
            description=source.description,
            created_at=self.w.now,
            status="CREATING",
        )
        self._begin(copy, VOLUME_TRANSITIONS["clone"], "AVAILABLE", extra=source.size_gb * 0.1)
        return copy

    def resize(self, volume_id: str, size_gb: int) -> VolumeRec:
        """Grow a volume (never shrink) up to its type's limit."""
        volume = self.get(volume_id)
        transition = VOLUME_TRANSITIONS["resize"]
        if volume.status not in transition.sources:
            raise InvalidState("volume", volume.id, volume.status, transition.sources)
        limit = VOLUME_MAX_GB
        if size_gb <= volume.size_gb:
            raise ValidationFailed(
                "size_gb", f"a volume only grows: {size_gb} <= current {volume.size_gb}"
            )
        if size_gb > limit:
            raise ValidationFailed("size_gb", f"volumes hold at most {limit} GB")
        settle = "IN_USE" if volume.instance_id else "AVAILABLE"
        volume.size_gb = size_gb
        self._begin(volume, transition, settle)
        return volume

    def delete(self, volume_id: str) -> str:
        """Delete a detached volume at once."""
        volume = self.get(volume_id)
        if volume.status not in _DELETABLE:
            raise InvalidState(
                "volume",
                volume.id,
                volume.status,
                _DELETABLE,
                message=f"volume {volume.id} is {volume.status}; detach it before deleting",
            )
        self.w.state.volumes.remove(volume.id)
        self.w.state.volume_tombstones[volume.id] = volume
        self.w.ledger.close("volume", volume.id, self.w.now)
        self.backend.depletion.rates_changed()
        return volume.id

    # -- attachments -------------------------------------------------------------------

    def attach(self, instance_id: str, volume_ids: list[str]) -> list[VolumeRec]:
        """Attach volumes to an ``ACTIVE`` instance of their region (all or none)."""
        instance = self.backend.instances.get(instance_id)
        if instance.status != "ACTIVE":
            raise InvalidState("instance", instance.id, instance.status, ["ACTIVE"])
        volumes = [self.get(v) for v in volume_ids]
        for volume in volumes:
            self.require_same_region(
                f"volume {volume.id}", volume.region, f"instance {instance.id}", instance.region
            )
            if volume.status not in _ATTACHABLE:
                raise InvalidState("volume", volume.id, volume.status, _ATTACHABLE)
        for volume in volumes:
            self._link(volume, instance, self.w.now)
        instance.touch(self.w.now)
        return volumes

    def attach_boot(self, volume_id: str, instance: InstanceRec) -> None:
        """Attach a bootable volume as the boot disk of a new instance."""
        self._link(self.get(volume_id), instance, self.w.now)

    def detach(self, instance_id: str, volume_ids: list[str]) -> list[VolumeRec]:
        """Detach volumes from an ``ACTIVE`` instance, never its boot volume."""
        instance = self.backend.instances.get(instance_id)
        if instance.status != "ACTIVE":
            raise InvalidState("instance", instance.id, instance.status, ["ACTIVE"])
        volumes = [self.get(v) for v in volume_ids]
        for volume in volumes:
            if volume.instance_id != instance.id:
                raise InvalidState(
                    "volume",
                    volume.id,
                    volume.status,
                    ["IN_USE"],
                    message=f"volume {volume.id} is not attached to {instance.id}",
                )
            if instance.boot_source == "volume" and volume.device == "/dev/vda":
                raise InvalidState(
                    "volume",
                    volume.id,
                    volume.status,
                    [],
                    message=f"volume {volume.id} is the boot volume of running {instance.id}",
                    instance_status=instance.status,
                )
        for volume in volumes:
            self._unlink(volume, instance, self.w.now)
        instance.touch(self.w.now)
        return volumes

    def release_all(self, instance: InstanceRec, at: datetime) -> None:
        """Detach every volume of an instance being deleted (volumes outlive instances)."""
        for volume_id in list(instance.volumes):
            volume = self.w.state.volumes.get(volume_id)
            if volume is not None:
                self._unlink(volume, instance, at)

    def _link(self, volume: VolumeRec, instance: InstanceRec, at: datetime) -> None:
        boot = volume.bootable and not instance.volumes and (instance.boot_source == "volume")
        volume.device = "/dev/vda" if boot else f"/dev/vd{chr(ord('b') + len(instance.volumes))}"
        volume.instance_id = instance.id
        volume.status = "IN_USE"
        volume.touch(at)
        instance.volumes[volume.id] = at

    def _unlink(self, volume: VolumeRec, instance: InstanceRec, at: datetime) -> None:
        instance.volumes.pop(volume.id, None)
        volume.instance_id = None
        volume.device = None
        volume.status = "AVAILABLE"
        volume.touch(at)

    def _begin(
        self, volume: VolumeRec, transition: Transition, settle: str, extra: float = 0
    ) -> None:
        volume.actions += 1
        volume.status = transition.via
        volume.touch(self.w.now)
        low, high = transition.seconds
        seconds = duration(self.w.seed, low, high, volume.id, transition.action, volume.actions)
        attempt = volume.actions
        self.w.events.schedule(
            self.w.now + timedelta(seconds=seconds + round(extra)),
            lambda at: self._finish(volume.id, transition, settle, attempt, at),
            f"volume {volume.id} {transition.action}",
        )

    def _finish(
        self, volume_id: str, transition: Transition, settle: str, attempt: int, at: datetime
    ) -> None:
        volume = self.w.state.volumes.get(volume_id)
        if volume is None or volume.status != transition.via or volume.actions != attempt:
            return
        volume.status = "IN_USE" if volume.instance_id else settle
        volume.touch(at)
        self.w.ledger.meter("volume", volume.id, volume.status, self.rate(volume), at)
        self.backend.depletion.rates_changed()
