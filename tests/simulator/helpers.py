"""Small helpers for driving the simulator's API with httpx."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from simulator.testing import SimHandle


def data(response: httpx.Response, status: int = 200) -> Any:
    """The envelope's ``data``, after checking the status and the envelope."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True
    assert response.headers["x-request-id"].startswith("req-")
    return body["data"]


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The ErrorResponse's ``error``, after checking status, code and request id."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code, body
    assert body["request_id"] == response.headers["x-request-id"]
    return dict(body["error"])


def key_id(api: httpx.Client) -> str:
    """The id of the first SSH key."""
    return str(data(api.get("ssh-keys"))[0]["id"])


def os_image(api: httpx.Client, region: str) -> str:
    """An OS image id of the region."""
    return str(data(api.get("os-images", params={"region": region}))[0]["id"])


def deploy(
    api: httpx.Client,
    name: str = "gpu-01",
    region: str = "NORWAY-1",
    gpu_model: str = "H100-SXM5-80GB",
    gpu_count: int = 1,
    **extra: Any,
) -> httpx.Response:
    """POST /instances with sensible defaults."""
    body: dict[str, Any] = {
        "name": name,
        "region": region,
        "gpu_model": gpu_model,
        "gpu_count": gpu_count,
        "image_id": os_image(api, region),
        "ssh_key_ids": [key_id(api)],
        **extra,
    }
    return api.post("instances", json=body)


def active_instance(sim: SimHandle, api: httpx.Client, **kwargs: Any) -> dict[str, Any]:
    """Deploy an instance and advance the clock until it is ACTIVE."""
    created = data(deploy(api, **kwargs), 201)
    assert created["status"] == "CREATING"
    sim.advance(180)
    instance = data(api.get(f"instances/{created['id']}"))
    assert instance["status"] == "ACTIVE"
    return dict(instance)


def balance(api: httpx.Client) -> Decimal:
    """The balance now."""
    return Decimal(data(api.get("balance"))["balance"])


def snapshot_ready(
    sim: SimHandle, api: httpx.Client, instance_id: str, name: str
) -> dict[str, Any]:
    """Snapshot an instance and advance until the snapshot is SUCCESS."""
    created = data(api.post("snapshots", json={"instance_id": instance_id, "name": name}), 201)
    assert created["status"] == "CREATING"
    sim.advance(3600)
    ready = data(api.get(f"snapshots/{created['id']}"))
    assert ready["status"] == "SUCCESS"
    return dict(ready)


def root_client(sim: SimHandle, **headers: str) -> httpx.Client:
    """A client of the simulator's root URL (Prometheus, OpenAPI, raw control calls)."""
    # Plain HTTP on loopback: no certificates to verify (and none to load, which is slow).
    return httpx.Client(base_url=sim.root_url, headers=headers, verify=False)  # noqa: S501
