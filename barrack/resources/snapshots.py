"""Snapshots: take, list, inspect, delete, restore into a new instance."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from barrack._pagination import AsyncPaginator
from barrack.models import (
    BatchSnapshotImageRelationshipResponse,
    Billing,
    CreateSnapshotRequest,
    CreateSnapshotResponse,
    DeleteSnapshotResponse,
    GetBatchSnapshotImageRelationshipsRequest,
    ListUserVMsResponse,
    RestoreSnapshotRequest,
    RestoreSnapshotResponse,
    Snapshot,
    SnapshotBillingResponse,
    SnapshotImageRelationshipResponse,
    SnapshotListResponse,
    SnapshotResponse,
    UserVM,
    VMInstance,
)
from barrack.models.images import SnapshotImageRelationship
from barrack.resources._base import AsyncResource

__all__ = ["AsyncSnapshots"]


class AsyncSnapshots(AsyncResource):
    """Snapshots (``client.snapshots``). Only an ``ACTIVE`` instance can be snapshotted."""

    async def create(
        self,
        *,
        instance_id: str,
        name: str,
        description: str | None = None,
        create_image: bool = False,
        idempotency_key: str | None = None,
    ) -> Snapshot:
        """Snapshot an ``ACTIVE`` instance; the snapshot starts in ``CREATING``.

        Example:
            >>> snap = await client.snapshots.create(  # doctest: +SKIP
            ...     instance_id="BRK-7Q2M4XD", name="before-upgrade")
        """
        body = self._client.build(
            CreateSnapshotRequest,
            "snapshots.create",
            instance_id=instance_id,
            name=name,
            description=description,
            create_image=create_image,
        )
        envelope = await self._client.request(
            "snapshots.create", CreateSnapshotResponse, body=body, idempotency_key=idempotency_key
        )
        return envelope.payload

    def list(
        self,
        *,
        region: str | None = None,
        instance_id: str | None = None,
        per_page: int = 100,
    ) -> AsyncPaginator[Snapshot]:
        """Every snapshot (lazily, page by page), optionally of one region or instance."""
        return self._paginate(
            "snapshots.list",
            SnapshotListResponse,
            query={"region": region, "instance_id": instance_id},
            per_page=per_page,
        )

    async def get(self, snapshot_id: str) -> Snapshot:
        """One snapshot's details."""
        envelope = await self._client.request(
            "snapshots.get", SnapshotResponse, path_params={"snapshot_id": snapshot_id}
        )
        return envelope.payload

    async def eligible_instances(self) -> builtins.list[UserVM]:
        """The instances that can be snapshotted now."""
        envelope = await self._client.request("snapshots.eligible_instances", ListUserVMsResponse)
        return envelope.payload

    async def billing(self, snapshot_id: str) -> Billing:
        """What the snapshot's storage has cost."""
        envelope = await self._client.request(
            "snapshots.billing", SnapshotBillingResponse, path_params={"snapshot_id": snapshot_id}
        )
        return envelope.payload

    async def delete(self, snapshot_id: str) -> None:
        """Delete a snapshot, at once and for good (refused while it backs a custom image)."""
        await self._client.request(
            "snapshots.delete", DeleteSnapshotResponse, path_params={"snapshot_id": snapshot_id}
        )

    async def restore(
        self,
        snapshot_id: str,
        *,
        name: str,
        region: str | None = None,
        idempotency_key: str | None = None,
    ) -> VMInstance:
        """Deploy a new instance from a ``SUCCESS`` snapshot, optionally in another region.

        The new instance has the snapshot's flavor, disk and SSH keys; it starts in
        ``CREATING`` with no IP, and billing starts at once.

        Example:
            >>> vm = await client.snapshots.restore(  # doctest: +SKIP
            ...     "snap-123", name="trainer-1-us", region="US-1")
        """
        body = self._client.build(
            RestoreSnapshotRequest, "snapshots.restore", name=name, region=region
        )
        envelope = await self._client.request(
            "snapshots.restore",
            RestoreSnapshotResponse,
            path_params={"snapshot_id": snapshot_id},
            body=body,
            idempotency_key=idempotency_key,
        )
        return envelope.payload

    async def image_relationship(self, snapshot_id: str) -> SnapshotImageRelationship:
        """Which custom images a snapshot backs."""
        envelope = await self._client.request(
            "snapshots.image_relationship",
            SnapshotImageRelationshipResponse,
            path_params={"snapshot_id": snapshot_id},
        )
        return envelope.payload

    async def image_relationships(
        self, snapshot_ids: Sequence[str]
    ) -> builtins.list[SnapshotImageRelationship]:
        """Which custom images each of several snapshots backs (one call)."""
        body = self._client.build(
            GetBatchSnapshotImageRelationshipsRequest,
            "snapshots.image_relationships",
            snapshot_ids=list(snapshot_ids),
        )
        envelope = await self._client.request(
            "snapshots.image_relationships", BatchSnapshotImageRelationshipResponse, body=body
        )
        return envelope.payload
