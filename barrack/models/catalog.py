"""What can be deployed where: regions, GPU stock and specs, prices, OS images."""

from __future__ import annotations

from pydantic import Field

from barrack.models._base import BarrackModel, Envelope, Money, RequestModel
from barrack.models.enums import (
    CurrencyEnum,
    GpuCountEnum,
    GpuModelEnum,
    RegionEnum,
    TierEnum,
)

__all__ = [
    "GPUSpec",
    "GPUSpecsResponse",
    "GPUStockConfiguration",
    "GPUStockItem",
    "GPUStocksResponse",
    "OSImage",
    "OSImagesResponse",
    "Price",
    "PricingRequest",
    "PricingResponse",
    "Region",
    "RegionsResponse",
    "Specs",
    "SpecsMetadata",
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
    """The hourly price of a GPU model in a region (B3a).

    Attributes:
        gpu_model: which GPU.
        region: where.
        currency: the account currency.
        price_per_hour: price per hour for ``gpu_count`` GPUs, while ``ACTIVE`` or ``SHUTOFF``.
        gpu_count: how many GPUs ``price_per_hour`` is for (1 in the price list).
        hibernated_price_per_hour: price per hour while ``HIBERNATED``.
    """

    gpu_model: GpuModelEnum
    region: RegionEnum
    currency: CurrencyEnum
    price_per_hour: Money
    gpu_count: GpuCountEnum = GpuCountEnum.ONE
    hibernated_price_per_hour: Money | None = None


class PricingRequest(RequestModel):
    """Ask the price of a configuration (``POST /pricing``)."""

    gpu_model: GpuModelEnum = Field(description="GPU model, e.g. H100-SXM5-80GB.")
    gpu_count: GpuCountEnum = Field(default=GpuCountEnum.ONE, description="GPUs per instance.")
    region: RegionEnum | None = Field(default=None, description="Region; empty means every region.")


class PricingResponse(Envelope[list[Price]]):
    """``GET /pricing`` and ``POST /pricing``."""


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
