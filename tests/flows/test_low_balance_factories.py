"""Builders for the low-balance tests: API models with only the fields that matter here.

(A module of helpers, no tests: the low-balance test modules import from it.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from barrack.models import Price, Snapshot, VMInstance, VolumeResponse, VolumeType

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


def make_price(
    gpu_model: str,
    price: str,
    *,
    region: str = "NORWAY-1",
    currency: str = "USD",
    gpu_count: int = 1,
    hibernated: str | None = None,
) -> Price:
    """A price-list row."""
    return Price.model_validate(
        {
            "gpu_model": gpu_model,
            "region": region,
            "currency": currency,
            "price_per_hour": price,
            "gpu_count": gpu_count,
            "hibernated_price_per_hour": hibernated,
        }
    )


def make_volume(
    name: str,
    size_gb: int,
    *,
    hourly_price: str | None = None,
    volume_type: str = "standard",
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


def make_volume_type(name: str, per_tb_hour: str, currency: str = "USD") -> VolumeType:
    """A volume type with its storage rate."""
    return VolumeType.model_validate(
        {"name": name, "price_per_tb_hour": per_tb_hour, "currency": currency}
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
