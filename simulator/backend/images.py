"""Custom images built from snapshots, and the snapshot-image relationship."""

from __future__ import annotations

from datetime import datetime, timedelta

from barrack.models.images import CreateImageFromSnapshotRequest
from simulator.backend._service import Service
from simulator.errors import InvalidSnapshotStatus, NotFound, SnapshotDeleted
from simulator.ids import duration
from simulator.lifecycle import IMAGE_TRANSITIONS
from simulator.records import ImageRec, SnapshotRec

__all__ = ["ImageService"]


class ImageService(Service):
    """Custom images."""

    def get(self, image_id: str) -> ImageRec:
        """An image (404 otherwise)."""
        return self.w.state.images.require(image_id)

    def select(self) -> list[ImageRec]:
        """Every image, newest first."""
        return self.w.state.images.select()

    def create(self, request: CreateImageFromSnapshotRequest) -> ImageRec:
        """Build an image from a ready snapshot; it starts in ``CREATING``.

        Raises:
            SnapshotDeleted, NotFound, InvalidSnapshotStatus, DuplicateName,
            ProfileIncomplete, InsufficientCredits.
        """
        state = self.w.state
        snapshot = state.snapshots.get(request.snapshot_id)
        if snapshot is None:
            if request.snapshot_id in state.snapshot_tombstones:
                raise SnapshotDeleted(
                    f"snapshot {request.snapshot_id} has been deleted",
                    {"snapshot_id": request.snapshot_id},
                )
            raise NotFound("snapshot", request.snapshot_id)
        if snapshot.status != "SUCCESS":
            raise InvalidSnapshotStatus(
                f"snapshot {snapshot.id} is {snapshot.status}; an image needs SUCCESS",
                {"current_status": snapshot.status, "allowed": ["SUCCESS"]},
            )
        self.require_unique_name(state.images, request.name)
        self.require_can_create()
        return self.build(snapshot, request.name, request.description)

    def build(
        self,
        snapshot: SnapshotRec,
        name: str,
        description: str | None,
        *,
        status: str = "CREATING",
        created_at: datetime | None = None,
    ) -> ImageRec:
        """Store an image of ``snapshot`` and link the two (scenarios pass ``ACTIVE``)."""
        now = created_at or self.w.now
        if self.w.state.images.by_name(name) is not None:
            name = f"{name[:40]}-{snapshot.id[-6:]}"
        image = ImageRec(
            id=self.w.ids.new("image"),
            created_at=now,
            updated_at=now,
            name=name,
            description=description,
            status=status,
            region=snapshot.region,
            snapshot_id=snapshot.id,
            size_gb=snapshot.size_gb,
        )
        self.w.state.images.add(image)
        snapshot.image_ids.append(image.id)
        snapshot.touch(now)
        if status == "CREATING":
            low, high = IMAGE_TRANSITIONS["create"].seconds
            seconds = duration(self.w.seed, low, high, image.id, "create")
            self.w.events.schedule(
                now + timedelta(seconds=seconds),
                lambda at: self._finish(image.id, at),
                f"image {image.id} create",
            )
        return image

    def _finish(self, image_id: str, at: datetime) -> None:
        image = self.w.state.images.get(image_id)
        if image is None or image.status != "CREATING":
            return
        image.status = IMAGE_TRANSITIONS["create"].target
        image.touch(at)

    def delete(self, image_id: str) -> str:
        """Delete an image at once and free its snapshot for deletion."""
        image = self.get(image_id)
        self.w.state.images.remove(image.id)
        snapshot = self.w.state.snapshots.get(image.snapshot_id)
        if snapshot is not None and image.id in snapshot.image_ids:
            snapshot.image_ids.remove(image.id)
            snapshot.touch(self.w.now)
        return image.id
