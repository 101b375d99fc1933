"""The prometheus probe: pure parts as tables, then against the simulator's Prometheus API."""

from __future__ import annotations

import math
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from simulator.scenarios import parse_scenario_yaml
from simulator.testing import SimHandle, running_simulator
from tasks.probes import ProbeTarget, PrometheusProbe, PrometheusProbeSettings
from tasks.probes.prometheus import (
    DEFAULT_UTIL_QUERY,
    MAX_POINTS_PER_SERIES,
    check_resolution,
    evidence_from_points,
    promql_regex_alternation,
    render_query,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def steps(
    count: int, value: float = 1.0, *, end: datetime = NOW, step: int = 60
) -> dict[float, float]:
    """``count`` points ending at ``end``, one per ``step`` seconds."""
    return {end.timestamp() - i * step: value for i in range(count)}


@pytest.mark.parametrize(
    ("case", "util", "memory", "samples", "largest_gap"),
    [
        ("full window", steps(60), steps(60, 400), 60, 0),
        ("memory not measured", steps(60), None, 60, 0),
        ("nothing", {}, {}, 0, None),
        ("only the last 20 minutes", steps(20), steps(20, 400), 20, 40 * 60),
        (
            "stops 10 minutes early",
            steps(50, end=NOW - timedelta(minutes=10)),
            steps(50, 400, end=NOW - timedelta(minutes=10)),
            50,
            600,
        ),
        (
            "a 3-step hole in the middle",
            {
                t: v
                for t, v in steps(60).items()
                if not NOW.timestamp() - 1800 <= t < NOW.timestamp() - 1620
            },
            steps(60, 400),
            57,
            180,
        ),
        (
            "NaN values are holes",
            {**steps(60), NOW.timestamp() - 600: math.nan},
            steps(60, 400),
            59,
            60,
        ),
        (
            "a step without memory is not a sample",
            steps(60),
            {t: v for t, v in steps(60, 400).items() if t != NOW.timestamp()},
            59,
            60,
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_evidence_from_points(
    case: str,
    util: dict[float, float],
    memory: dict[float, float] | None,
    samples: int,
    largest_gap: float | None,
) -> None:
    evidence = evidence_from_points(
        "BRK-AAAAAA1",
        util,
        memory,
        window_start=NOW - HOUR,
        window_end=NOW,
        step_seconds=60,
        gap_tolerance_seconds=300,
    )
    assert evidence.sample_count == samples
    assert evidence.largest_gap_seconds == largest_gap
    assert evidence.error is None
    if samples:
        assert evidence.max_util_pct == 1.0
        assert evidence.max_memory_mib == (None if memory is None else 400)


def test_a_peak_counts_even_where_the_other_metric_is_missing() -> None:
    util = {**steps(60), NOW.timestamp() + 0.0: 88.0}
    memory = {t: v for t, v in steps(60, 400).items() if t != NOW.timestamp()}
    evidence = evidence_from_points(
        "BRK-AAAAAA1",
        util,
        memory,
        window_start=NOW - HOUR,
        window_end=NOW,
        step_seconds=60,
        gap_tolerance_seconds=300,
    )
    assert evidence.max_util_pct == 88.0


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["BRK-1A2B3C4"], "BRK-1A2B3C4"),
        (["BRK-1", "BRK-2"], "BRK-1|BRK-2"),
        (["a.b"], "a\\\\.b"),
        (['we"ird|(x)'], 'we\\"ird\\\\|\\\\(x\\\\)'),
    ],
)
def test_regex_alternation_is_escaped_for_re2_and_the_string(
    values: list[str], expected: str
) -> None:
    assert promql_regex_alternation(values) == expected


def test_render_query_fills_label_selector_and_step() -> None:
    query = render_query(
        DEFAULT_UTIL_QUERY, label="instance_id", values=["BRK-1", "BRK-2"], step_seconds=60
    )
    assert query == (
        "max by (instance_id, gpu) "
        '(max_over_time(DCGM_FI_DEV_GPU_UTIL{instance_id=~"BRK-1|BRK-2"}[60s]))'
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("url", "ftp://prom:9090", "http(s) URL"),
        ("url", "not a url", "http(s) URL"),
        ("util_query", "max($metric)", "unknown placeholder(s) metric"),
        ("util_query", "cost $5", "not a valid template"),
        ("memory_query", "  ", "must not be empty"),
        ("id_label", "instance-id", "not a Prometheus label name"),
        # str.isidentifier() accepts these; Prometheus does not
        ("id_label", "instänce_id", "not a Prometheus label name"),
        ("name_label", "名前", "not a Prometheus label name"),
        ("gpu_label", "gpu-index", "not a Prometheus label name"),
        ("name_label", "9name", "not a Prometheus label name"),
        ("step_seconds", 0, "greater than or equal to 1"),
        ("match_on", "ip", "'id' or 'name'"),
        ("extra", 1, "Extra inputs"),
    ],
)
def test_settings_name_the_bad_field(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PrometheusProbeSettings.model_validate({field: value})
    assert field in str(caught.value)
    assert message in str(caught.value)


@pytest.mark.parametrize("label", ["instance_id", "_x", "A9_b", "gpu"])
def test_prometheus_label_names_are_accepted(label: str) -> None:
    assert PrometheusProbeSettings(id_label=label).id_label == label


@pytest.mark.parametrize(
    ("window", "step", "refused"),
    [
        (timedelta(minutes=60), 60, False),
        (timedelta(seconds=MAX_POINTS_PER_SERIES), 1, False),  # exactly the limit
        (timedelta(seconds=MAX_POINTS_PER_SERIES + 1), 1, True),
        (timedelta(hours=24), 8, False),
        (timedelta(hours=24), 7, True),
        (timedelta(hours=24), 1, True),
    ],
)
def test_resolution_over_prometheus_limit_is_refused(
    window: timedelta, step: int, refused: bool
) -> None:
    if not refused:
        check_resolution(window, step, fields="window / step")
        return
    with pytest.raises(ValueError, match=r"^window / step: .* at most 11,000") as caught:
        check_resolution(window, step, fields="window / step")
    assert "raise the step to at least" in str(caught.value)


def test_hibernate_params_refuse_a_window_over_the_resolution_limit_naming_the_fields() -> None:
    from flows.hibernate_idle.params import HibernateIdleParams

    with pytest.raises(ValidationError, match=r"window_minutes / prometheus\.step_seconds"):
        HibernateIdleParams(window_minutes=24 * 60, prometheus={"step_seconds": 5})
    HibernateIdleParams(window_minutes=24 * 60, prometheus={"step_seconds": 8})
    HibernateIdleParams(window_minutes=24 * 60, probe="ssh", prometheus={"step_seconds": 5})


def test_credentials_in_the_url_never_reach_errors_or_reprs() -> None:
    settings = PrometheusProbeSettings(url="http://user:s3cret@127.0.0.1:1")
    assert "s3cret" not in repr(PrometheusProbe(settings))


# -- against the simulator -----------------------------------------------------------------

SCENARIO = """
name: probe-test
account: {currency: USD}
ssh_keys: [{name: ops}]
instances:
  - {name: idle-box, region: US-1, gpu_model: A40, age: 2d, utilization: {preset: idle}}
  - {name: busy-box, region: US-1, gpu_model: H100-SXM5-80GB, gpu_count: 8, age: 2d,
     utilization: {preset: busy}}
  - name: spike-box
    region: US-1
    gpu_model: L40
    age: 2d
    utilization:  # idle, but busy for two minutes twenty minutes ago
      preset: idle
      segments: [{at: -1200, util: 93, mem_mib: 30000}, {at: -1080, preset: idle}]
  - name: model-loaded
    region: US-1
    gpu_model: L40
    age: 2d
    utilization: {segments: [{at: -172800, util: 0, mem_mib: 20000}]}
  - {name: young-box, region: US-1, gpu_model: A40, age: 20m, utilization: {preset: idle}}
  - {name: stopped-box, region: US-1, gpu_model: A40, age: 2d, status: SHUTOFF, status_age: 1d}
"""


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(parse_scenario_yaml(SCENARIO)) as handle:
        yield handle


def _targets(sim: SimHandle) -> dict[str, ProbeTarget]:
    with sim.client() as client:
        listed = client.get("/instances/", params={"per_page": 100}).json()["instances"]
    return {
        vm["name"]: ProbeTarget(id=vm["id"], name=vm["name"], region=vm["region"]) for vm in listed
    }


async def test_the_simulator_answers_what_each_profile_shows(sim: SimHandle) -> None:
    targets = _targets(sim)
    probe = PrometheusProbe(PrometheusProbeSettings(url=sim.prometheus_url))
    found = await probe.collect(list(targets.values()), now=sim.now(), window=HOUR)
    by_name = {name: found[t.id] for name, t in targets.items()}

    idle = by_name["idle-box"]
    assert idle.error is None
    assert idle.sample_count == 60
    assert idle.largest_gap_seconds == 0
    assert idle.max_util_pct is not None
    assert idle.max_util_pct < 5
    assert idle.max_memory_mib is not None
    assert idle.max_memory_mib < 1024

    assert (by_name["busy-box"].max_util_pct or 0) >= 85
    assert by_name["spike-box"].max_util_pct == 93  # a two-minute spike inside the window
    assert (by_name["spike-box"].avg_util_pct or 0) < 10
    assert by_name["model-loaded"].max_memory_mib == 20000
    assert by_name["model-loaded"].max_util_pct == 0
    young = by_name["young-box"]
    assert 0 < young.sample_count < 60
    assert (young.largest_gap_seconds or 0) > 30 * 60
    assert by_name["stopped-box"].sample_count == 0
    assert by_name["stopped-box"].error is None


async def test_the_window_follows_the_evaluation_time_not_the_server_clock(sim: SimHandle) -> None:
    targets = _targets(sim)
    spike = targets["spike-box"]
    probe = PrometheusProbe(PrometheusProbeSettings(url=sim.prometheus_url))
    earlier = sim.now() - timedelta(minutes=30)  # the spike was 20 minutes ago: not in this window
    found = await probe.collect([spike], now=earlier, window=timedelta(minutes=5))
    assert found[spike.id].max_util_pct is not None
    assert found[spike.id].max_util_pct < 5


async def test_gpus_the_series_show_are_counted_against_the_instance(sim: SimHandle) -> None:
    targets = _targets(sim)
    box = targets["idle-box"].model_copy(update={"gpu_count": 8})  # as if it had 8 GPUs
    probe = PrometheusProbe(PrometheusProbeSettings(url=sim.prometheus_url))
    found = await probe.collect([box, targets["busy-box"]], now=sim.now(), window=HOUR)
    assert (found[box.id].gpus_seen, found[box.id].gpus_expected) == (1, 8)
    busy = found[targets["busy-box"].id]
    assert (busy.gpus_seen, busy.gpus_expected) == (8, 1)  # more than expected: fine
    assert "1/8 GPUs" in found[box.id].describe()


async def test_a_query_that_aggregates_the_gpu_label_away_is_an_error(sim: SimHandle) -> None:
    targets = _targets(sim)
    aggregated = "max by ($label) (max_over_time(DCGM_FI_DEV_GPU_UTIL{$selector}[$step]))"
    settings = PrometheusProbeSettings(url=sim.prometheus_url, util_query=aggregated)
    found = await PrometheusProbe(settings).collect(
        [targets["idle-box"]], now=sim.now(), window=HOUR
    )
    assert found[targets["idle-box"].id].error is not None
    assert "carry no 'gpu' label" in (found[targets["idle-box"].id].error or "")
    unchecked = settings.model_copy(update={"gpu_label": None})
    found = await PrometheusProbe(unchecked).collect(
        [targets["idle-box"]], now=sim.now(), window=HOUR
    )
    assert found[targets["idle-box"].id].error is None
    assert found[targets["idle-box"].id].gpus_seen is None


async def test_match_on_name_and_small_batches(sim: SimHandle) -> None:
    targets = _targets(sim)
    settings = PrometheusProbeSettings(url=sim.prometheus_url, match_on="name", batch_size=2)
    found = await PrometheusProbe(settings).collect(
        list(targets.values()), now=sim.now(), window=HOUR
    )
    assert set(found) == {t.id for t in targets.values()}
    assert (found[targets["busy-box"].id].max_util_pct or 0) >= 85
    assert found[targets["idle-box"].id].sample_count == 60


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_prometheus_is_an_error_per_instance() -> None:
    targets = [ProbeTarget(id="BRK-AAAAAA1", name="a"), ProbeTarget(id="BRK-BBBBBB2", name="b")]
    probe = PrometheusProbe(PrometheusProbeSettings(url=f"http://127.0.0.1:{_closed_port()}"))
    found = await probe.collect(targets, now=NOW, window=HOUR)
    assert set(found) == {"BRK-AAAAAA1", "BRK-BBBBBB2"}
    assert all(e.error and "unreachable" in e.error for e in found.values())
    assert all(e.sample_count == 0 for e in found.values())


async def test_a_prometheus_that_never_answers_times_out() -> None:
    with socket.socket() as listener:  # accepts connections (backlog), never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        settings = PrometheusProbeSettings(url=f"http://127.0.0.1:{port}", timeout_seconds=0.3)
        found = await PrometheusProbe(settings).collect(
            [ProbeTarget(id="BRK-AAAAAA1", name="a")], now=NOW, window=HOUR
        )
    assert "timed out after 0.3 s" in (found["BRK-AAAAAA1"].error or "")


async def test_a_query_prometheus_rejects_is_an_error(sim: SimHandle) -> None:
    targets = list(_targets(sim).values())
    settings = PrometheusProbeSettings(url=sim.prometheus_url, util_query="rate($selector[5m])")
    found = await PrometheusProbe(settings).collect(targets, now=sim.now(), window=HOUR)
    assert all("400 bad_data" in (e.error or "") for e in found.values())


async def test_a_missing_bearer_token_is_an_error_not_a_crash(
    sim: SimHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROM_TOKEN", raising=False)
    settings = PrometheusProbeSettings(url=sim.prometheus_url, bearer_token_env="PROM_TOKEN")
    found = await PrometheusProbe(settings).collect(
        [ProbeTarget(id="BRK-AAAAAA1", name="a")], now=NOW, window=HOUR
    )
    assert "PROM_TOKEN is not set" in (found["BRK-AAAAAA1"].error or "")
    monkeypatch.setenv("PROM_TOKEN", "t0ken")
    found = await PrometheusProbe(settings).collect(
        [ProbeTarget(id="BRK-AAAAAA1", name="a")], now=NOW, window=HOUR
    )
    assert found["BRK-AAAAAA1"].error is None


@pytest.mark.parametrize(
    "given",
    [
        "http://prom.example:9090",
        "http://prom.example:9090/",
        "http://prom.example:9090/api/v1",
        "http://prom.example:9090/api/v1/",
        "http://prom.example:9090/api/v1/query_range",
        "http://prom.example:9090/api/v1/query",
    ],
)
def test_the_base_url_is_taken_with_or_without_the_api_path(given: str) -> None:
    assert PrometheusProbeSettings(url=given).url == "http://prom.example:9090"


def test_a_route_prefix_is_kept() -> None:
    url = "http://127.0.0.1:8642/prometheus/api/v1"
    assert PrometheusProbeSettings(url=url).url == "http://127.0.0.1:8642/prometheus"


def test_an_unfilled_deployment_placeholder_says_what_to_set() -> None:
    """A pod variant deployed without BARRACK_PROMETHEUS_URL (deployments/pools.py)."""
    with pytest.raises(ValidationError, match="BARRACK_PROMETHEUS_URL") as caught:
        PrometheusProbeSettings(url="{{ $BARRACK_PROMETHEUS_URL }}")
    assert caught.value.errors()[0]["loc"] == ("url",)
