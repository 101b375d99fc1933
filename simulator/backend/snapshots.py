"""Snapshots (B5): create from an ``ACTIVE`` instance, delete at once, restore elsewhere."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from barrack.models import CreateSnapshotRequest, RestoreSnapshotRequest
from simulator.backend._service import Service
from simulator.errors import (
    InvalidSnapshotStatus,
    InvalidState,
    Layer2ValidationFailed,
    NotFound,
    SnapshotDeleted,
)
from simulator.ids import draw, duration
from simulator.lifecycle import SNAPSHOT_TRANSITIONS
from simulator.records import InstanceRec, RuleRec, SnapshotRec
from simulator.seed_data import SNAPSHOT_RATE

__all__ = ["SnapshotService"]

_SECONDS_PER_STORED_GB = 0.4
"""Snapshot time grows with the stored size: 0.4 s per GB (225 GB: about 2 minutes)."""


class SnapshotService(Service):
    """Snapshots and restores."""

    def get(self, snapshot_id: str) -> SnapshotRec:
        """A snapshot that exists (404 otherwise, deleted ones included)."""
        return self.w.state.snapshots.require(snapshot_id)

    def select(
        self, region: str | None = None, instance_id: str | None = None
    ) -> list[SnapshotRec]:
        """Snapshots, newest first, filtered by region and source instance."""
        return self.w.state.snapshots.select(region=region, instance_id=instance_id)

    def rate(self, snapshot: SnapshotRec) -> Decimal:
        """What a ready snapshot costs per hour: the fixed 100 GB rate, whatever its size."""
        return SNAPSHOT_RATE.get(self.w.currency, SNAPSHOT_RATE["USD"])

    def create(self, request: CreateSnapshotRequest) -> SnapshotRec:
        """Snapshot an ``ACTIVE`` instance; the snapshot starts in ``CREATING``.

        Raises:
            NotFound: no such instance.
            InvalidState: the instance is not ``ACTIVE`` (details: current_status, allowed).
            DuplicateName, ProfileIncomplete, InsufficientCredits.
        """
        instance = self.backend.instances.get(request.instance_id)
        if instance.status != "ACTIVE":
            raise InvalidState(
                "instance",
                instance.id,
                instance.status,
                ["ACTIVE"],
                message=f"only an ACTIVE instance can be snapshotted; {instance.id} is "
                f"{instance.status}",
            )
        self.require_unique_name(self.w.state.snapshots, request.name)
        self.require_can_create()
        snapshot = self.add(
            instance=instance,
            name=request.name,
            description=request.description,
            created_at=self.w.now,
            status="CREATING",
        )
        stored = _SECONDS_PER_STORED_GB * snapshot.size_gb
        low, high = SNAPSHOT_TRANSITIONS["create"].seconds
        seconds = duration(self.w.seed, low, high, snapshot.id, "create") + round(stored)
        self.w.events.schedule(
            self.w.now + timedelta(seconds=seconds),
            lambda at: self._finish(snapshot.id, request.create_image, at),
            f"snapshot {snapshot.id} create",
        )
        return snapshot

    def add(
        self,
        *,
        instance: InstanceRec,
        name: str,
        description: str | None,
        created_at: datetime,
        status: str,
        size_gb: int | None = None,
    ) -> SnapshotRec:
        """Store a snapshot of ``instance`` (scenarios use this for history too)."""
        used = 0.25 + 0.55 * draw(self.w.seed, instance.id, "disk-used")
        snapshot = SnapshotRec(
            id=self.w.ids.new("snapshot"),
            created_at=created_at,
            updated_at=created_at,
            name=name,
            description=description,
            status=status,
            region=instance.region,
            instance_id=instance.id,
            instance_name=instance.name,
            size_gb=size_gb
            if size_gb is not None
            else max(1, round(instance.flavor.disk_gb * used)),
            flavor=instance.flavor,
            public_ip_enabled=instance.public_ip_enabled,
            ssh_key_ids=list(instance.ssh_key_ids),
            security_rules=[_copy_rule(r) for r in instance.security_rules.values()],
        )
        self.w.state.snapshots.add(snapshot)
        rate = self.rate(snapshot) if status == "SUCCESS" else Decimal(0)
        self.w.ledger.meter("snapshot", snapshot.id, status, rate, created_at)
        return snapshot

    def _finish(self, snapshot_id: str, create_image: bool, at: datetime) -> None:
        snapshot = self.w.state.snapshots.get(snapshot_id)
        if snapshot is None or snapshot.status != "CREATING":
            return  # deleted while it was being made
        error_rate = self.w.settings.transition_error_rate
        failed = bool(error_rate) and draw(self.w.seed, snapshot.id, "finish") < error_rate
        snapshot.status = "ERROR" if failed else "SUCCESS"
        snapshot.touch(at)
        rate = Decimal(0) if failed else self.rate(snapshot)
        self.w.ledger.meter("snapshot", snapshot.id, snapshot.status, rate, at)
        self.backend.depletion.rates_changed()
        if create_image and not failed:
            self.backend.images.build(snapshot, snapshot.name[:50], None)

    def delete(self, snapshot_id: str) -> str:
        """Delete a snapshot at once (B5), unless a custom image is built on it.

        Raises:
            NotFound: no such snapshot.
            InvalidState: it backs an image (details name the image).
        """
        snapshot = self.get(snapshot_id)
        if snapshot.image_ids:
            images = [self.w.state.images.rows[i] for i in snapshot.image_ids]
            raise InvalidState(
                "snapshot",
                snapshot.id,
                snapshot.status,
                [],
                message=f"snapshot {snapshot.id} backs image {images[0].name!r} "
                f"({images[0].id}); delete the image first",
                image_id=images[0].id,
                image_name=images[0].name,
                image_ids=[i.id for i in images],
            )
        self.w.state.snapshots.remove(snapshot.id)
        snapshot.deleted = True
        snapshot.touch(self.w.now)
        self.w.state.snapshot_tombstones[snapshot.id] = snapshot
        self.w.ledger.close("snapshot", snapshot.id, self.w.now)
        self.backend.depletion.rates_changed()
        return snapshot.id

    def restore(self, snapshot_id: str, request: RestoreSnapshotRequest) -> InstanceRec:
        """Deploy a new instance from a snapshot, in its region or another (B5).

        Checks, in A3's order: the snapshot's status, region compatibility, layer-2
        validation, complete profile, minimum balance; then the name and the stock.

        Raises:
            SnapshotDeleted: the snapshot was deleted (410).
            NotFound: it never existed.
            InvalidSnapshotStatus: it is not ``SUCCESS``.
            RegionIncompatible, Layer2ValidationFailed, ProfileIncomplete,
            InsufficientCredits, DuplicateName, OutOfStock.
        """
        state = self.w.state
        snapshot = state.snapshots.get(snapshot_id)
        if snapshot is None:
            if snapshot_id in state.snapshot_tombstones:
                raise SnapshotDeleted(
                    f"snapshot {snapshot_id} has been deleted", {"snapshot_id": snapshot_id}
                )
            raise NotFound("snapshot", snapshot_id)
        if snapshot.status != "SUCCESS":
            raise InvalidSnapshotStatus(
                f"snapshot {snapshot.id} is {snapshot.status}; only SUCCESS can be restored",
                {"current_status": snapshot.status, "allowed": ["SUCCESS"]},
            )
        region = str(request.region) if request.region is not None else snapshot.region
        catalog = self.require_region(region)
        self.require_offered(catalog, snapshot.flavor.gpu_model)
        if region in self.w.settings.layer2_fail_regions:
            raise Layer2ValidationFailed(
                f"the network of {region} cannot take {snapshot.id}'s configuration",
                {"region": region, "snapshot_id": snapshot.id},
            )
        self.require_can_create()
        self.require_unique_name(state.instances, request.name)
        return self.backend.instances.create_from_snapshot(snapshot, request.name, catalog)

    def image_relationship(self, snapshot_id: str) -> SnapshotRec:
        """A snapshot, to report which images it backs."""
        return self.get(snapshot_id)


def _copy_rule(rule: RuleRec) -> RuleRec:
    return RuleRec(
        rule.id,
        rule.direction,
        rule.protocol,
        rule.ethertype,
        rule.port_range_min,
        rule.port_range_max,
        rule.remote_cidr,
        rule.description,
        rule.created_at,
    )
