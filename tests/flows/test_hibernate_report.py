"""Hibernate-idle: parameters, savings, the report and its alerts, the file memory."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from barrack.models import VMInstance
from barrack_ops.params_file import ParamsFileError, load_params
from flows.common.pricing import GpuPrice, PriceIndex
from flows.hibernate_idle.params import HibernateIdleParams
from flows.hibernate_idle.report import (
    Action,
    HibernateReport,
    IdleInstanceOutcome,
    hibernate_alerts,
)
from flows.hibernate_idle.savings import hourly_rates
from flows.hibernate_idle.state import IdleMemory, InstanceState
from flows.hibernate_idle.streaks import IdleStreak
from notifications import AlertKind

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


# -- parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"policy_name": "Bad Name"}, "policy_name", "lowercase letters"),
        ({"util_threshold_pct": 0}, "util_threshold_pct", "greater than 0"),
        ({"window_minutes": 1}, "window_minutes", "greater than or equal to 5"),
        ({"grace_minutes": -1}, "grace_minutes", "greater than or equal to 0"),
        ({"probe": "snmp"}, "probe", "'prometheus' or 'ssh'"),
        ({"exempt_name_globs": [" "]}, "exempt_name_globs", "must not be empty"),
        ({"snoozes": [{"instance": "a", "until": "2026-11-27T12:00"}]}, "snoozes.0.until", "zone"),
        ({"pre_hibernate_command": "  "}, "pre_hibernate_command", "must not be blank"),
        ({"state_store": "memory"}, "state_store", "'auto', 'prefect' or 'file'"),
        ({"prometheus": {"url": "prom:9090"}}, "prometheus.url", "http(s) URL"),
        ({"ssh": {"port": 0}}, "ssh.port", "greater than or equal to 1"),
        ({"windw_minutes": 30}, "windw_minutes", "Extra inputs are not permitted"),
    ],
)
def test_bad_parameters_name_the_field(
    tmp_path: Path, data: dict[str, Any], field: str, message: str
) -> None:
    path = tmp_path / "params.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ParamsFileError) as caught:
        load_params(HibernateIdleParams, path)
    assert f"{field}:" in str(caught.value)
    assert message in str(caught.value)


def test_parameters_become_rules() -> None:
    params = HibernateIdleParams(
        window_minutes=90, grace_minutes=45, min_uptime_minutes=30, exempt_ids=["BRK-1"]
    )
    rules = params.rules()
    assert (rules.window, rules.grace, rules.min_uptime) == (
        timedelta(minutes=90),
        timedelta(minutes=45),
        timedelta(minutes=30),
    )
    assert rules.exempt_ids == ("BRK-1",)
    assert (rules.util_threshold_pct, rules.memory_threshold_mib) == (5, 1024)


# -- savings -------------------------------------------------------------------------------


def vm(**changes: Any) -> VMInstance:
    data: dict[str, Any] = {
        "id": "BRK-AAAAAA1",
        "name": "train-1",
        "status": "ACTIVE",
        "region": "NORWAY-1",
        "flavor": {
            "name": "8x",
            "gpu_model": "H100-SXM5-80GB",
            "gpu_count": 8,
            "vcpus": 8,
            "ram_gb": 8,
            "disk_gb": 8,
        },
        "hourly_price": "19.9200",
        "currency": "USD",
        "created_at": "2026-11-01T00:00:00Z",
    }
    data.update(changes)
    return VMInstance.model_validate(data)


def prices(currency: str = "USD", **per_gpu: str) -> PriceIndex:
    """A price index; keyword names are GPU models with ``_`` for ``-``."""
    return PriceIndex(
        currency,
        gpus={m.replace("_", "-"): GpuPrice(Decimal(p), "advanced", 8) for m, p in per_gpu.items()},
    )


H100 = {"H100_SXM5_80GB": "2.49"}  # Part C, USD per GPU-hour


@pytest.mark.parametrize(
    ("instance", "index", "per_day", "source"),
    [
        # 8 x 2.49 = 19.92/h running, 0.01/h hibernated (A3): (19.92 - 0.01) x 24.
        (vm(), prices(**H100), Decimal("477.84"), "price list + documented hibernated rate"),
        # The price list wins over the instance's own figure.
        (vm(hourly_price="99"), prices(**H100), Decimal("477.84"), "price list"),
        # A model the list does not price: the instance's own hourly_price.
        (vm(), prices(L40="1.19"), Decimal("477.84"), "instance hourly_price + documented"),
        (
            vm(currency="INR", hourly_price="1672.00"),
            prices("INR"),
            Decimal("40104.00"),  # (1672 - 1.00) x 24
            "instance hourly_price + documented",
        ),
        (vm(hourly_price=None), prices(), None, None),
        # Its own price in another currency, or not running now: nothing to go by.
        (vm(), prices("EUR"), None, None),
        (vm(status="SHUTOFF"), prices(), None, None),
        # No documented hibernated rate in the currency.
        (vm(currency="GBP"), prices("GBP", **H100), None, None),
        # Cheaper running than hibernated: saves nothing, never a negative figure.
        (vm(), prices(H100_SXM5_80GB="0.001"), Decimal("0"), "price list"),
    ],
)
def test_savings_come_from_the_api_prices(
    instance: VMInstance, index: PriceIndex, per_day: Decimal | None, source: str | None
) -> None:
    rates = hourly_rates(instance, index)
    if per_day is None:
        assert rates is None
        return
    assert rates is not None
    assert rates.saving_per_day == per_day
    assert rates.currency == index.currency
    assert source is not None
    assert rates.source.startswith(source)


# -- the report and its alerts -------------------------------------------------------------


def outcome(name: str, action: Action, **changes: Any) -> IdleInstanceOutcome:
    data: dict[str, Any] = {
        "instance_id": f"BRK-{name.upper()[:7]:0<7}",
        "instance_name": name,
        "region": "US-1",
        "status": "ACTIVE",
        "verdict": "busy",
        "action": action,
        "reason": "why",
        "probe": "prometheus",
        "evidence": "peak 1.0 %",
    }
    data.update(changes)
    return IdleInstanceOutcome.model_validate(data)


def report(*instances: IdleInstanceOutcome, dry_run: bool = False) -> HibernateReport:
    return HibernateReport(
        policy_name="default",
        evaluated_at=NOW,
        dry_run=dry_run,
        probe="prometheus",
        rules="r",
        selection="s",
        instances=list(instances),
    )


def test_alerts_per_action() -> None:
    run = report(
        outcome(
            "warned", Action.WARNED, verdict="warn", hibernate_after=NOW + timedelta(minutes=30)
        ),
        outcome(
            "gone",
            Action.HIBERNATED,
            verdict="hibernate",
            saving_per_day=Decimal("477.84"),
            currency="USD",
        ),
        outcome("stuck", Action.FAILED, verdict="hibernate", reason="pre-hibernate command failed"),
        outcome("working", Action.LEFT_RUNNING),
        outcome("blind", Action.LEFT_RUNNING, verdict="probe failed", probe_error="timed out"),
    )
    alerts, cleared = hibernate_alerts(run)
    by_kind = {(a.kind, a.subject.name or a.subject.id): a for a in alerts}
    warning = by_kind[(AlertKind.IDLE_WARNING, "warned")]
    assert warning.title == "warned is idle: hibernates after 12:30Z unless used"
    hibernated = by_kind[(AlertKind.HIBERNATED, "gone")]
    assert hibernated.title == "Hibernated gone: saves USD 477.84/day"
    assert hibernated.facts["saves_per_day"] == run.instances[1].saving
    failed = by_kind[(AlertKind.HIBERNATE_FAILED, "stuck")]
    assert failed.facts["reason"] == "pre-hibernate command failed"
    probe = by_kind[(AlertKind.GENERIC, "hibernate-idle:default")]
    assert probe.facts["instances"] == ["blind: timed out"]
    cleared_ids = {(k.kind, k.subject.name) for k in cleared}
    assert (AlertKind.IDLE_WARNING, "working") in cleared_ids
    assert (AlertKind.IDLE_WARNING, "gone") in cleared_ids
    assert (AlertKind.IDLE_WARNING, "warned") not in cleared_ids
    assert (AlertKind.IDLE_WARNING, "stuck") not in cleared_ids
    assert (AlertKind.HIBERNATE_FAILED, "gone") in cleared_ids
    assert not run.ok
    assert run.savings() == {"USD": Decimal("477.84")}


def test_a_dry_run_resolves_nothing_and_says_would() -> None:
    run = report(
        outcome("maybe", Action.WOULD_HIBERNATE, saving_per_day=Decimal("16.32"), currency="USD"),
        outcome("working", Action.LEFT_RUNNING),
        dry_run=True,
    )
    alerts, cleared = hibernate_alerts(run)
    assert cleared == []
    assert [a.title for a in alerts] == ["Would hibernate maybe: saves USD 16.32/day"]
    assert "1 to hibernate (saves USD 16.32/day)" in run.summary_line()
    assert "(dry run)" in run.markdown()


def test_markdown_and_rows_show_evidence_and_savings() -> None:
    run = report(
        outcome(
            "gone",
            Action.HIBERNATED,
            verdict="hibernate",
            evidence="peak 1.2 %; 60 sample(s) 11:00-12:00Z via prometheus",
            saving_per_day=Decimal("16.32"),
            currency="USD",
            rates_source="price list",
        ),
        outcome("blind", Action.LEFT_RUNNING, verdict="probe failed", probe_error="timed out"),
    )
    text = run.markdown()
    assert "| gone | hibernate | hibernated | peak 1.2 %; 60 sample(s)" in text
    assert "| gone | USD 16.32 | price list |" in text
    assert "- blind: prometheus probe: timed out" in text
    assert run.hibernated_rows()[0]["saving/day"] == "USD 16.32"
    assert run.instance_rows()[1]["saving/day"] == ""


# -- memory --------------------------------------------------------------------------------


def state(minutes_ago: int = 0) -> InstanceState:
    at = NOW - timedelta(minutes=minutes_ago)
    streak = IdleStreak(since=at, last_seen=at, observations=1, max_util_pct=1, util_sum=1)
    return InstanceState(warned_at=at, last_idle_at=at, streak=streak)


def test_file_store_round_trip_and_forgetting(tmp_path: Path) -> None:
    store = IdleMemory.in_file(tmp_path / "deep" / "state.json")
    assert asyncio.run(store.load()) == {}
    asyncio.run(store.save({"BRK-1": state(), "BRK-2": state(15)}))
    asyncio.run(store.save({"BRK-2": None, "BRK-3": InstanceState()}))  # empty: forget
    reread = IdleMemory.in_file(tmp_path / "deep" / "state.json")
    assert asyncio.run(reread.load()) == {"BRK-1": state()}
    assert not list((tmp_path / "deep").glob("*.tmp")), "no temp file left behind"


def test_an_unreadable_file_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json", encoding="utf-8")
    assert asyncio.run(IdleMemory.in_file(path).load()) == {}
    assert len(list(tmp_path.glob("state.json.corrupt-*"))) == 1


def test_variable_names_are_valid_and_distinct() -> None:
    store = IdleMemory.in_prefect("Team A")
    upper, lower = store.variable_name("BRK-ABC"), store.variable_name("brk-abc")
    assert upper != lower
    assert upper.startswith("barrack-ops-idle--team-a--brk-abc-")
    with pytest.raises(ValueError, match="policy_name"):
        IdleMemory.in_prefect("--")


def test_savings_use_the_one_money_format_and_the_key_is_a_slug() -> None:
    hibernated = outcome(
        "idle-box", Action.HIBERNATED, saving_per_day=Decimal("1241.005"), currency="USD"
    )
    r = report(hibernated).model_copy(update={"policy_name": "Idle GPUs"})
    assert "(saves USD 1,241.00/day)" in r.summary_line()  # half-even: .005 -> .00
    assert r.artifact_key() == "hibernate-idle-idle-gpus"
