"""Custom images built from snapshots, and which snapshots back which images."""

from __future__ import annotations

from pydantic import Field

from barrack.models._base import BarrackModel, Envelope, FlatResponse, RequestModel, UTCDateTime
from barrack.models._types import Description, ImageName, ResourceId
from barrack.models.enums import ImageStatus, RegionEnum

__all__ = [
    "BatchSnapshotImageRelationshipResponse",
    "CreateImageFromSnapshotRequest",
    "GetBatchSnapshotImageRelationshipsRequest",
    "Image",
    "ImageCreateResponse",
    "ImageDeleteResponse",
    "ImageDetailResponse",
    "ImageListResponse",
    "SnapshotImageRelationship",
    "SnapshotImageRelationshipResponse",
]


class Image(BarrackModel):
    """A custom image, built from a snapshot; deploy with ``custom_image_id``.

    Attributes:
        id: image id.
        name: image name.
        description: free text.
        status: ``CREATING``, ``ACTIVE``, ``ERROR``, ``DELETING``.
        region: where it can be deployed.
        snapshot_id: the snapshot it was built from (which cannot be deleted meanwhile).
        size_gb: stored size.
        created_at: creation time.
        updated_at: last change.
    """

    id: str
    name: str
    description: str | None = None
    status: ImageStatus
    region: RegionEnum | None = None
    snapshot_id: str | None = None
    size_gb: int | None = None
    created_at: UTCDateTime
    updated_at: UTCDateTime | None = None


class CreateImageFromSnapshotRequest(RequestModel):
    """Build a custom image from a ready snapshot (``POST /images``)."""

    snapshot_id: ResourceId = Field(description="The snapshot to build from (status SUCCESS).")
    name: ImageName = Field(
        description="Image name: 1-50 letters, digits, spaces, '_', '.', '-'; unique."
    )
    description: Description | None = Field(default=None, description="Free text, 255 at most.")


class ImageListResponse(Envelope[list[Image]]):
    """``GET /images``."""


class ImageDetailResponse(Envelope[Image]):
    """``GET /images/{id}``."""


class ImageCreateResponse(Envelope[Image]):
    """``POST /images`` (201): the new image, in ``CREATING``."""


class ImageDeleteResponse(FlatResponse):
    """``DELETE /images/{id}/``, flat: the deleted image's id."""

    image_id: str


class SnapshotImageRelationship(BarrackModel):
    """Which custom images a snapshot backs.

    Attributes:
        snapshot_id: the snapshot.
        has_image: whether any image is built on it.
        image_ids: the images built on it (delete them before the snapshot).
    """

    snapshot_id: str
    has_image: bool = False
    image_ids: list[str] = Field(default_factory=list)


class SnapshotImageRelationshipResponse(Envelope[SnapshotImageRelationship]):
    """``GET /snapshots/{id}/image-relationship``."""


class GetBatchSnapshotImageRelationshipsRequest(RequestModel):
    """Ask the image relationships of several snapshots at once."""

    snapshot_ids: list[ResourceId] = Field(
        min_length=1, max_length=100, description="Snapshots to look up (1-100)."
    )


class BatchSnapshotImageRelationshipResponse(Envelope[list[SnapshotImageRelationship]]):
    """``POST /snapshots/image-relationships``: one entry per requested snapshot."""
