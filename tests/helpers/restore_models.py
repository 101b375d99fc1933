"""Builders of API models for the restore recipe's pure tests (as the API would send them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from barrack.models import Balance, GPUStockItem, Region, Snapshot, VMInstance
from flows.common.pricing import GpuPrice, PriceIndex

T0 = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


def flavor(gpu_model: str = "H100-SXM5-80GB", gpu_count: int = 2) -> dict[str, Any]:
    return {
        "name": f"{gpu_count}x-{gpu_model}",
        "gpu_model": gpu_model,
        "gpu_count": gpu_count,
        "vcpus": 16 * gpu_count,
        "ram_gb": 128 * gpu_count,
        "disk_gb": 500 * gpu_count,
    }


def snapshot(
    id_: str = "snap-1",
    *,
    name: str = "train-snap",
    region: str = "NORWAY-1",
    status: str = "SUCCESS",
    instance_id: str | None = "BRK-TRAIN01",
    instance_name: str | None = "train-h100",
    gpu_model: str = "H100-SXM5-80GB",
    gpu_count: int = 2,
    age_hours: float = 2,
) -> Snapshot:
    return Snapshot.model_validate(
        {
            "id": id_,
            "name": name,
            "status": status,
            "region": region,
            "instance_id": instance_id,
            "instance_name": instance_name,
            "size_gb": 300,
            "disk_gb": 1000,
            "flavor": flavor(gpu_model, gpu_count),
            "created_at": (T0 - timedelta(hours=age_hours)).isoformat(),
        }
    )


def instance(
    name: str,
    *,
    id_: str | None = None,
    region: str = "NORWAY-1",
    status: str = "ACTIVE",
    hourly_price: str | None = "4.98",  # 2 x 2.49 (Part C, USD)
    snapshot_id: str | None = None,
    gpu_model: str = "H100-SXM5-80GB",
    gpu_count: int = 2,
) -> VMInstance:
    return VMInstance.model_validate(
        {
            "id": id_ or f"BRK-{name[:7].upper().replace('-', 'X'):X<7}",
            "name": name,
            "status": status,
            "region": region,
            "flavor": flavor(gpu_model, gpu_count),
            "boot_source": "snapshot" if snapshot_id else "os_image",
            "snapshot_id": snapshot_id,
            "hourly_price": hourly_price,
            "currency": "USD",
            "created_at": (T0 - timedelta(days=3)).isoformat(),
        }
    )


def region(name: str, available: bool = True) -> Region:
    return Region.model_validate({"name": name, "available": available})


REGIONS = [region("NORWAY-1"), region("CANADA-1"), region("US-1")]


def stock(region: str, gpu_model: str, free_gpus: int) -> GPUStockItem:
    """A stock entry with the per-size configurations, as the API lists them."""
    return GPUStockItem.model_validate(
        {
            "region": region,
            "gpu_model": gpu_model,
            "available": free_gpus,
            "configurations": [{"gpu_count": n, "available": free_gpus // n} for n in (1, 2, 4, 8)],
        }
    )


def prices(per_gpu: dict[str, str], currency: str = "USD") -> PriceIndex:
    """A price index in ``currency``: per-GPU-hour prices by GPU model (no region)."""
    return PriceIndex(
        currency, gpus={m: GpuPrice(Decimal(p), "advanced", 8) for m, p in per_gpu.items()}
    )


def balance(amount: str, currency: str = "USD") -> Balance:
    return Balance.model_validate({"balance": amount, "currency": currency})
