"""Snapshots of instance disks, and restoring them into new instances (A3, B5)."""

from __future__ import annotations

from pydantic import Field

from barrack.models._base import BarrackModel, Envelope, FlatResponse, RequestModel, UTCDateTime
from barrack.models._types import Description, InstanceName, ResourceId, SnapshotName
from barrack.models.enums import RegionEnum, SnapshotStatus
from barrack.models.instances import VMFlavor, VMInstance

__all__ = [
    "CreateSnapshotRequest",
    "CreateSnapshotResponse",
    "DeleteSnapshotResponse",
    "RestoreSnapshotRequest",
    "RestoreSnapshotResponse",
    "Snapshot",
    "SnapshotListResponse",
    "SnapshotResponse",
]


class Snapshot(BarrackModel):
    """A snapshot of an instance's disk (B3a).

    Attributes:
        id: snapshot id.
        name: unique name.
        description: free text.
        status: ``CREATING``, ``SUCCESS`` (ready; legacy ``available``) or ``ERROR``.
        region: the one region it lives in.
        instance_id: the instance it was taken from (it may since be deleted).
        instance_name: that instance's name.
        size_gb: stored size, what hourly billing is based on.
        disk_gb: the source instance's disk size (a restored instance gets this much).
        flavor: the source instance's hardware (a restored instance gets the same).
        has_image: whether a custom image is built on it (then it cannot be deleted).
        created_at: creation time.
        updated_at: last change.
    """

    id: str
    name: str
    description: str | None = None
    status: SnapshotStatus
    region: RegionEnum
    instance_id: str | None = None
    instance_name: str | None = None
    size_gb: int | None = None
    disk_gb: int | None = None
    flavor: VMFlavor | None = None
    has_image: bool = False
    created_at: UTCDateTime
    updated_at: UTCDateTime | None = None


class CreateSnapshotRequest(RequestModel):
    """Snapshot an ``ACTIVE`` instance (``POST /snapshots``, B3a)."""

    instance_id: ResourceId = Field(description="The instance to snapshot (must be ACTIVE).")
    name: SnapshotName = Field(
        description="Snapshot name: 1-50 letters, digits, spaces, '_', '.', '-'; unique."
    )
    description: Description | None = Field(default=None, description="Free text, 255 at most.")
    create_image: bool = Field(
        default=False, description="Also build a custom image from the snapshot."
    )


class RestoreSnapshotRequest(RequestModel):
    """Deploy a new instance from a snapshot (``POST /snapshots/{id}/restore``, B5)."""

    name: InstanceName = Field(
        description="Name of the new instance: 2-30 letters, digits, '_', '.', '-'; unique."
    )
    region: RegionEnum | None = Field(
        default=None,
        description="Region of the new instance; empty means the snapshot's region.",
    )


class SnapshotResponse(Envelope[Snapshot]):
    """``GET /snapshots/{id}``."""


class SnapshotListResponse(Envelope[list[Snapshot]]):
    """``GET /snapshots`` (paginated)."""


class CreateSnapshotResponse(Envelope[Snapshot]):
    """``POST /snapshots`` (201): the new snapshot, in ``CREATING``."""


class DeleteSnapshotResponse(FlatResponse):
    """``DELETE /snapshots/{id}/`` (immediate and permanent), flat: the deleted snapshot's id."""

    snapshot_id: str


class RestoreSnapshotResponse(Envelope[VMInstance]):
    """``POST /snapshots/{id}/restore`` (201): the new instance, in ``CREATING``."""
