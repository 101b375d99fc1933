"""Block volumes: data volumes and bootable volumes made from an OS image."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import AfterValidator, Field, model_validator

from barrack.models._base import (
    BarrackModel,
    Envelope,
    FlatResponse,
    Money,
    RequestModel,
    UTCDateTime,
)
from barrack.models._rules import VOLUME_MAX_GB, VOLUME_MIN_GB, check_volume
from barrack.models._types import Description, ResourceId, VolumeName, require_known
from barrack.models.enums import CurrencyEnum, RegionEnum, TierEnum, VolumeStatus, VolumeTypeEnum

__all__ = [
    "AttachVolumesRequest",
    "AttachVolumesResponse",
    "CloneVolumeRequest",
    "CloneVolumeResponse",
    "CreateVolumeRequest",
    "CreateVolumeResponse",
    "DeleteVolumeResponse",
    "DetachVolumesRequest",
    "DetachVolumesResponse",
    "GetVolumeDetailsResponse",
    "GetVolumeTypesResponse",
    "GetVolumesWithNextNameResponse",
    "ResizeVolumeRequest",
    "ResizeVolumeResponse",
    "VolumeResponse",
    "VolumeType",
    "VolumesWithNextName",
]


class VolumeResponse(BarrackModel):
    """A volume (the object; the A2 name reads like an envelope but is the volume itself).

    Attributes:
        id: volume id.
        name: unique name.
        description: free text.
        region: where it lives; it attaches only to instances of that region.
        size_gb: size.
        volume_type: ``SSD`` (legacy tier), ``HDD`` or ``NVMe`` (advanced tier).
        tier: the tier of its type.
        bootable: made from an OS image, so an instance can boot from it.
        status: ``CREATING``, ``AVAILABLE``, ``IN_USE``...
        image_id: the OS image a bootable volume was made from.
        instance_id: the instance it is attached to, if any (detach before delete).
        hourly_price: what it costs per hour (per TB-hour by tier and type, Part C).
        currency: the account currency.
        created_at: creation time.
        updated_at: last change.
    """

    id: str
    name: str
    description: str | None = None
    region: RegionEnum
    size_gb: int
    volume_type: VolumeTypeEnum = VolumeTypeEnum.SSD
    tier: TierEnum | None = None
    bootable: bool = False
    status: VolumeStatus
    image_id: str | None = None
    instance_id: str | None = None
    hourly_price: Money | None = None
    currency: CurrencyEnum | None = None
    created_at: UTCDateTime
    updated_at: UTCDateTime | None = None


class VolumesWithNextName(BarrackModel):
    """The ``data`` of :class:`GetVolumesWithNextNameResponse`.

    Attributes:
        volumes: the account's volumes.
        next_name: a free default name for the next volume (``"volume-4"``).
    """

    volumes: list[VolumeResponse] = Field(default_factory=list)
    next_name: str | None = None


class CreateVolumeRequest(RequestModel):
    """Create a volume (``POST /volumes/``): 100-1000 GB; a bootable one needs an OS image."""

    name: VolumeName = Field(
        description="Volume name: 1-50 letters, digits, spaces, '_', '.', '-'; unique."
    )
    region: RegionEnum = Field(description="Region; it attaches only to instances there.")
    size_gb: int = Field(
        ge=VOLUME_MIN_GB,
        le=VOLUME_MAX_GB,
        description=f"Size in GB, {VOLUME_MIN_GB}-{VOLUME_MAX_GB}.",
    )
    volume_type: Annotated[VolumeTypeEnum, AfterValidator(require_known)] = Field(
        default=VolumeTypeEnum.SSD, description="SSD (legacy tier), HDD or NVMe (advanced tier)."
    )
    bootable: bool = Field(default=False, description="Install an OS image (needs image_id).")
    image_id: ResourceId | None = Field(
        default=None, description="OS image to install; bootable volumes only."
    )
    description: Description | None = Field(default=None, description="Free text, 255 at most.")

    @model_validator(mode="after")
    def _check_type(self) -> Self:
        problem = check_volume(self.size_gb, self.bootable, self.image_id)
        if problem is not None:
            raise ValueError(problem)
        return self


class ResizeVolumeRequest(RequestModel):
    """Grow a volume (``POST /volumes/{id}/resize``); the server checks it only grows."""

    size_gb: int = Field(
        ge=VOLUME_MIN_GB, le=VOLUME_MAX_GB, description="New size in GB (up to 1000)."
    )


class CloneVolumeRequest(RequestModel):
    """Copy a volume into a new one in the same region (``POST /volumes/{id}/clone``)."""

    name: VolumeName = Field(
        description="Name of the copy: 1-50 letters, digits, spaces, '_', '.', '-'; unique."
    )


class AttachVolumesRequest(RequestModel):
    """Attach volumes to an ``ACTIVE`` instance of the same region."""

    volume_ids: list[ResourceId] = Field(min_length=1, description="Volumes to attach.")


class DetachVolumesRequest(RequestModel):
    """Detach volumes from an ``ACTIVE`` instance (not its boot volume while it runs)."""

    volume_ids: list[ResourceId] = Field(min_length=1, description="Volumes to detach.")


class VolumeType(BarrackModel):
    """A volume type and its limits (``GET /volume-types``).

    Attributes:
        name: ``SSD``, ``HDD`` or ``NVMe``.
        tier: the tier it is offered in.
        min_size_gb: smallest size.
        max_size_gb: largest size.
        price_per_tb_hour: storage price.
        currency: the account currency.
        description: free text.
    """

    name: VolumeTypeEnum
    tier: TierEnum | None = None
    min_size_gb: int | None = None
    max_size_gb: int | None = None
    price_per_tb_hour: Money | None = None
    currency: CurrencyEnum | None = None
    description: str | None = None


class GetVolumesWithNextNameResponse(Envelope[VolumesWithNextName]):
    """``GET /volumes?region=``."""


class CreateVolumeResponse(Envelope[VolumeResponse]):
    """``POST /volumes`` (201): the new volume, in ``CREATING``."""


class GetVolumeDetailsResponse(Envelope[VolumeResponse]):
    """``GET /volumes/{id}``."""


class DeleteVolumeResponse(FlatResponse):
    """``DELETE /volumes/{id}/``, flat: the deleted volume's id."""

    volume_id: str


class ResizeVolumeResponse(Envelope[VolumeResponse]):
    """``POST /volumes/{id}/resize``: the volume with its new size."""


class CloneVolumeResponse(Envelope[VolumeResponse]):
    """``POST /volumes/{id}/clone`` (201): the copy, in ``CREATING``."""


class AttachVolumesResponse(Envelope[list[VolumeResponse]]):
    """``POST /instances/{id}/volumes/attach``: the attached volumes."""


class DetachVolumesResponse(Envelope[list[VolumeResponse]]):
    """``POST /instances/{id}/volumes/detach``: the detached volumes."""


class GetVolumeTypesResponse(Envelope[list[VolumeType]]):
    """``GET /volume-types``."""
