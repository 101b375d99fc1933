"""What can be deployed where: regions, GPU stock and specs, prices, OS images."""

from __future__ import annotations

from pydantic import Field, SecretStr

from barrack.models._base import BarrackModel, Envelope, Money, RequestModel, UTCDateTime
from barrack.models._rules import VOLUME_MIN_GB
from barrack.models.enums import (
    CurrencyEnum,
    GpuCountEnum,
    GpuModelEnum,
    RegionEnum,
    ResourceTypeEnum,
    TierEnum,
    VolumeTypeEnum,
)

__all__ = [
    "GPUPricing",
    "GPUSpec",
    "GPUSpecsResponse",
    "GPUStockConfiguration",
    "GPUStockItem",
    "GPUStocksResponse",
    "OSImage",
    "OSImagesResponse",
    "Price",
    "PricingData",
    "PricingMetadata",
    "PricingRequest",
    "PricingResponse",
    "Region",
    "RegionsResponse",
    "SnapshotPricing",
    "Specs",
    "SpecsMetadata",
    "VolumePricing",
]


class Region(BarrackModel):
    """A region (B3a).

    Attributes:
        name: the region id, e.g. ``NORWAY-1``.
        location: where it is, in words (``"Oslo, Norway"``).
        available: whether new resources can be created there now.
    """

    name: RegionEnum
    location: str | None = None
    available: bool = True


class RegionsResponse(Envelope[list[Region]]):
    """``GET /regions``."""


class GPUStockConfiguration(BarrackModel):
    """How many instances of one GPU count can be deployed now (B3a).

    Attributes:
        gpu_count: GPUs per instance.
        available: instances of this size that can be deployed now (0 means out of stock).
    """

    gpu_count: GpuCountEnum
    available: int = Field(ge=0)


class GPUStockItem(BarrackModel):
    """Stock of one GPU model in one region (B3a).

    Attributes:
        region: where the GPUs are.
        gpu_model: which GPU.
        available: GPUs of this model free now in the region.
        configurations: the deployable sizes and their stock.
    """

    region: RegionEnum
    gpu_model: GpuModelEnum
    available: int = Field(ge=0)
    configurations: list[GPUStockConfiguration] = Field(default_factory=list)


class GPUStocksResponse(Envelope[list[GPUStockItem]]):
    """``GET /gpu-stocks?region=``."""


class Specs(BarrackModel):
    """Hardware of one GPU and the host share that comes with it.

    An instance with ``n`` GPUs gets ``n`` times the per-GPU host share.

    Attributes:
        gpu_memory_gb: memory of one GPU.
        vcpus_per_gpu: virtual CPUs per GPU.
        ram_gb_per_gpu: host RAM per GPU.
        disk_gb_per_gpu: local boot disk per GPU.
    """

    gpu_memory_gb: int
    vcpus_per_gpu: int | None = None
    ram_gb_per_gpu: int | None = None
    disk_gb_per_gpu: int | None = None


class SpecsMetadata(BarrackModel):
    """Descriptive facts about a GPU model, for display.

    Attributes:
        architecture: GPU architecture (``Hopper``, ``Ampere``, ``Ada Lovelace``).
        memory_type: ``HBM3``, ``HBM2e``, ``GDDR6``...
        interconnect: ``SXM5``, ``NVLink``, ``PCIe``...
        description: free text.
    """

    architecture: str | None = None
    memory_type: str | None = None
    interconnect: str | None = None
    description: str | None = None


class GPUSpec(BarrackModel):
    """One GPU model's specification.

    Attributes:
        gpu_model: which GPU.
        tier: its service tier.
        specs: the hardware.
        metadata: descriptive facts.
        gpu_counts: the instance sizes offered.
        regions: where it is offered.
    """

    gpu_model: GpuModelEnum
    tier: TierEnum | None = None
    specs: Specs
    metadata: SpecsMetadata | None = None
    gpu_counts: list[GpuCountEnum] = Field(default_factory=list)
    regions: list[RegionEnum] = Field(default_factory=list)


class GPUSpecsResponse(Envelope[list[GPUSpec]]):
    """``GET /gpu-specs``."""


class Price(BarrackModel):
    """One leaf of Part C's ``pricing_data``: a price in every currency, and its unit.

    Attributes:
        prices: the price by currency (``{"USD": 2.29, "EUR": 2.39, "INR": 199}``), exact.
        unit: what the price is for, in words (``"per GPU per hour"``,
            ``"per TB per hour"``, ``"per hour (fixed 100GB)"``).
        max_count: GPUs: the most GPUs of this model one instance can have.
        fixed_size_gb: snapshots: the size every snapshot is billed as, whatever its own.
    """

    prices: dict[CurrencyEnum, Money] = Field(default_factory=dict)
    unit: str | None = None
    max_count: int | None = None
    fixed_size_gb: int | None = None


class VolumePricing(BarrackModel):
    """``pricing_data.volumes``: per TB-hour, by tier and volume type."""

    pricing: dict[TierEnum, dict[VolumeTypeEnum, Price]] = Field(default_factory=dict)
    minimum_size_gb: int | None = None
    description: str | None = None


class SnapshotPricing(BarrackModel):
    """``pricing_data.snapshots``: per snapshot-hour (a fixed 100 GB each), by tier."""

    pricing: dict[TierEnum, Price] = Field(default_factory=dict)
    description: str | None = None


class GPUPricing(BarrackModel):
    """``pricing_data.gpus``: per GPU-hour, by tier and GPU model."""

    pricing: dict[TierEnum, dict[GpuModelEnum, Price]] = Field(default_factory=dict)
    description: str | None = None


class PricingMetadata(BarrackModel):
    """``pricing_data.metadata``.

    ``authenticated_user`` is a secret: Part C's sample shows the API key itself there
    (``"my_api_key"``), so it is kept as a :class:`~pydantic.SecretStr` and never shown.
    """

    supported_currencies: list[CurrencyEnum] = Field(default_factory=list)
    supported_tiers: list[TierEnum] = Field(default_factory=list)
    volume_minimum_size_gb: int | None = None
    authenticated_user: SecretStr | None = None
    authentication_type: str | None = None
    timestamp: UTCDateTime | None = None


class PricingData(BarrackModel):
    """The payload of :class:`PricingResponse` (Part C's ``pricing_data``).

    A query narrowed by ``resource_type`` may leave sections out.
    """

    volumes: VolumePricing | None = None
    snapshots: SnapshotPricing | None = None
    gpus: GPUPricing | None = None
    metadata: PricingMetadata | None = None


class PricingRequest(RequestModel):
    """Narrow a pricing query (``POST /pricing/``, Part C's C1); every field is optional."""

    tier: TierEnum | None = Field(default=None, description="legacy or advanced.")
    currency: CurrencyEnum | None = Field(default=None, description="USD, EUR or INR.")
    resource_type: ResourceTypeEnum | None = Field(
        default=None, description="gpus, volumes or snapshots."
    )
    volume_size_gb: int | None = Field(
        default=None, ge=VOLUME_MIN_GB, description=f"Volume size, at least {VOLUME_MIN_GB} GB."
    )
    volume_type: VolumeTypeEnum | None = Field(default=None, description="SSD, HDD or NVMe.")
    gpu_model: GpuModelEnum | None = Field(default=None, description="e.g. H100-SXM5-80GB.")
    gpu_count: GpuCountEnum | None = Field(default=None, description="GPUs per instance.")


class PricingResponse(Envelope[PricingData]):
    """``GET /pricing/`` and ``POST /pricing/`` (Part C's C2): payload key ``pricing_data``."""


class OSImage(BarrackModel):
    """An operating system image to boot from or install on a bootable volume (B3a).

    Attributes:
        id: image id, used as ``image_id`` when deploying.
        name: display name (``"Ubuntu 22.04 + CUDA 12.4"``).
        region: where the image is available.
        size_gb: the image's disk footprint.
        os: operating system family (``ubuntu``).
        version: operating system version.
    """

    id: str
    name: str
    region: RegionEnum
    size_gb: int | None = None
    os: str | None = None
    version: str | None = None


class OSImagesResponse(Envelope[list[OSImage]]):
    """``GET /os-images?region=``."""
