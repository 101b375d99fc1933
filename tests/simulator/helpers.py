"""Small helpers for driving the simulator's API with httpx, in Barrack's dialect.

Every answer is read the way Barrack writes it (B1, Part C): ``success``, ``message``,
the payload under the route's key (``barrack._wire.ROUTES``) or flat beside them,
``request_id``; money as exact JSON numbers, read into ``Decimal``. Paths are relative to
the ``/api`` base URL and end with ``/``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache
from typing import Any

import httpx

from barrack._json import load_wire
from barrack._wire import API_PREFIX, ENVELOPE_FIELDS, ROUTES, Route
from simulator.testing import SimHandle

ERROR_FIELDS = frozenset({"success", "message", "error", "request_id"})
"""Every key of an ErrorResponse (B1)."""


@cache
def _patterns() -> list[tuple[re.Pattern[str], Route]]:
    """Each route's path as a regex; literal paths first (``/instances/hibernated/``)."""
    specs = sorted(ROUTES.values(), key=lambda r: len(r.path_params))
    return [
        (re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(API_PREFIX + r.path))), r)
        for r in specs
    ]


def route_of(method: str, path: str) -> Route | None:
    """The route a request (method, full path such as ``/api/instances/BRK-1/``) was for."""
    for pattern, spec in _patterns():
        if spec.method == method and pattern.fullmatch(path):
            return spec
    return None


def body_of(response: httpx.Response) -> dict[str, Any]:
    """The JSON body, with every non-integer number an exact ``Decimal``."""
    body = load_wire(response.content)
    assert isinstance(body, dict), response.text
    return body


def payload(response: httpx.Response, status: int = 200) -> Any:
    """The answer's payload after checking the status and the envelope.

    The payload sits under the route's key (the only key besides the envelope's and, for a
    paginated list, ``pagination``); a flat route's fields come back as a dict.
    """
    assert response.status_code == status, response.text
    request = response.request
    assert request.url.path.endswith("/"), request.url.path
    spec = route_of(request.method, request.url.path)
    assert spec is not None, f"no route for {request.method} {request.url.path}"
    body = body_of(response)
    assert body["success"] is True
    assert isinstance(body["message"], str)
    assert body["message"]
    assert response.headers["x-request-id"].startswith("req-")
    if response.headers.get("idempotent-replayed") == "true":
        assert body["request_id"].startswith("req-")  # the first answer's, replayed verbatim
    else:
        assert body["request_id"] == response.headers["x-request-id"]
    assert "data" not in body
    if spec.payload is None:
        return {k: v for k, v in body.items() if k not in ENVELOPE_FIELDS}
    expected = {*ENVELOPE_FIELDS, spec.payload} | ({"pagination"} if spec.paginated else set())
    assert set(body) == expected, (spec.operation, sorted(body))
    return body[spec.payload]


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The ErrorResponse's ``error`` (``code``, ``details``) after checking the whole body."""
    assert response.status_code == status, response.text
    body = body_of(response)
    assert set(body) == ERROR_FIELDS, body
    assert body["success"] is False
    assert isinstance(body["message"], str)
    assert body["message"]
    assert body["error"]["code"] == code, body
    assert set(body["error"]) <= {"code", "details"}, body
    assert body["request_id"] == response.headers["x-request-id"]
    return dict(body["error"])


def key_id(api: httpx.Client) -> str:
    """The id of the first SSH key."""
    return str(payload(api.get("ssh-keys/"))[0]["id"])


def os_image(api: httpx.Client, region: str) -> str:
    """An OS image id of the region."""
    return str(payload(api.get("os-images/", params={"region": region}))[0]["id"])


def deploy(
    api: httpx.Client,
    name: str = "gpu-01",
    region: str = "NORWAY-1",
    gpu_model: str = "H100-SXM5-80GB",
    gpu_count: int = 1,
    **extra: Any,
) -> httpx.Response:
    """POST /instances/ with sensible defaults."""
    body: dict[str, Any] = {
        "name": name,
        "region": region,
        "gpu_model": gpu_model,
        "gpu_count": gpu_count,
        "image_id": os_image(api, region),
        "ssh_key_ids": [key_id(api)],
        **extra,
    }
    return api.post("instances/", json=body)


def active_instance(sim: SimHandle, api: httpx.Client, **kwargs: Any) -> dict[str, Any]:
    """Deploy an instance and advance the clock until it is ACTIVE."""
    created = payload(deploy(api, **kwargs), 201)
    assert created["status"] == "CREATING"
    sim.advance(180)
    instance = payload(api.get(f"instances/{created['id']}/"))
    assert instance["status"] == "ACTIVE"
    return dict(instance)


def balance(api: httpx.Client) -> Decimal:
    """The balance now."""
    return Decimal(payload(api.get("balance/"))["balance"])


def snapshot_ready(
    sim: SimHandle, api: httpx.Client, instance_id: str, name: str
) -> dict[str, Any]:
    """Snapshot an instance and advance until the snapshot is SUCCESS."""
    created = payload(api.post("snapshots/", json={"instance_id": instance_id, "name": name}), 201)
    assert created["status"] == "CREATING"
    sim.advance(3600)
    ready = payload(api.get(f"snapshots/{created['id']}/"))
    assert ready["status"] == "SUCCESS"
    return dict(ready)


def root_client(sim: SimHandle, **headers: str) -> httpx.Client:
    """A client of the simulator's root URL (Prometheus, OpenAPI, raw control calls)."""
    # Plain HTTP on loopback: no certificates to verify (and none to load, which is slow).
    return httpx.Client(base_url=sim.root_url, headers=headers, verify=False)  # noqa: S501
