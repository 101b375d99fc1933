"""The platform's seed data: regions, GPUs, prices, OS images, stock and fixed rates.

This is the only place in the project where prices are written down (A3); everything else
reads them from the API. Scenarios may override regions, stock and prices.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

__all__ = [
    "AI_MODELS",
    "CURRENCIES",
    "DEFAULT_STOCK",
    "GPU_COUNTS",
    "GPU_MAX_COUNT",
    "GPU_PRICES",
    "GPU_SPECS",
    "HIBERNATED_RATE",
    "MIN_BALANCE",
    "MIN_TOP_UP",
    "OS_IMAGES",
    "REGIONS",
    "REGION_OFFERS",
    "SNAPSHOT_FIXED_SIZE_GB",
    "SNAPSHOT_RATE",
    "VOLUME_MINIMUM_SIZE_GB",
    "VOLUME_RATES_PER_TB_HOUR",
    "AIModelSeed",
    "GPUSpecSeed",
    "OSImageSeed",
    "RegionSeed",
]

CURRENCIES: Final = ("USD", "EUR", "INR")


@dataclass(frozen=True, slots=True)
class RegionSeed:
    """A region and where it is."""

    name: str
    location: str
    private_prefix: str


REGIONS: Final[tuple[RegionSeed, ...]] = (
    RegionSeed("NORWAY-1", "Oslo, Norway", "10.10"),
    RegionSeed("CANADA-1", "Montreal, Canada", "10.20"),
    RegionSeed("US-1", "Dallas, United States", "10.30"),
)


@dataclass(frozen=True, slots=True)
class GPUSpecSeed:
    """One GPU model's hardware and the host share per GPU."""

    model: str
    tier: str
    memory_gb: int
    vcpus_per_gpu: int
    ram_gb_per_gpu: int
    disk_gb_per_gpu: int
    architecture: str
    memory_type: str
    interconnect: str
    dcgm_name: str


GPU_SPECS: Final[dict[str, GPUSpecSeed]] = {
    s.model: s
    for s in (
        GPUSpecSeed(
            "H100-SXM5-80GB", "advanced", 80, 26, 225, 450,
            "Hopper", "HBM3", "SXM5", "NVIDIA H100 80GB HBM3",
        ),
        GPUSpecSeed(
            "H100-PCIe-NVLink-80GB", "legacy", 80, 24, 180, 400,
            "Hopper", "HBM2e", "NVLink", "NVIDIA H100 PCIe",
        ),
        GPUSpecSeed(
            "H100-PCIe-80GB", "legacy", 80, 24, 180, 400,
            "Hopper", "HBM2e", "PCIe", "NVIDIA H100 PCIe",
        ),
        GPUSpecSeed(
            "A100-SXM4-80GB-NVLink", "legacy", 80, 16, 120, 300,
            "Ampere", "HBM2e", "NVLink", "NVIDIA A100-SXM4-80GB",
        ),
        GPUSpecSeed(
            "A100-PCIe-80GB", "legacy", 80, 16, 120, 300,
            "Ampere", "HBM2e", "PCIe", "NVIDIA A100 80GB PCIe",
        ),
        GPUSpecSeed(
            "L40", "legacy", 48, 12, 64, 200,
            "Ada Lovelace", "GDDR6", "PCIe", "NVIDIA L40",
        ),
        GPUSpecSeed(
            "RTX-A6000", "legacy", 48, 8, 48, 150,
            "Ampere", "GDDR6", "PCIe", "NVIDIA RTX A6000",
        ),
        GPUSpecSeed(
            "A40", "legacy", 48, 8, 48, 150,
            "Ampere", "GDDR6", "PCIe", "NVIDIA A40",
        ),
        GPUSpecSeed(
            "B300-262GB", "advanced", 262, 32, 275, 600,
            "Blackwell Ultra", "HBM3e", "SXM", "NVIDIA B300",
        ),
    )
}  # fmt: skip

GPU_COUNTS: Final = (1, 2, 4, 8)

GPU_PRICES: Final[dict[str, dict[str, Decimal]]] = {
    model: {"USD": Decimal(usd), "EUR": Decimal(eur), "INR": Decimal(inr)}
    for model, usd, eur, inr in (
        ("H100-SXM5-80GB", "2.49", "2.69", "209"),
        ("H100-PCIe-NVLink-80GB", "2.29", "2.39", "199"),
        ("H100-PCIe-80GB", "2.25", "2.05", "195"),
        ("A100-SXM4-80GB-NVLink", "1.59", "1.45", "135"),
        ("A100-PCIe-80GB", "1.55", "1.39", "135"),
        ("L40", "1.19", "1.09", "99"),
        ("RTX-A6000", "0.69", "0.75", "49"),
        ("A40", "0.69", "0.45", "49"),
        ("B300-262GB", "5.79", "5.99", "499"),
    )
}
"""Hourly price of one GPU, by model and currency (the same in every region): Part C's
figures where its sample shows the model, A3's for the others. The tier is the model's
(``GPU_SPECS``)."""

GPU_MAX_COUNT: Final[dict[str, int]] = {"RTX-A6000": 4}
"""Part C's ``max_count``: the most GPUs of a model per instance (8 unless listed)."""

REGION_OFFERS: Final[dict[str, tuple[str, ...]]] = {
    "NORWAY-1": (
        "H100-SXM5-80GB",
        "H100-PCIe-NVLink-80GB",
        "A100-SXM4-80GB-NVLink",
        "L40",
        "RTX-A6000",
    ),
    "CANADA-1": ("H100-SXM5-80GB", "H100-PCIe-80GB", "A100-PCIe-80GB", "A40", "RTX-A6000"),
    "US-1": (
        "H100-SXM5-80GB",
        "H100-PCIe-NVLink-80GB",
        "A100-PCIe-80GB",
        "L40",
        "A40",
        "B300-262GB",
    ),
}
"""Which GPU models each region offers: a restore elsewhere is compatible only if listed."""

DEFAULT_STOCK: Final[dict[str, dict[str, int]]] = {
    "NORWAY-1": {
        "H100-SXM5-80GB": 48,
        "H100-PCIe-NVLink-80GB": 16,
        "A100-SXM4-80GB-NVLink": 24,
        "L40": 16,
        "RTX-A6000": 12,
    },
    "CANADA-1": {
        "H100-SXM5-80GB": 16,
        "H100-PCIe-80GB": 16,
        "A100-PCIe-80GB": 16,
        "A40": 24,
        "RTX-A6000": 8,
    },
    "US-1": {
        "H100-SXM5-80GB": 32,
        "H100-PCIe-NVLink-80GB": 8,
        "A100-PCIe-80GB": 16,
        "L40": 12,
        "A40": 16,
        "B300-262GB": 8,
    },
}
"""Free GPUs per region and model when a scenario starts (scenarios may override)."""

HIBERNATED_RATE: Final[dict[str, Decimal]] = {
    "USD": Decimal("0.01"),
    "EUR": Decimal("0.01"),
    "INR": Decimal("1.00"),
}
"""A3: hourly charge of a hibernated instance, whatever its size."""

VOLUME_RATES_PER_TB_HOUR: Final[dict[str, dict[str, dict[str, Decimal]]]] = {
    "legacy": {"SSD": {"USD": Decimal("0.1"), "EUR": Decimal("0.1"), "INR": Decimal("10")}},
    "advanced": {
        "HDD": {"USD": Decimal("0.08"), "EUR": Decimal("0.1"), "INR": Decimal("8")},
        "NVMe": {"USD": Decimal("0.3"), "EUR": Decimal("0.35"), "INR": Decimal("30")},
    },
}
"""Part C: volume storage per TB-hour (1 TB = 1000 GB), by tier, type and currency."""

VOLUME_MINIMUM_SIZE_GB: Final = 100
"""Part C: ``minimum_size_gb``."""

SNAPSHOT_RATE: Final[dict[str, Decimal]] = {
    "USD": Decimal("0.1"),
    "EUR": Decimal("0.1"),
    "INR": Decimal("10"),
}
"""Part C: every ready snapshot is billed as a fixed 100 GB, "per hour (fixed 100GB)",
legacy tier only. Read literally: this much per snapshot per hour, whatever its size."""

SNAPSHOT_FIXED_SIZE_GB: Final = 100
"""Part C: ``fixed_size_gb``."""

MIN_BALANCE: Final[dict[str, Decimal]] = {
    "USD": Decimal("1.00"),
    "EUR": Decimal("1.00"),
    "INR": Decimal("100.00"),
}
"""A3: the balance needed to create (or restore) anything."""

MIN_TOP_UP: Final[dict[str, Decimal]] = {
    "USD": Decimal("5"),
    "EUR": Decimal("5"),
    "INR": Decimal("100"),
}
"""A3: the smallest top-up."""


@dataclass(frozen=True, slots=True)
class OSImageSeed:
    """An OS image template, offered in every region."""

    key: str
    name: str
    os: str
    version: str
    size_gb: int


OS_IMAGES: Final[tuple[OSImageSeed, ...]] = (
    OSImageSeed("ubuntu-22-04-cuda-12-4", "Ubuntu 22.04 + CUDA 12.4", "ubuntu", "22.04", 30),
    OSImageSeed("ubuntu-24-04-cuda-12-6", "Ubuntu 24.04 + CUDA 12.6", "ubuntu", "24.04", 32),
    OSImageSeed("ubuntu-22-04", "Ubuntu 22.04 (no drivers)", "ubuntu", "22.04", 10),
    OSImageSeed("debian-12-cuda-12-4", "Debian 12 + CUDA 12.4", "debian", "12", 28),
)


@dataclass(frozen=True, slots=True)
class AIModelSeed:
    """A model the AI chat endpoint serves, with its token prices per million (USD)."""

    id: str
    name: str
    context_length: int
    input_per_million: Decimal
    output_per_million: Decimal
    tier: str


AI_MODELS: Final[tuple[AIModelSeed, ...]] = (
    AIModelSeed("llama-3.1-8b-instruct", "Llama 3.1 8B Instruct", 131072,
                Decimal("0.05"), Decimal("0.08"), "legacy"),
    AIModelSeed("llama-3.3-70b-instruct", "Llama 3.3 70B Instruct", 131072,
                Decimal("0.40"), Decimal("0.60"), "advanced"),
    AIModelSeed("qwen-2.5-coder-32b", "Qwen 2.5 Coder 32B", 32768,
                Decimal("0.20"), Decimal("0.30"), "legacy"),
)  # fmt: skip
