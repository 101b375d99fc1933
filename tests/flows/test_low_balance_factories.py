"""Builders for the low-balance tests: API models with only the fields that matter here.

(A module of helpers, no tests: the low-balance test modules import from it.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from barrack.models import Snapshot, VMInstance, VolumeResponse
from flows.common.pricing import GpuPrice, PriceIndex

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def make_vm(
    name: str,
    status: str = "ACTIVE",
    *,
    gpu_model: str = "H100-SXM5-80GB",
    gpu_count: int = 1,
    region: str = "NORWAY-1",
    hourly_price: str | None = None,
    currency: str | None = None,
    vm_id: str | None = None,
) -> VMInstance:
    """An instance; ``hourly_price`` None means the API gave none."""
    return VMInstance.model_validate(
        {
            "id": vm_id or f"BRK-{name[:7].upper():0<7}",
            "name": name,
            "status": status,
            "region": region,
            "flavor": {
                "name": f"{gpu_count}x-{gpu_model}",
                "gpu_model": gpu_model,
                "gpu_count": gpu_count,
                "vcpus": 8 * gpu_count,
                "ram_gb": 64 * gpu_count,
                "disk_gb": 200 * gpu_count,
            },
            "hourly_price": hourly_price,
            "currency": currency,
            "created_at": T0 - timedelta(days=10),
        }
    )


def make_index(
    currency: str = "USD",
    gpus: dict[str, str] | None = None,
    *,
    volumes: dict[str, str] | None = None,
    snapshot: str | None = None,
) -> PriceIndex:
    """A price index in ``currency``: per-GPU-hour prices by model, per-TB-hour by type.

    Tiers follow Part C (``SSD`` legacy, ``HDD``/``NVMe`` advanced; GPUs "advanced").
    """
    tiers = {"SSD": "legacy", "HDD": "advanced", "NVMe": "advanced"}
    return PriceIndex(
        currency,
        gpus={m: GpuPrice(Decimal(p), "advanced", 8) for m, p in (gpus or {}).items()},
        volumes={t: Decimal(p) for t, p in (volumes or {}).items()},
        volume_tiers={t: tiers.get(t, "legacy") for t in volumes or {}},
        snapshot=Decimal(snapshot) if snapshot is not None else None,
    )


def make_volume(
    name: str,
    size_gb: int,
    *,
    hourly_price: str | None = None,
    volume_type: str = "SSD",
    status: str = "AVAILABLE",
) -> VolumeResponse:
    """A volume."""
    return VolumeResponse.model_validate(
        {
            "id": f"vol-{name}",
            "name": name,
            "region": "NORWAY-1",
            "size_gb": size_gb,
            "volume_type": volume_type,
            "status": status,
            "hourly_price": hourly_price,
            "created_at": T0 - timedelta(days=3),
        }
    )


def make_snapshot(
    name: str,
    *,
    instance_id: str | None = None,
    size_gb: int | None = 100,
    status: str = "SUCCESS",
    created_at: datetime | None = None,
) -> Snapshot:
    """A snapshot."""
    return Snapshot.model_validate(
        {
            "id": f"snap-{name}",
            "name": name,
            "status": status,
            "region": "NORWAY-1",
            "instance_id": instance_id,
            "size_gb": size_gb,
            "created_at": created_at or T0 - timedelta(days=1),
        }
    )


def d(text: str | int) -> Decimal:
    """A Decimal from text, for exact expectations."""
    return Decimal(str(text))
