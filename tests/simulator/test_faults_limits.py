"""Injected faults, rate limiting and idempotent replay."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from simulator.settings import SimSettings
from simulator.testing import SimHandle, running_simulator
from tests.simulator.conftest import START
from tests.simulator.helpers import deploy, error, payload, root_client


def test_error_rate_one_fails_matching_requests_before_the_backend(
    sim: SimHandle, api: httpx.Client
) -> None:
    sim.set_faults({"method": "POST", "path": "/api/instances/", "error_rate": 1.0, "status": 503})
    error(deploy(api), 503, "UNAVAILABLE")
    assert payload(api.get("instances/")) == []  # nothing was created; GETs are not matched
    sim.set_faults({"path": "/api/balance/", "error_rate": 1.0, "status": 502})
    assert api.get("balance/").status_code == 502
    sim.clear_faults()
    payload(api.get("balance/"))


def test_error_rate_draws_are_seeded(sim: SimHandle, api: httpx.Client) -> None:
    def outcomes() -> list[int]:
        sim.set_faults({"path": "/api/regions/", "error_rate": 0.5, "status": 500}, seed=7)
        return [api.get("regions/").status_code for _ in range(20)]

    first = outcomes()
    assert set(first) == {200, 500}
    assert outcomes() == first


def test_burst_429_then_normal(sim: SimHandle, api: httpx.Client) -> None:
    sim.set_faults({"path": "/api/*", "burst_429": 2, "retry_after": 3})
    for _ in range(2):
        response = api.get("regions/")
        error(response, 429, "RATE_LIMITED")
        assert response.headers["retry-after"] == "3"
    payload(api.get("regions/"))


def test_drop_after_commit_makes_the_change_but_the_client_sees_an_error(
    sim: SimHandle, api: httpx.Client
) -> None:
    sim.set_faults(
        {"method": "POST", "path": "/api/instances/", "drop_after_commit": True, "times": 1}
    )
    with pytest.raises(httpx.RemoteProtocolError):
        deploy(api, name="ghost")
    assert [vm["name"] for vm in payload(api.get("instances/"))] == ["ghost"]
    error(deploy(api, name="ghost"), 409, "DUPLICATE_NAME")  # the retry meets the guard
    log = sim.requests()
    assert [e["fault"] for e in log if e["method"] == "POST"] == ["drop", None]


def test_drop_after_commit_with_an_idempotency_key_replays_on_retry(
    sim: SimHandle, api: httpx.Client
) -> None:
    sim.set_faults(
        {"method": "POST", "path": "/api/instances/", "drop_after_commit": True, "times": 1}
    )
    headers = {"Idempotency-Key": "deploy-1"}
    body = _body(api, "once")
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("instances/", json=body, headers=headers)
    replay = api.post("instances/", json=body, headers=headers)
    created = payload(replay, 201)
    assert replay.headers["idempotent-replayed"] == "true"
    assert [vm["id"] for vm in payload(api.get("instances/"))] == [created["id"]]


def _body(api: httpx.Client, name: str) -> dict[str, object]:
    key = payload(api.get("ssh-keys/"))[0]["id"]
    image = payload(api.get("os-images/", params={"region": "NORWAY-1"}))[0]["id"]
    return {
        "name": name,
        "region": "NORWAY-1",
        "gpu_model": "A100-SXM4-80GB-NVLink",
        "image_id": image,
        "ssh_key_ids": [key],
    }


def test_idempotency_replay_can_be_switched_off(sim: SimHandle, api: httpx.Client) -> None:
    headers = {"Idempotency-Key": "k-1"}
    first = payload(api.post("instances/", json=_body(api, "a1"), headers=headers), 201)
    again = api.post("instances/", json=_body(api, "a1"), headers=headers)
    assert payload(again, 201)["id"] == first["id"]
    sim.settings(idempotency_replay=False)
    error(api.post("instances/", json=_body(api, "a1"), headers=headers), 409, "DUPLICATE_NAME")


def test_idempotency_keys_expire_after_24_simulated_hours(
    sim: SimHandle, api: httpx.Client
) -> None:
    headers = {"Idempotency-Key": "k-2"}
    payload(api.post("ssh-keys/", json={"name": "gen"}, headers=headers), 201)
    assert api.post("ssh-keys/", json={"name": "gen"}, headers=headers).status_code == 201
    sim.advance(25 * 3600)
    error(api.post("ssh-keys/", json={"name": "gen"}, headers=headers), 409, "DUPLICATE_NAME")


def test_latency_is_applied_through_the_injected_sleep() -> None:
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    with running_simulator("empty", start=START, sleep=record) as sim, sim.client() as api:
        sim.set_faults({"path": "/api/regions/", "latency_ms": 250})
        payload(api.get("regions/"))
        payload(api.get("balance/"))
        assert slept == [0.25]
        assert [e["latency_ms"] for e in sim.requests()] == [250.0, 0.0]


class FakeMonotonic:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def limited() -> Iterator[tuple[SimHandle, FakeMonotonic]]:
    clock = FakeMonotonic()
    settings = SimSettings(rate_limit_per_second=2)
    with running_simulator("empty", start=START, settings=settings, monotonic=clock) as sim:
        yield sim, clock


def test_rate_limit_answers_429_with_headers(limited: tuple[SimHandle, FakeMonotonic]) -> None:
    sim, clock = limited
    with sim.client() as api:
        first = api.get("regions/")
        assert first.headers["x-ratelimit-limit"] == "2"
        assert first.headers["x-ratelimit-remaining"] == "1"
        payload(api.get("regions/"))
        limited_response = api.get("regions/")
        error(limited_response, 429, "RATE_LIMITED")
        assert limited_response.headers["retry-after"] == "1"
        assert limited_response.headers["x-ratelimit-remaining"] == "0"
        assert limited_response.headers["x-ratelimit-reset"] == "1"
        clock.now += 0.5  # one token back
        payload(api.get("regions/"))
        sim.settings(rate_limit_per_second=0)
        for _ in range(5):
            assert "x-ratelimit-limit" not in data_headers(api.get("regions/"))


def data_headers(response: httpx.Response) -> httpx.Headers:
    payload(response)
    return response.headers


def test_unauthorised_requests_get_401(sim: SimHandle) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": sim.api_key}):
        with root_client(sim, **headers) as client:
            response = client.get("/api/balance/")
        problem = error(response, 401, "UNAUTHORIZED")
        assert sim.api_key not in str(problem)
    with root_client(sim, **sim.api_headers) as client:
        admin = client.post("/_sim/reset")
    error(admin, 401, "UNAUTHORIZED")
