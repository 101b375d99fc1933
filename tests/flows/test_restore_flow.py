"""The restore-to-region flow against the simulator, through Prefect's real engine."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from prefect.exceptions import ParameterTypeError

from barrack.models import Balance, GPUStockItem, VMInstance
from barrack_ops.demo.receiver import NotificationReceiver
from flows.restore.flow import restore_to_region
from flows.restore.params import RestoreParams
from flows.restore.report import RestoreOutcome, RestoreReport
from simulator.scenarios.spec import parse_scenario_yaml
from simulator.testing import SimHandle, running_simulator
from tasks.connection import BarrackConnection
from tests.helpers.restore_sim import (
    SCENARIO,
    START,
    HookedTicker,
    instances_named,
    sim_instances,
)

pytestmark = pytest.mark.usefixtures("prefect_harness")

H100 = "H100-SXM5-80GB"


@pytest.fixture(scope="module")
def module_sim() -> Iterator[SimHandle]:
    with running_simulator(parse_scenario_yaml(SCENARIO), seed=1, start=START) as sim:
        yield sim


@pytest.fixture
def sim(module_sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> SimHandle:
    module_sim.reset()
    monkeypatch.setenv("BARRACK_API_KEY", module_sim.api_key)
    return module_sim


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[NotificationReceiver]:
    with NotificationReceiver() as running:
        monkeypatch.setenv("BARRACK_NOTIFY_URLS", running.json_url("/ops"))
        monkeypatch.setenv("BARRACK_NOTIFY_STATE", "memory")
        yield running


def params(sim: SimHandle, **overrides: object) -> RestoreParams:
    base: dict[str, object] = {
        "instance_name": "train-h100",
        "connection": {"base_url": sim.base_url},
        "poll_seconds": 0.02,
        "max_poll_seconds": 0.05,
        "wait_timeout_minutes": 1,
        "cleanup_timeout_minutes": 1,
        "notify": False,
    }
    base.update(overrides)
    return RestoreParams.model_validate(base)


def restore(sim: SimHandle, hook: Any = None, **overrides: object) -> RestoreReport:
    with HookedTicker(sim, hook):
        return asyncio.run(restore_to_region(params(sim, **overrides)))


def snapshot_id(sim: SimHandle, name: str) -> str:
    with sim.client() as client:
        snaps = client.get("/snapshots/", params={"per_page": 100}).json()["snapshots"]
    return str(next(s["id"] for s in snaps if s["name"] == name))


def api_get(sim: SimHandle, path: str, payload: str) -> Any:
    with sim.client() as client:
        return client.get(path).json()[payload]


# -- where it goes ---------------------------------------------------------------------------


def test_restore_into_another_region(sim: SimHandle, receiver: NotificationReceiver) -> None:
    report = restore(sim, targets=["US-1"], notify=True)

    assert report.outcome is RestoreOutcome.RESTORED, report.reason
    assert report.snapshot_id == snapshot_id(sim, "train-h100-snap")  # newest SUCCESS, not ERROR
    assert (report.chosen_region, report.instance_name) == ("US-1", "train-h100-us1")
    (made,) = instances_named(sim, "train-h100-us1")
    assert made["region"] == "US-1"
    assert made["status"] == "ACTIVE"
    assert made["boot_source"] == "snapshot"
    assert made["snapshot_id"] == report.snapshot_id
    assert report.address == made["ip_address"]
    gpus = api_get(sim, "/pricing/", "pricing_data")["gpus"]["pricing"]
    (price,) = [by_model[H100] for by_model in gpus.values() if H100 in by_model]
    per_gpu = Decimal(str(price["prices"]["USD"]))  # read, not hard-coded
    assert report.hourly_price == 2 * per_gpu
    assert report.timeline.active_after_s is not None
    assert report.timeline.api_active_after_s is not None
    assert report.timeline.api_active_after_s > 60  # cross-region copies take minutes
    (note,) = receiver.received
    assert note.title is not None
    assert "Restored train-h100 in US-1 as train-h100-us1" in note.title


def test_auto_ranks_by_stock_and_can_exclude_the_source_region(sim: SimHandle) -> None:
    sim.set_stock("US-1", H100, 2)  # one 2-GPU instance's worth; CANADA-1 has 16 GPUs
    report = restore(sim, targets=["auto"], exclude_source_region=True, dry_run=True)

    assert report.outcome is RestoreOutcome.WOULD_RESTORE, report.reason
    assert [(c.region, c.verdict.value, c.deployable) for c in report.candidates] == [
        ("CANADA-1", "viable", 8),
        ("US-1", "viable", 1),
        ("NORWAY-1", "excluded", 24),
    ]
    assert report.chosen_region == "CANADA-1"
    assert report.chosen_reason.startswith("rank 1: 8 x 2x H100-SXM5-80GB deployable")
    assert report.instance_name == "train-h100-ca1"


def test_a_region_listed_without_stock_is_not_tried(sim: SimHandle) -> None:
    sim.set_stock("US-1", H100, 0)
    report = restore(sim, targets=["US-1", "CANADA-1"], dry_run=True)

    assert report.outcome is RestoreOutcome.WOULD_RESTORE
    assert report.chosen_region == "CANADA-1"
    assert report.candidates[1].region == "US-1"
    assert report.candidates[1].reason == f"no 2x {H100} free now (GPU stock)"
    assert instances_named(sim, "train-h100-ca1") == []  # a dry run makes nothing


def test_falls_through_when_the_api_refuses_on_stock(
    sim: SimHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stock list said US-1 had GPUs, then they went (a stale listing): the API is
    # the judge, and its OUT_OF_STOCK moves the restore on to the next region.
    stale = [GPUStockItem.model_validate(i) for i in api_get(sim, "/gpu-stocks/", "stocks")]
    sim.set_stock("US-1", H100, 0)

    async def stale_stock(connection: object, region: str | None = None) -> list[GPUStockItem]:
        return stale

    monkeypatch.setattr("flows.restore.execute.list_gpu_stock", stale_stock)
    report = restore(sim, targets=["US-1", "CANADA-1"])

    assert report.outcome is RestoreOutcome.RESTORED, report.reason
    assert [(a.region, a.result) for a in report.attempts] == [
        ("US-1", "refused"),
        ("CANADA-1", "created"),
    ]
    assert report.attempts[0].reason.startswith("OUT_OF_STOCK")
    assert report.chosen_reason.endswith("after US-1 refused")
    assert instances_named(sim, "train-h100-us1") == []


def test_falls_through_on_a_layer2_refusal(sim: SimHandle) -> None:
    sim.settings(layer2_fail_regions=["US-1"])
    report = restore(sim, targets=["US-1", "source"])

    assert report.outcome is RestoreOutcome.RESTORED, report.reason
    assert report.attempts[0].reason.startswith("LAYER2_VALIDATION_FAILED")
    assert report.chosen_region == "NORWAY-1"


# -- what stops it ---------------------------------------------------------------------------


def test_insufficient_credit_blocks_before_anything_is_made(
    module_sim: SimHandle, monkeypatch: pytest.MonkeyPatch, receiver: NotificationReceiver
) -> None:
    module_sim.load_scenario(yaml=SCENARIO.replace("balance: 500", "balance: 0.50"), seed=1)
    monkeypatch.setenv("BARRACK_API_KEY", module_sim.api_key)
    try:
        before = len(sim_instances(module_sim))
        report = restore(module_sim, targets=["US-1"], notify=True)
        assert report.outcome is RestoreOutcome.BLOCKED
        # The simulated clock ran on (the fleet burns credit), so the figure may be lower.
        assert re.search(r"balance USD -?[\d.]+ is below the USD 1.00 needed", report.reason)
        assert report.attempts == []
        assert len(sim_instances(module_sim)) == before
        (note,) = receiver.received
        assert note.title is not None
        assert "Restore of train-h100 blocked" in note.title
    finally:
        module_sim.load_scenario(yaml=SCENARIO, seed=1)


def test_credit_refused_by_the_api_is_not_retried_elsewhere(
    module_sim: SimHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    module_sim.load_scenario(yaml=SCENARIO.replace("balance: 500", "balance: 0.50"), seed=1)
    monkeypatch.setenv("BARRACK_API_KEY", module_sim.api_key)

    async def stale_balance(connection: object) -> Balance:
        return Balance.model_validate({"balance": "50.00", "currency": "USD"})

    monkeypatch.setattr("flows.restore.execute.get_balance", stale_balance)
    try:
        report = restore(module_sim, targets=["US-1", "CANADA-1"])
        assert report.outcome is RestoreOutcome.FAILED
        assert [a.region for a in report.attempts] == ["US-1"]  # account-wide: no fall-through
        assert report.reason.startswith("US-1 refused: INSUFFICIENT_CREDITS")
    finally:
        module_sim.load_scenario(yaml=SCENARIO, seed=1)


def test_incomplete_profile_fails_without_trying_other_regions(sim: SimHandle) -> None:
    sim.set_profile_complete(False)
    report = restore(sim, targets=["US-1", "CANADA-1"])

    assert report.outcome is RestoreOutcome.FAILED
    assert [a.region for a in report.attempts] == ["US-1"]
    assert "PROFILE_INCOMPLETE" in report.reason
    assert instances_named(sim, "train-h100-us1") == []


def test_a_given_name_that_is_taken_blocks(sim: SimHandle) -> None:
    report = restore(sim, targets=["US-1"], name="taken-name")

    assert report.outcome is RestoreOutcome.BLOCKED
    assert "name taken-name is taken by instance" in report.reason
    assert len(instances_named(sim, "taken-name")) == 1


def test_a_region_whose_default_name_is_taken_is_passed_over(sim: SimHandle) -> None:
    report = restore(sim, instance_name="notebook", targets=["NORWAY-1", "source"], dry_run=True)

    assert report.outcome is RestoreOutcome.WOULD_RESTORE, report.reason
    assert (report.chosen_region, report.instance_name) == ("CANADA-1", "notebook-ca1")
    taken = next(c for c in report.candidates if c.region == "NORWAY-1")
    assert taken.verdict.value == "name taken"


def test_a_name_taken_after_planning_is_refused_not_adopted(
    sim: SimHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.restore import flow as restore_flow

    real_listing = restore_flow.list_instances

    async def stale_instances(connection: BarrackConnection) -> list[VMInstance]:
        # Read before 'taken-name' was made: the plan thinks the name is free.
        listed = await real_listing(connection)
        return [vm for vm in listed if vm.name != "taken-name"]

    monkeypatch.setattr(restore_flow, "list_instances", stale_instances)
    report = restore(sim, targets=["US-1", "CANADA-1"], name="taken-name")

    assert report.outcome is RestoreOutcome.FAILED
    assert report.reason.startswith("US-1 refused: DUPLICATE_NAME")
    assert len(instances_named(sim, "taken-name")) == 1


def test_a_malformed_name_is_refused_before_the_flow_acts(sim: SimHandle) -> None:
    before = len(sim_instances(sim))
    bad = {"instance_name": "train-h100", "name": "-bad name", "notify": False}
    with pytest.raises(ParameterTypeError, match="may only contain"):
        asyncio.run(restore_to_region(params=bad))  # type: ignore[call-overload]
    assert len(sim_instances(sim)) == before


def test_no_ready_snapshot_blocks(sim: SimHandle) -> None:
    report = restore(sim, instance_name="render-l40")
    assert report.outcome is RestoreOutcome.BLOCKED
    assert report.reason == "no snapshots of render-l40"


def test_dry_run_changes_nothing(sim: SimHandle) -> None:
    before = sim_instances(sim)
    report = restore(sim, targets=["auto"], dry_run=True)
    assert report.outcome is RestoreOutcome.WOULD_RESTORE
    assert report.reason == f"dry run: would restore into NORWAY-1 as {report.instance_name}"
    assert sim_instances(sim) == before


# -- when the restore fails ------------------------------------------------------------------


def _when_created(sim: SimHandle, name: str, action: Any) -> Any:
    """A ticker hook that calls ``action(instance)`` once, when ``name`` exists."""
    done: list[bool] = []

    def hook() -> None:
        if done:
            return
        for vm in instances_named(sim, name):
            action(vm)
            done.append(True)

    return hook


def test_snapshot_deleted_during_the_restore(sim: SimHandle) -> None:
    def delete_snapshot(vm: dict[str, Any]) -> None:
        assert vm["status"] == "CREATING"
        with sim.client() as client:
            client.delete(f"/snapshots/{vm['snapshot_id']}/").raise_for_status()

    report = restore(sim, _when_created(sim, "train-h100-us1", delete_snapshot), targets=["US-1"])

    assert report.outcome is RestoreOutcome.FAILED
    assert report.reason == "the restore ended in ERROR: the snapshot was deleted while it ran"
    assert report.cleanup_done is True
    assert instances_named(sim, "train-h100-us1") == []


@pytest.mark.parametrize("delete_failed", [True, False])
def test_a_restore_ending_in_error_is_alerted_and_cleaned_up(
    sim: SimHandle, receiver: NotificationReceiver, delete_failed: bool
) -> None:
    sim.settings(transition_error_rate=1.0)  # every transition ends in ERROR...
    state = {"failing": True}

    def stop_failing_once_it_failed() -> None:
        # ...until the restore has failed, so the clean-up's delete can succeed.
        if state["failing"] and any(
            vm["status"] != "CREATING" for vm in instances_named(sim, "train-h100-us1")
        ):
            sim.settings(transition_error_rate=0.0)
            state["failing"] = False

    report = restore(
        sim,
        stop_failing_once_it_failed,
        targets=["US-1"],
        notify=True,
        delete_failed=delete_failed,
    )

    assert report.outcome is RestoreOutcome.FAILED
    assert report.reason == "the restore ended in ERROR"
    left = instances_named(sim, "train-h100-us1")
    if delete_failed:
        assert report.cleanup == "deleted (gone from the API)"
        assert left == []
    else:
        assert report.cleanup_done is False
        assert [vm["status"] for vm in left] == ["ERROR"]
    (note,) = receiver.received
    print("TITLE", note.title)
    print("BODY", note.body)
    assert note.title is not None
    assert "Restore of train-h100 failed" in note.title
    assert note.body is not None
    assert ("by hand" in note.body) is not delete_failed


def test_timeout_is_reported_and_the_instance_left_is_named(sim: SimHandle) -> None:
    # No ticker: the simulated clock stands still, so the instance stays CREATING.
    report = asyncio.run(
        restore_to_region(
            params(
                sim,
                targets=["US-1"],
                wait_timeout_minutes=0.005,
                cleanup_timeout_minutes=0.005,
            )
        )
    )

    assert report.outcome is RestoreOutcome.TIMED_OUT
    assert report.reason.startswith("still CREATING after")
    assert report.cleanup_done is False
    assert report.cleanup is not None
    assert report.cleanup.startswith("left in CREATING")
    assert [vm["status"] for vm in instances_named(sim, "train-h100-us1")] == ["CREATING"]


# -- what it reads --------------------------------------------------------------------------


def test_by_name_it_lists_only_the_instances_own_snapshots_and_the_instances_once(
    sim: SimHandle,
) -> None:
    sim.clear_requests()
    report = restore(sim, targets=["US-1"], dry_run=True)
    reads = [r for r in sim.requests() if r["method"] == "GET"]

    assert report.outcome is RestoreOutcome.WOULD_RESTORE, report.reason
    assert report.snapshot_id == snapshot_id(sim, "train-h100-snap")
    snapshot_listings = [r["query"] for r in reads if r["path"] == "/api/snapshots/"]
    (source,) = instances_named(sim, "train-h100")
    # The source is found by its instance's id; the account's snapshots are listed once
    # more, whole, for the runway (each ready snapshot bills: the low-balance fleet model).
    by_instance = [q for q in snapshot_listings if "instance_id=" in q]
    assert by_instance == [f"instance_id={source['id']}&page=1&per_page=100"]
    whole = [q for q in snapshot_listings if "instance_id=" not in q]
    assert whole
    assert all(q.startswith("page=") for q in whole)
    assert len(whole) == len(set(whole)), "no page of the whole listing is read twice"
    assert len([r for r in reads if r["path"] == "/api/instances/"]) == 1


def test_a_deleted_source_is_found_through_the_whole_listing(sim: SimHandle) -> None:
    (source,) = instances_named(sim, "notebook")
    with sim.client() as client:
        assert client.delete(f"/instances/{source['id']}/").status_code < 300
    sim.advance(600)

    report = restore(sim, instance_name="notebook", targets=["auto"], dry_run=True)

    assert report.outcome is RestoreOutcome.WOULD_RESTORE, report.reason
    assert report.snapshot_id == snapshot_id(sim, "notebook-snap")


# -- never twice -----------------------------------------------------------------------------


@pytest.mark.parametrize("replay", [True, False])
def test_a_response_dropped_after_commit_makes_no_duplicate(sim: SimHandle, replay: bool) -> None:
    # With replay, the client's retry gets the first answer back (same Idempotency-Key);
    # without it, the retry meets DUPLICATE_NAME and the task adopts the instance by name.
    sim.settings(idempotency_replay=replay)
    sim.set_faults(
        {
            "method": "POST",
            "path": "/api/snapshots/*/restore/",
            "drop_after_commit": True,
            "times": 1,
        }
    )
    report = restore(sim, targets=["US-1"])

    assert report.outcome is RestoreOutcome.RESTORED, report.reason
    assert len(instances_named(sim, "train-h100-us1")) == 1
    assert report.adopted is (not replay)
    restores = [r for r in sim.requests() if r["path"].endswith("/restore/")]
    assert len(restores) == 2


def test_running_again_adopts_the_first_runs_instance(sim: SimHandle) -> None:
    first = restore(sim, targets=["US-1"])
    second = restore(sim, targets=["US-1"])

    assert first.outcome is second.outcome is RestoreOutcome.RESTORED
    assert second.adopted is True
    assert second.instance_id == first.instance_id
    assert second.attempts[0].result == "adopted"
    assert len(instances_named(sim, "train-h100-us1")) == 1


# -- when the API fails ----------------------------------------------------------------------


def test_an_api_error_before_acting_is_reported_and_alerted(
    sim: SimHandle, receiver: NotificationReceiver
) -> None:
    # 400 is never retried, so the failure is immediate (a 503 would be retried first).
    sim.set_faults({"method": "GET", "path": "/api/regions/", "error_rate": 1.0, "status": 400})
    report = restore(sim, targets=["US-1"], notify=True)

    assert report.outcome is RestoreOutcome.FAILED
    assert report.reason.startswith("Barrack API error: VALIDATION_ERROR")
    assert report.attempts == []
    assert [n.title for n in receiver.received] == ["[critical] Restore of train-h100 failed"]


def test_losing_track_of_the_instance_is_reported_with_what_to_clean_up(sim: SimHandle) -> None:
    # The restore is made, then every read of the instance fails: its fate is unknown.
    sim.set_faults(
        {"method": "GET", "path": "/api/instances/BRK-*", "error_rate": 1.0, "status": 400}
    )
    report = restore(sim, targets=["US-1"])

    assert report.outcome is RestoreOutcome.FAILED
    assert report.reason.startswith(f"lost track of {report.instance_id}: VALIDATION_ERROR")
    assert report.cleanup_done is False
    assert report.cleanup is not None
    assert report.cleanup.endswith("delete it by hand")
    assert len(instances_named(sim, "train-h100-us1")) == 1
