"""The checkers catch what they are for: invariants broken on purpose are reported.

Doctored worlds and request logs for each checker, and a deliberately faulty deleter run
through the real flow against the simulator: the suite fails when an invariant breaks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import flows.nightly_snapshots.flow as nightly_flow
from flows.nightly_snapshots.params import NightlySnapshotsParams
from flows.nightly_snapshots.report import NightlyReport
from flows.nightly_snapshots.retention import FleetPlan
from tasks.snapshots import delete_snapshot, list_snapshots
from tests.chaos import invariants as inv
from tests.chaos.faults import FaultProfile
from tests.chaos.recipes import CASES
from tests.chaos.secrets_scan import scan
from tests.chaos.session import ChaosSession
from tests.chaos.world import ImageView, InstanceView, RequestRecord, SnapshotView, WorldView

NOW = datetime(2026, 11, 28, 2, 5, tzinfo=UTC)
OWNED = "managed-by=barrack-ops policy=nightly slot={:%Y-%m-%dT%H:%MZ}"


def snap(sid: str, days_ago: int, *, owned: bool = True, **extra: Any) -> SnapshotView:
    at = NOW.replace(hour=2, minute=0) - timedelta(days=days_ago)
    return SnapshotView(
        id=sid,
        name=f"s-{sid}",
        instance_id="vm-1",
        description=OWNED.format(at) if owned else "taken by hand",
        status="SUCCESS",
        created_at=at,
        **extra,
    )


def world(*snapshots: SnapshotView, **extra: Any) -> WorldView:
    return WorldView(now=NOW, snapshots={s.id: s for s in snapshots}, **extra)


def deleted(s: SnapshotView) -> SnapshotView:
    return SnapshotView(
        s.id, s.name, s.instance_id, s.description, s.status, s.created_at, s.image_ids, True
    )


def request(method: str, path: str, status: int = 202, **extra: Any) -> RequestRecord:
    return RequestRecord(method=method, path=path, status=status, time=NOW, **extra)


def names(found: list[inv.Violation]) -> set[str]:
    return {v.invariant for v in found}


SERIES = [snap(f"d{n}", n) for n in range(6)]  # d0 is tonight's, the newest


def test_a_safe_pruning_passes() -> None:
    before = world(*SERIES)
    after = world(*SERIES[:3], *(deleted(s) for s in SERIES[3:]))
    planned = {"d3", "d4", "d5"}
    assert (
        inv.deletions_are_safe(before, after, policy="nightly", keep_daily=3, planned=planned) == []
    )


@pytest.mark.parametrize(
    ("victim", "expected"),
    [
        (snap("manual", 9, owned=False), {"delete only owned", "delete only what the plan says"}),
        (SERIES[0], {"never delete the newest", "keep the retention window"}),
        (snap("img", 8, image_ids=("img-1",)), {"never delete image backing"}),
        (SERIES[1], {"keep the retention window", "delete only what the plan says"}),
    ],
    ids=["unowned", "newest", "image", "inside-window"],
)
def test_a_bad_deletion_is_reported(victim: SnapshotView, expected: set[str]) -> None:
    before = world(*SERIES, victim)
    rest = [s for s in SERIES if s.id != victim.id]
    after = world(*rest, deleted(victim), images={"img-1": ImageView("img-1", "img")})
    planned = {"img", "d0"}  # the image-backed and the newest were "planned" by a bad planner
    found = inv.deletions_are_safe(before, after, policy="nightly", keep_daily=3, planned=planned)
    assert expected <= names(found), found


def test_two_snapshots_in_one_slot_are_reported() -> None:
    twin = SnapshotView(
        "twin", "s-twin-2", "vm-1", SERIES[0].description, "SUCCESS", NOW, deleted=True
    )
    found = inv.at_most_one_snapshot_per_slot(world(*SERIES, twin), "nightly")
    assert names(found) == {"one snapshot per slot"}


def test_a_doctored_request_log_hibernating_a_busy_instance_is_reported() -> None:
    log = [
        request("GET", "/api/instances/", 200),
        request("POST", "/api/instances/vm-idle/hibernate/"),
        request("POST", "/api/instances/vm-busy/hibernate/", fault="drop"),  # made, answer cut
        request("POST", "/api/instances/vm-prod/hibernate/", 409),  # refused: not an action
    ]
    found = inv.no_action_on_protected_instances(
        log,
        {"vm-idle": "idle-a40", "vm-busy": "busy-train", "vm-prod": "prod-db"},
        {"busy-train": "busy", "prod-db": "exempt"},
    )
    assert [str(v) for v in found] == [
        "leave protected instances alone: hibernate of busy-train, which is busy"
    ]


def test_a_second_restored_instance_is_reported() -> None:
    made = {
        f"i{n}": InstanceView(f"i{n}", f"copy-{n}", "ACTIVE", NOW, snapshot_id="snap-1")
        for n in (1, 2)
    }
    found = inv.at_most_one_restore_per_request(world(), WorldView(NOW, instances=made), "snap-1")
    assert names(found) == {"one restored instance per request"}


def test_changes_and_failures_the_report_leaves_out_are_reported() -> None:
    before = world(SERIES[1])
    after = world(SERIES[0], deleted(SERIES[1]))
    log = [
        request("DELETE", "/api/snapshots/d1/"),
        request("DELETE", "/api/snapshots/gone/", 503, fault="error"),
        request("DELETE", "/api/snapshots/gone/", 503, fault="error"),
    ]
    unreported = inv.changes_accounted_for(before, after, log, reported=set())
    assert {v.detail for v in unreported} == {
        "snapshot s-d0 unreported",
        "DELETE /api/snapshots/d1/ done, not reported",
    }
    assert inv.abandoned_calls_reported(log, accounted={"d1"}) == [
        inv.Violation(
            "report every failure",
            "delete of gone failed (503,503) and the report does not say so",
        )
    ]


def test_a_failure_nobody_was_told_about_is_reported() -> None:
    found = inv.failures_are_alerted(
        ["web-a40", "eval-l40"],
        ["[warning] 1 snapshot failed in US-1: web-a40: 503"],
        report_text="| web-a40 | failed |",
    )
    assert [str(v) for v in found] == [
        "failures in the report: eval-l40 not in the report",
        "failures alerted: no notification names eval-l40",
    ]


def test_hangs_crashes_and_unclear_errors_are_reported() -> None:
    outcomes = [
        inv.RunOutcome("ok", "COMPLETED"),
        inv.RunOutcome("killed", "KILLED"),
        inv.RunOutcome("clear", "FAILED", "APIConnectionError: GET /instances: connection failed"),
        inv.RunOutcome("hung", "TIMED_OUT", budget=60),
        inv.RunOutcome("crashed", "CRASHED"),
        inv.RunOutcome("silent", "FAILED", ""),
        inv.RunOutcome("bug", "FAILED", "KeyError: 'status'"),
    ]
    found = inv.runs_end_clearly(outcomes)
    assert [v.detail.split(" ")[1].rstrip(":") for v in found] == [
        "hung",
        "crashed",
        "silent",
        "bug",
    ]
    assert inv.failed_runs_alerted(outcomes, "nightly-snapshots", []) == [
        inv.Violation("failed runs alerted", f"run {label} failed and no alert says so")
        for label in ("clear", "silent", "bug")
    ]


def test_interleaved_runs_and_a_refused_run_that_acted_are_reported() -> None:
    apart = {"a": [(0.0, 1.0, True), (1.0, 2.0, False)], "b": [(2.5, 3.0, True)]}
    assert inv.no_interleaving(apart) == []
    together = {"a": [(0.0, 2.0, True)], "b": [(1.0, 3.0, False)]}
    assert names(inv.no_interleaving(together)) == {"no overlapping action"}
    assert names(inv.refused_runs_did_nothing({"b"}, together)) == {"a refused run does nothing"}


def test_a_secret_in_any_text_is_reported_without_repeating_it() -> None:
    found = scan(
        [("log barrack", "retrying with key sk-live-123"), ("artifact x", "fine")], ["sk-live-123"]
    )
    assert [str(v) for v in found] == ["no secret exposed: secret #1 in log barrack"]
    assert "sk-live-123" not in str(found)


def test_a_deliberately_faulty_deleter_fails_the_suite(
    chaos: ChaosSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real flow with a pruner that also deletes the newest snapshot and a manual one."""
    real_prune = nightly_flow._prune

    async def faulty_prune(
        plan: FleetPlan, params: NightlySnapshotsParams, report: NightlyReport
    ) -> None:
        await real_prune(plan, params, report)
        snapshots = await list_snapshots(params.connection)
        web = [s for s in snapshots if s.instance_name == "web-a40" and s.status.is_ready]
        victims = [max(web, key=lambda s: s.created_at)]
        victims += [s for s in snapshots if s.name == "before-upgrade"]
        for victim in victims:
            await delete_snapshot(params.connection, victim.id)

    monkeypatch.setattr(nightly_flow, "_prune", faulty_prune)
    with chaos.off_the_record():
        result = chaos.scenario(
            CASES["nightly-snapshots"], "faulty-deleter", [FaultProfile("none")], seed=3
        )
    broken = names(result.violations)
    assert {
        "delete only owned",
        "never delete the newest",
        "delete only what the plan says",
        "report every change",
    } <= broken, result.describe()


def test_a_leaked_secret_in_a_run_log_or_artifact_fails_the_suite(
    chaos: ChaosSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recipe that logs the API key and puts a notification token in an artifact."""
    import os

    from prefect.artifacts import acreate_markdown_artifact
    from prefect.logging import get_run_logger

    import flows.hibernate_idle.flow as hibernate_flow

    real_publish = hibernate_flow.publish_report

    async def leaky_publish(report: Any) -> None:
        await real_publish(report)
        get_run_logger().info("calling Barrack with %s", os.environ["BARRACK_API_KEY"])
        await acreate_markdown_artifact(
            markdown=f"alerts go to {os.environ['BARRACK_NOTIFY_URLS']}", key="leaky"
        )

    monkeypatch.setattr(hibernate_flow, "publish_report", leaky_publish)
    with chaos.off_the_record():
        result = chaos.scenario(CASES["hibernate-idle"], "leaky", [FaultProfile("none")], seed=3)
    leaks = [v.detail for v in result.violations if v.invariant == "no secret exposed"]
    assert "secret #1 in prefect log prefect.flow_runs" in leaks, result.describe()
    assert "secret #2 in artifact leaky" in leaks, result.describe()
    assert "secret #3 in artifact leaky" in leaks, result.describe()
