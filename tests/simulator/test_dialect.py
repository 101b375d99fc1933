"""Barrack's published dialect as the simulator speaks it (B1, B3, B7 and Part C).

Part C's pricing shape, narrowing and the C1 request verbatim; snapshots billed at the fixed
rate whatever their size; volumes at their type's tier rate; the configurable auth header;
renamed payload keys (and what the real client makes of them); Prometheus under
``/prometheus``; and what ``barrack-ops sim`` prints.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from barrack import AsyncBarrack, RetryPolicy
from barrack._exceptions import APIResponseValidationError, AuthenticationError
from barrack._json import load_wire
from barrack._settings import BarrackSettings
from barrack.models import CurrencyEnum, GpuModelEnum, TierEnum, VolumeTypeEnum
from barrack_ops.cli import app
from simulator.control import SimControlError
from simulator.seed_data import (
    GPU_MAX_COUNT,
    GPU_PRICES,
    GPU_SPECS,
    SNAPSHOT_FIXED_SIZE_GB,
    SNAPSHOT_RATE,
    VOLUME_MINIMUM_SIZE_GB,
    VOLUME_RATES_PER_TB_HOUR,
)
from simulator.server import SimServer
from simulator.testing import SimHandle
from tests.simulator.helpers import (
    active_instance,
    balance,
    body_of,
    error,
    payload,
    root_client,
    snapshot_ready,
)

SAMPLES = Path(__file__).parents[1] / "fixtures" / "barrack"
C1_BODY: dict[str, Any] = {
    "tier": "legacy",
    "currency": "USD",
    "resource_type": "volumes",
    "volume_size_gb": 100,
    "volume_type": "SSD",
    "gpu_model": "string",
    "gpu_count": 1,
}
"""Part C's C1 request body, verbatim."""
C1_PATH = "pricing/?currency&gpu_count&gpu_model&resource_type&tier&volume_size_gb&volume_type"
"""Part C's C1 request path (under ``/api``), verbatim: every query parameter empty."""

PART_C_MODELS = ("H100-PCIe-NVLink-80GB", "RTX-A6000", "B300-262GB", "H100-SXM5-80GB")
"""The GPU models Part C's C2 sample prices."""


def c2() -> dict[str, Any]:
    """Part C's C2 sample (``PricingResponse``), money as exact Decimals."""
    sample = load_wire((SAMPLES / "c2-pricing-response.json").read_bytes())
    assert isinstance(sample, dict)
    return sample


def tier_of(model: str) -> str:
    return GPU_SPECS[model].tier


@pytest.fixture
async def client(sim: SimHandle) -> AsyncIterator[AsyncBarrack]:
    async with AsyncBarrack(
        api_key=sim.api_key, base_url=sim.base_url, retry_policy=RetryPolicy(max_attempts=1)
    ) as c:
        yield c


# -- pricing: Part C's shape ---------------------------------------------------------------


def test_pricing_answers_part_c_shape(sim: SimHandle, api: httpx.Client) -> None:
    response = api.get("pricing/")
    data = payload(response)
    sample = c2()
    body = body_of(response)
    assert body["message"] == sample["message"]
    assert set(body) == set(sample)
    assert set(data) == set(sample["pricing_data"]) == {"volumes", "snapshots", "gpus", "metadata"}
    # Volumes and snapshots: Part C's figures, keys and words exactly.
    assert data["volumes"] == sample["pricing_data"]["volumes"]
    assert data["volumes"]["minimum_size_gb"] == VOLUME_MINIMUM_SIZE_GB == 100
    assert data["snapshots"] == sample["pricing_data"]["snapshots"]
    assert data["snapshots"]["pricing"]["legacy"]["fixed_size_gb"] == SNAPSHOT_FIXED_SIZE_GB
    assert set(data["snapshots"]["pricing"]) == {"legacy"}
    # GPUs: every model under its tier, with max_count; Part C's four exactly as printed.
    gpus = data["gpus"]
    assert set(gpus) == set(sample["pricing_data"]["gpus"])
    assert gpus["description"] == sample["pricing_data"]["gpus"]["description"]
    assert set(gpus["pricing"]) == {"legacy", "advanced"}
    listed = {model: tier for tier, models in gpus["pricing"].items() for model in models}
    assert listed == {model: tier_of(model) for model in GPU_PRICES}
    assert {m for m, t in listed.items() if t == "advanced"} == {"H100-SXM5-80GB", "B300-262GB"}
    for model in PART_C_MODELS:
        tier = tier_of(model)
        assert (
            gpus["pricing"][tier][model] == sample["pricing_data"]["gpus"]["pricing"][tier][model]
        )
    for model, tier in listed.items():
        leaf = gpus["pricing"][tier][model]
        assert set(leaf) == {"prices", "max_count", "unit"}
        assert leaf["prices"] == GPU_PRICES[model]
        assert leaf["max_count"] == GPU_MAX_COUNT.get(model, 8)
        assert leaf["unit"] == "per GPU per hour"
    # Metadata: Part C's fields, never the caller's key.
    metadata = data["metadata"]
    assert set(metadata) <= set(sample["pricing_data"]["metadata"])
    for name in ("supported_currencies", "supported_tiers", "volume_minimum_size_gb"):
        assert metadata[name] == sample["pricing_data"]["metadata"][name]
    assert metadata["authentication_type"] == "api_key"
    assert metadata["timestamp"]
    assert sim.api_key not in response.text
    # Money is written as JSON numbers, never strings.
    usd = re.escape(str(GPU_PRICES["H100-SXM5-80GB"]["USD"].normalize()))
    assert re.search(rf'"H100-SXM5-80GB":\{{"prices":\{{"USD":{usd}0*,', response.text)


async def test_pricing_through_the_client_is_exact(sim: SimHandle, client: AsyncBarrack) -> None:
    long = "0.12345678901234567891"  # more digits than a float holds
    sim.load_scenario(
        yaml=f"prices: [{{gpu_model: A40, currency: EUR, price_per_hour: '{long}'}}]\n"
    )
    a40 = (await client.pricing.get(gpu_model="A40")).gpus
    assert a40 is not None
    assert a40.pricing[TierEnum.LEGACY][GpuModelEnum.A40].prices[CurrencyEnum.EUR] == Decimal(long)
    sim.load_scenario("empty", seed=1)
    data = await client.pricing.get()
    assert data.gpus is not None
    assert data.volumes is not None
    assert data.snapshots is not None
    h100 = data.gpus.pricing[TierEnum.ADVANCED][GpuModelEnum.H100_SXM5_80GB]
    assert h100.prices == GPU_PRICES["H100-SXM5-80GB"]
    assert all(isinstance(v, Decimal) for v in h100.prices.values())
    assert h100.max_count == 8
    a6000 = data.gpus.pricing[TierEnum.LEGACY][GpuModelEnum.RTX_A6000]
    assert a6000.max_count == GPU_MAX_COUNT["RTX-A6000"] == 4
    nvme = data.volumes.pricing[TierEnum.ADVANCED][VolumeTypeEnum.NVME].prices
    assert nvme == VOLUME_RATES_PER_TB_HOUR["advanced"]["NVMe"]
    assert data.volumes.minimum_size_gb == VOLUME_MINIMUM_SIZE_GB
    snapshots = data.snapshots.pricing[TierEnum.LEGACY]
    assert snapshots.prices == SNAPSHOT_RATE
    assert snapshots.fixed_size_gb == SNAPSHOT_FIXED_SIZE_GB
    assert data.metadata is not None
    assert data.metadata.authenticated_user is None


def test_pricing_is_narrowed_by_resource_type_tier_and_model(
    sim: SimHandle, api: httpx.Client
) -> None:
    def sections(**query: Any) -> dict[str, Any]:
        data = payload(api.get("pricing/", params=query))
        assert "metadata" in data
        return {k: v for k, v in data.items() if k != "metadata"}

    assert set(sections(resource_type="gpus")) == {"gpus"}
    assert set(sections(resource_type="volumes")) == {"volumes"}
    assert set(sections(resource_type="snapshots")) == {"snapshots"}
    advanced = sections(tier="advanced")
    assert set(advanced) == {"gpus", "volumes"}  # snapshots are legacy only
    assert set(advanced["gpus"]["pricing"]) == {"advanced"}
    assert set(advanced["gpus"]["pricing"]["advanced"]) == {"H100-SXM5-80GB", "B300-262GB"}
    assert set(advanced["volumes"]["pricing"]) == {"advanced"}
    assert set(advanced["volumes"]["pricing"]["advanced"]) == {"HDD", "NVMe"}
    legacy = sections(tier="legacy", resource_type="volumes")
    assert legacy["volumes"]["pricing"] == {
        "legacy": {
            "SSD": {"prices": VOLUME_RATES_PER_TB_HOUR["legacy"]["SSD"], "unit": "per TB per hour"}
        }
    }
    one = sections(resource_type="gpus", gpu_model="RTX-A6000")
    assert one["gpus"]["pricing"] == {
        "legacy": {
            "RTX-A6000": {
                "prices": GPU_PRICES["RTX-A6000"],
                "max_count": 4,
                "unit": "per GPU per hour",
            }
        }
    }
    eight = sections(resource_type="gpus", gpu_count=8)["gpus"]["pricing"]
    assert "RTX-A6000" not in eight["legacy"]  # its max_count is 4
    assert "L40" in eight["legacy"]
    assert sections(resource_type="volumes", volume_type="NVMe")["volumes"]["pricing"] == {
        "advanced": {
            "NVMe": {
                "prices": VOLUME_RATES_PER_TB_HOUR["advanced"]["NVMe"],
                "unit": "per TB per hour",
            }
        }
    }
    for name, bad in (
        ("tier", "premium"),
        ("resource_type", "cpus"),
        ("gpu_model", "H200"),
        ("volume_type", "tape"),
        ("currency", "GBP"),
    ):
        problem = error(api.get("pricing/", params={name: bad}), 400, "VALIDATION_ERROR")
        assert problem["details"]["field"] == name


def test_post_pricing_with_part_c_c1_verbatim(sim: SimHandle, api: httpx.Client) -> None:
    # C1's "gpu_model": "string" is a placeholder, not a GPU model: refused, naming it.
    problem = error(api.post(C1_PATH, json=C1_BODY), 400, "VALIDATION_ERROR")
    assert problem["details"]["field"] == "gpu_model"
    # The same request with a real model answers C1's narrowing: legacy SSD volumes.
    data = payload(api.post(C1_PATH, json={**C1_BODY, "gpu_model": "RTX-A6000"}))
    assert set(data) == {"volumes", "metadata"}
    assert data["volumes"]["pricing"] == {
        "legacy": c2()["pricing_data"]["volumes"]["pricing"]["legacy"]
    }
    # Empty query parameters (C1's query string) narrow nothing.
    assert payload(api.post(C1_PATH, json={})) == payload(api.get("pricing/"))
    # C4: the fields also come as query parameters; the body's win where both give one.
    by_query = payload(api.post("pricing/?resource_type=gpus&tier=advanced", json={}))
    assert set(by_query) == {"gpus", "metadata"}
    assert set(by_query["gpus"]["pricing"]) == {"advanced"}
    both = payload(
        api.post("pricing/?resource_type=gpus&tier=legacy", json=C1_BODY | {"gpu_model": None})
    )
    assert set(both) == {"volumes", "metadata"}
    assert set(both["volumes"]["pricing"]) == {"legacy"}
    problem = error(api.post("pricing/?tier=premium", json={}), 400, "VALIDATION_ERROR")
    assert problem["details"]["field"] == "tier"


# -- billing at Part C's rates ---------------------------------------------------------------


@pytest.mark.parametrize("currency", ["USD", "EUR", "INR"])
def test_a_ready_snapshot_costs_the_fixed_rate_whatever_its_size(
    sim: SimHandle, api: httpx.Client, currency: str
) -> None:
    sim.load_scenario(
        yaml=f"account: {{currency: {currency}, balance: '100000'}}\nssh_keys: [{{name: k}}]\n"
    )
    small = active_instance(sim, api, name="small", gpu_model="A100-SXM4-80GB-NVLink")
    big = active_instance(sim, api, name="big", gpu_count=8)
    snaps = [snapshot_ready(sim, api, vm["id"], f"snap-{vm['name']}") for vm in (small, big)]
    sizes = {s["size_gb"] for s in snaps}
    assert len(sizes) == 2
    assert SNAPSHOT_FIXED_SIZE_GB not in sizes
    for vm in (small, big):
        payload(api.delete(f"instances/{vm['id']}/"))
    sim.advance(600)  # both instances DELETED: only the snapshots cost money now
    before = balance(api)
    sim.advance(10 * 3600)
    rate = SNAPSHOT_RATE[currency]
    assert before - balance(api) == 2 * 10 * rate
    for snap in snaps:
        bill = payload(api.get(f"snapshots/{snap['id']}/billing/"))
        assert bill["resource_type"] == "snapshots"
        assert bill["currency"] == currency
        ready = [r for r in bill["records"] if r["status"] == "SUCCESS"]
        assert [r["rate_per_hour"] for r in ready] == [rate]


@pytest.mark.parametrize("currency", ["USD", "EUR", "INR"])
def test_volumes_of_each_type_cost_their_tier_rate(
    sim: SimHandle, api: httpx.Client, currency: str
) -> None:
    sim.load_scenario(
        yaml=f"account: {{currency: {currency}, balance: '100000'}}\nssh_keys: [{{name: k}}]\n"
    )
    rates: dict[str, Decimal] = {}
    for tier, by_type in VOLUME_RATES_PER_TB_HOUR.items():
        for volume_type, by_currency in by_type.items():
            volume = payload(
                api.post(
                    "volumes/",
                    json={
                        "name": f"vol-{volume_type.lower()}",
                        "region": "US-1",
                        "size_gb": 1000,  # one TB: the hourly price is the TB-hour rate
                        "volume_type": volume_type,
                    },
                ),
                201,
            )
            assert (volume["volume_type"], volume["tier"]) == (volume_type, tier)
            rates[volume["id"]] = by_currency[currency]
    assert len(rates) == 3
    assert len(set(rates.values())) >= 2  # the types really are priced apart
    sim.advance(60)
    for volume_id, rate in rates.items():
        assert payload(api.get(f"volumes/{volume_id}/"))["hourly_price"] == rate
    before = balance(api)
    sim.advance(5 * 3600)
    assert before - balance(api) == 5 * sum(rates.values())


# -- the auth header -----------------------------------------------------------------------


@pytest.fixture
def restore_settings(sim: SimHandle) -> Iterator[SimHandle]:
    yield sim
    sim.settings(auth_header="Authorization", payload_keys={})


@pytest.mark.parametrize("header", ["X-API-Key", "api_key"])
async def test_the_auth_header_setting(restore_settings: SimHandle, header: str) -> None:
    sim = restore_settings
    bearer = {"Authorization": f"Bearer {sim.api_key}"}
    bare = {header: sim.api_key}
    with root_client(sim) as raw:
        payload(raw.get("/api/balance/", headers=bearer))
        error(raw.get("/api/balance/", headers=bare), 401, "UNAUTHORIZED")
        assert sim.settings(auth_header=header)["auth_header"] == header
        payload(raw.get("/api/balance/", headers=bare))
        problem = error(raw.get("/api/balance/", headers=bearer), 401, "UNAUTHORIZED")
        assert sim.api_key not in str(problem)
        error(
            raw.get("/api/balance/", headers={header: f"Bearer {sim.api_key}"}), 401, "UNAUTHORIZED"
        )
        error(raw.get("/api/balance/", headers={header: "wrong"}), 401, "UNAUTHORIZED")
        # The real client, told the header, gets in; the default one is refused.
        settings = BarrackSettings.load(
            api_key=sim.api_key, base_url=sim.base_url, auth_header=header
        )
        async with AsyncBarrack(settings=settings, retry_policy=RetryPolicy(max_attempts=1)) as c:
            assert (await c.balance.get()).currency == "USD"
        async with AsyncBarrack(
            api_key=sim.api_key, base_url=sim.base_url, retry_policy=RetryPolicy(max_attempts=1)
        ) as default:
            with pytest.raises(AuthenticationError):
                await default.balance.get()
        # And back.
        sim.settings(auth_header="Authorization")
        payload(raw.get("/api/balance/", headers=bearer))
        error(raw.get("/api/balance/", headers=bare), 401, "UNAUTHORIZED")


def test_a_bad_auth_header_name_is_refused(restore_settings: SimHandle) -> None:
    with pytest.raises(SimControlError, match="VALIDATION_ERROR"):
        restore_settings.settings(auth_header="X API Key")
    assert restore_settings.settings()["auth_header"] == "Authorization"


# -- payload keys ----------------------------------------------------------------------------


def test_payload_keys_rename_one_operation(restore_settings: SimHandle, api: httpx.Client) -> None:
    sim = restore_settings
    sim.settings(payload_keys={"instances.list": "vms"})
    sim.clear_requests()
    body = body_of(api.get("instances/"))
    assert "vms" in body
    assert "instances" not in body
    assert body["vms"] == []
    assert sim.requests()[-1]["body_keys"] == [
        "success",
        "message",
        "pagination",
        "request_id",
        "vms",
    ]
    payload(api.get("regions/"))  # other operations keep their keys
    payload(api.get("snapshots/"))
    sim.settings(payload_keys={})
    assert payload(api.get("instances/")) == []


async def test_the_client_names_the_payload_key_it_expected(
    restore_settings: SimHandle, client: AsyncBarrack
) -> None:
    restore_settings.settings(payload_keys={"instances.list": "vms"})
    with pytest.raises(APIResponseValidationError, match="'instances'") as caught:
        await client.instances.list().to_list()
    assert caught.value.path.endswith("/instances/")
    assert caught.value.status == 200
    assert (await client.balance.get()).currency == "USD"
    restore_settings.settings(payload_keys={})
    assert await client.instances.list().to_list() == []


def test_a_path_without_its_trailing_slash_is_not_found(sim: SimHandle, api: httpx.Client) -> None:
    problem = error(api.get("balance"), 404, "NOT_FOUND")
    assert problem["details"] == {"resource": "route", "id": "GET /api/balance"}
    error(api.post("pricing", json={}), 404, "NOT_FOUND")
    payload(api.get("balance/"))


# -- Prometheus ------------------------------------------------------------------------------


def test_prometheus_is_under_its_prefix_only(sim: SimHandle, api: httpx.Client) -> None:
    instance = active_instance(sim, api)
    sim.set_utilization(instance["id"], {"segments": [{"at": 0, "util": 42}]})
    sim.advance(120)
    assert sim.prometheus_url == f"{sim.root_url}/prometheus"
    promql = f'DCGM_FI_DEV_GPU_UTIL{{instance_id="{instance["id"]}"}}'
    with httpx.Client(base_url=sim.prometheus_url, verify=False) as prometheus:  # noqa: S501
        answer = prometheus.get("/api/v1/query", params={"query": promql})
        assert answer.status_code == 200
        assert answer.json()["status"] == "success"
        assert answer.json()["data"]["result"][0]["value"][1] == "42"
        ranged = prometheus.get(
            "/api/v1/query_range",
            params={
                "query": promql,
                "start": sim.now().timestamp() - 60,
                "end": sim.now().timestamp(),
                "step": "60s",
            },
        )
        assert ranged.json()["data"]["resultType"] == "matrix"
    with root_client(sim) as raw:
        # /api/v1/query is now the Barrack API's ground: 401 without its key, 404 with it.
        error(raw.get("/api/v1/query", params={"query": promql}), 401, "UNAUTHORIZED")
        error(
            raw.get("/api/v1/query", params={"query": promql}, headers=sim.api_headers),
            404,
            "NOT_FOUND",
        )
        error(
            raw.get("/api/v1/query_range", params={"query": promql}, headers=sim.api_headers),
            404,
            "NOT_FOUND",
        )


# -- barrack-ops sim -------------------------------------------------------------------------


def test_barrack_ops_sim_prints_the_api_and_prometheus_urls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    def serve_briefly(server: SimServer) -> None:
        """Instead of serving until Ctrl-C: serve, call the URLs it printed, stop."""
        seen["root"], seen["api"], seen["prometheus"] = (
            server.root_url,
            server.base_url,
            server.prometheus_url,
        )
        server.start()
        try:
            with httpx.Client(verify=False) as http:  # noqa: S501
                bare = {"X-API-Key": "cli-key"}
                seen["balance"] = http.get(f"{server.base_url}/balance/", headers=bare)
                seen["bearer"] = http.get(
                    f"{server.base_url}/balance/", headers={"Authorization": "Bearer cli-key"}
                )
                seen["query"] = http.get(
                    f"{server.prometheus_url}/api/v1/query",
                    params={"query": "DCGM_FI_DEV_GPU_UTIL"},
                )
        finally:
            server.stop()

    monkeypatch.setattr(SimServer, "serve_forever", serve_briefly)
    result = CliRunner().invoke(
        app,
        [
            "sim",
            *("--port", "0", "--scenario", "empty", "--clock", "manual"),
            *("--api-key", "cli-key", "--admin-token", "cli-admin", "--auth-header", "X-API-Key"),
        ],
    )
    assert result.exit_code == 0, result.output
    root = seen["root"]
    assert seen["api"] == f"{root}/api"
    assert seen["prometheus"] == f"{root}/prometheus"
    printed = [line.strip() for line in result.output.splitlines()]
    assert f"base URL     {root}/api" in printed
    assert f"Prometheus   {root}/prometheus" in printed
    assert "auth header  X-API-Key" in printed
    exports = next(line for line in printed if line.startswith("export "))
    assert f"BARRACK_BASE_URL={root}/api" in exports.split()
    assert "BARRACK_AUTH_HEADER=X-API-Key" in exports.split()
    assert "/api/v1/query" not in result.output
    # What it printed is what it serves: the API with the bare key, Prometheus beside it.
    assert seen["balance"].status_code == 200
    assert json.loads(seen["balance"].text)["credit"]["currency"] == "USD"
    assert seen["bearer"].status_code == 401
    assert seen["query"].status_code == 200
    assert seen["query"].json()["status"] == "success"
