"""The Prometheus subset over utilisation profiles in simulated time."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from simulator.telemetry.promql import PromQLError, parse
from simulator.testing import SimHandle
from tests.simulator.helpers import active_instance, payload, root_client


def query(sim: SimHandle, promql: str, **params: Any) -> dict[str, Any]:
    with root_client(sim) as client:
        response = client.get("/prometheus/api/v1/query", params={"query": promql, **params})
    body = response.json()
    assert response.status_code == (200 if body["status"] == "success" else 400)
    return dict(body)


def by_instance(body: dict[str, Any]) -> dict[str, float]:
    return {r["metric"]["instance_name"]: float(r["value"][1]) for r in body["data"]["result"]}


@pytest.fixture
def demo(sim: SimHandle) -> SimHandle:
    sim.load_scenario("demo")
    return sim


def test_idle_and_busy_instances_over_the_last_hour(demo: SimHandle) -> None:
    body = query(demo, "max by (instance_name) (max_over_time(DCGM_FI_DEV_GPU_UTIL[1h]))")
    assert body["data"]["resultType"] == "vector"
    util = by_instance(body)
    assert util["llm-train-01"] >= 85
    assert util["batch-h100"] >= 85
    assert util["finetune-a100"] <= 2
    assert util["eval-a40"] <= 2
    assert util["dev-a40"] <= 2
    assert "render-l40" not in util
    assert "sandbox-old" not in util
    assert all(isinstance(r["value"][1], str) for r in body["data"]["result"])


def test_a_longer_window_sees_the_busy_past(demo: SimHandle) -> None:
    recent = by_instance(
        query(demo, "max by (instance_name) (max_over_time(DCGM_FI_DEV_GPU_UTIL[4h]))")
    )
    longer = by_instance(
        query(demo, "max by (instance_name) (max_over_time(DCGM_FI_DEV_GPU_UTIL[8h]))")
    )
    assert recent["finetune-a100"] <= 2 < 85 <= longer["finetune-a100"]  # idle for six hours


def test_selectors_matchers_and_labels(demo: SimHandle) -> None:
    body = query(demo, 'DCGM_FI_DEV_FB_USED{instance_name=~"llm-train-.*", gpu="0"}')
    result = body["data"]["result"]
    assert sorted(r["metric"]["instance_name"] for r in result) == ["llm-train-01", "llm-train-02"]
    for series in result:
        assert series["metric"]["__name__"] == "DCGM_FI_DEV_FB_USED"
        assert series["metric"]["instance_id"].startswith("BRK-")
        assert float(series["value"][1]) > 40_000  # busy H100s use most of their 80 GB
    eight = query(demo, 'DCGM_FI_DEV_GPU_UTIL{instance_name="llm-train-01"}')
    assert len(eight["data"]["result"]) == 8  # one series per GPU
    avg = query(demo, 'avg_over_time(DCGM_FI_DEV_GPU_UTIL{instance_name="dev-a40"}[30m])')
    assert len(avg["data"]["result"]) == 1
    assert "__name__" not in avg["data"]["result"][0]["metric"]


def test_comparison_filters_idle_instances(demo: SimHandle) -> None:
    idle = query(
        demo, "max by (instance_id, instance_name) (max_over_time(DCGM_FI_DEV_GPU_UTIL[2h])) < 5"
    )
    assert set(by_instance(idle)) == {"finetune-a100", "eval-a40", "notebook-anna", "dev-a40"}


def test_stopped_instance_has_no_samples_after_it_stops(sim: SimHandle, api: httpx.Client) -> None:
    instance = active_instance(sim, api)
    sim.set_utilization(instance["id"], {"segments": [{"at": 0, "util": 70, "mem_mib": 1234}]})
    sim.advance(300)
    selector = f'DCGM_FI_DEV_GPU_UTIL{{instance_id="{instance["id"]}"}}'
    assert by_instance(query(sim, selector)) == {"gpu-01": 70.0}
    mem = query(sim, f'DCGM_FI_DEV_FB_USED{{instance_id="{instance["id"]}"}}')
    assert mem["data"]["result"][0]["value"][1] == "1234"
    payload(api.post(f"instances/{instance['id']}/stop/"), 202)
    sim.advance(60)
    assert query(sim, selector)["data"]["result"] == []
    assert by_instance(query(sim, f"max_over_time({selector}[10m])")) == {"gpu-01": 70.0}


def test_query_range_returns_a_matrix(sim: SimHandle, api: httpx.Client) -> None:
    instance = active_instance(sim, api)
    start = sim.now().timestamp()
    sim.set_utilization(
        instance["id"],
        {"segments": [{"at": 0, "util": 10}, {"at": 600, "util": 90}]},
    )
    sim.advance(1200)
    with root_client(sim) as client:
        response = client.get(
            "/prometheus/api/v1/query_range",
            params={
                "query": f'DCGM_FI_DEV_GPU_UTIL{{instance_id="{instance["id"]}"}}',
                "start": start + 300,
                "end": start + 900,
                "step": "300s",
            },
        )
    body = response.json()
    assert body["data"]["resultType"] == "matrix"
    values = body["data"]["result"][0]["values"]
    assert [v[1] for v in values] == ["10", "90", "90"]
    assert [v[0] for v in values] == [start + 300, start + 600, start + 900]


@pytest.mark.parametrize(
    "bad",
    ["rate(DCGM_FI_DEV_GPU_UTIL[5m])", "DCGM_FI_DEV_GPU_UTIL[5m]", "sum(", "x{a=1}", ""],
)
def test_unsupported_queries_get_bad_data(sim: SimHandle, bad: str) -> None:
    body = query(sim, bad)
    assert body["status"] == "error"
    assert body["errorType"] == "bad_data"
    assert body["error"]


def test_bad_profiles_are_refused(sim: SimHandle, api: httpx.Client) -> None:
    instance = active_instance(sim, api)
    for profile in ({"preset": "sleepy"}, {"segments": [{"at": 0, "util": 101}]}, {"x": 1}):
        with root_client(sim, Authorization=f"Bearer {sim.admin_token}") as client:
            response = client.put(f"/_sim/instances/{instance['id']}/gpu-utilization", json=profile)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_parser_handles_both_grouping_positions() -> None:
    first = parse("max by (instance_id) (DCGM_FI_DEV_GPU_UTIL)")
    second = parse("max(DCGM_FI_DEV_GPU_UTIL) by (instance_id)")
    assert first == second
    with pytest.raises(PromQLError):
        parse('DCGM_FI_DEV_GPU_UTIL{gpu=~"("}')
