"""The restore recipe's reports, alerts, parameters and drill order (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from flows.restore.candidates import Candidate, CandidateVerdict
from flows.restore.drill import drill_order, is_drill_instance
from flows.restore.drill_report import DrillReport, drill_alerts, drill_verdict
from flows.restore.execute import idempotency_key
from flows.restore.params import RestoreDrillParams, RestoreParams, SSHVerification
from flows.restore.report import (
    Attempt,
    RestoreOutcome,
    RestoreReport,
    Timeline,
    format_seconds,
    restore_alerts,
)
from notifications import AlertKind, Amount, Severity
from notifications.text import slug as text_slug
from tests.helpers.restore_models import T0, instance


def report(outcome: RestoreOutcome, **changes: object) -> RestoreReport:
    base = RestoreReport(
        requested="newest SUCCESS snapshot of train-h100",
        evaluated_at=T0,
        targets=["auto"],
        snapshot_id="snap-1",
        snapshot_name="train-snap",
        snapshot_created_at=T0 - timedelta(hours=2),
        source_instance_id="BRK-TRAIN01",
        source_instance_name="train-h100",
        source_region="NORWAY-1",
        gpu_model="H100-SXM5-80GB",
        gpu_count=2,
        candidates=[
            Candidate(
                region="US-1",
                verdict=CandidateVerdict.VIABLE,
                reason="rank 1: 4 x 2x H100-SXM5-80GB deployable, USD 4.98/h, cross-region",
                preference=1,
                deployable=4,
                hourly_price=Decimal("4.98"),
                currency="USD",
                name="train-h100-us1",
            ),
            Candidate(region="CANADA-1", verdict=CandidateVerdict.OUT_OF_STOCK, reason="none"),
        ],
        outcome=outcome,
    )
    return base.model_copy(update=changes)


RESTORED: dict[str, Any] = {
    "chosen_region": "US-1",
    "chosen_reason": "rank 1: 4 deployable",
    "instance_id": "BRK-NEW0001",
    "instance_name": "train-h100-us1",
    "address": "100.96.0.3",
    "hourly_price": Decimal("4.98"),
    "currency": "USD",
    "timeline": Timeline(requested_at=T0, active_after_s=192.4, address_after_s=192.4),
}


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "—"), (0.4, "0s"), (59.6, "1m"), (192, "3m 12s"), (3720, "1h 2m"), (-3, "0s")],
)
def test_format_seconds(seconds: float | None, text: str) -> None:
    assert format_seconds(seconds) == text


def test_markdown_says_where_why_how_fast_and_how_much() -> None:
    text = report(RestoreOutcome.RESTORED, **RESTORED).markdown()
    assert "region: **US-1**, because rank 1: 4 deployable" in text
    assert "hourly price: USD 4.98/h" in text
    assert "timings: ACTIVE 3m 12s, IP 3m 12s" in text
    assert "| CANADA-1 | out of stock |" in text


def test_restored_alert_is_info_and_clears_an_earlier_failure() -> None:
    alerts, cleared = restore_alerts(report(RestoreOutcome.RESTORED, **RESTORED))
    assert [(a.kind, a.severity) for a in alerts] == [(AlertKind.RESTORE_FINISHED, Severity.INFO)]
    assert alerts[0].title == "Restored train-h100 in US-1 as train-h100-us1"
    assert alerts[0].facts["hourly_price"] == Amount(value=Decimal("4.98"), currency="USD")
    assert [k.id for k in cleared] == ["restore-failed|instance|BRK-TRAIN01"]


def test_short_runway_makes_the_finished_alert_a_warning() -> None:
    low = report(RestoreOutcome.RESTORED, warnings=["balance lasts 3 h"], **RESTORED)
    alerts, _ = restore_alerts(low)
    assert alerts[0].severity is Severity.WARNING
    assert alerts[0].facts["warnings"] == ["balance lasts 3 h"]


@pytest.mark.parametrize(
    ("outcome", "severity", "changes", "action"),
    [
        (RestoreOutcome.BLOCKED, Severity.CRITICAL, {"reason": "balance low"}, None),
        (
            RestoreOutcome.TIMED_OUT,
            Severity.CRITICAL,
            {"cleanup": "left in CREATING", "cleanup_done": False},
            "delete the failed instance by hand",
        ),
        (RestoreOutcome.FAILED, Severity.CRITICAL, {"reason": "ERROR", "cleanup_done": True}, None),
        (RestoreOutcome.VERIFY_FAILED, Severity.WARNING, {}, "log in and check"),
    ],
)
def test_failure_alerts(
    outcome: RestoreOutcome, severity: Severity, changes: dict[str, object], action: str | None
) -> None:
    alerts, cleared = restore_alerts(report(outcome, **changes))
    assert [(a.kind, a.severity) for a in alerts] == [(AlertKind.RESTORE_FAILED, severity)]
    assert alerts[0].facts["reason"] == changes.get("reason", outcome.value)
    if action is None:
        assert "action_needed" not in alerts[0].facts
    else:
        assert action in str(alerts[0].facts["action_needed"])
    assert cleared == []


def test_refused_regions_are_facts_of_the_failure_alert() -> None:
    failed = report(
        RestoreOutcome.FAILED,
        attempts=[Attempt(region="US-1", name="n", result="refused", reason="OUT_OF_STOCK: x")],
    )
    alerts, _ = restore_alerts(failed)
    assert alerts[0].facts["refused_by"] == ["US-1: OUT_OF_STOCK: x"]


def test_dry_run_raises_nothing() -> None:
    assert restore_alerts(report(RestoreOutcome.WOULD_RESTORE, dry_run=True)) == ([], [])


# -- drills ---------------------------------------------------------------------------------


def drill(
    outcome: RestoreOutcome, cleanup_done: bool | None = True, **changes: Any
) -> RestoreReport:
    return report(outcome, mode="drill", cleanup_done=cleanup_done, **changes)


@pytest.mark.parametrize(
    ("line", "verdict", "ok"),
    [
        (drill(RestoreOutcome.RESTORED), "passed", True),
        (drill(RestoreOutcome.RESTORED, cleanup_done=False), "failed: clean-up", False),
        (drill(RestoreOutcome.TIMED_OUT), "failed: timed out", False),
        (drill(RestoreOutcome.WOULD_RESTORE, dry_run=True), "would restore", True),
    ],
)
def test_drill_verdict(line: RestoreReport, verdict: str, ok: bool) -> None:
    assert drill_verdict(line) == verdict
    assert line.ok is ok


def test_failed_drill_is_critical_and_passed_ones_resolve() -> None:
    passed = drill(RestoreOutcome.RESTORED, **RESTORED)
    failed = drill(
        RestoreOutcome.FAILED,
        reason="the restore ended in ERROR",
        source_instance_id="BRK-OTHER01",
        source_instance_name="other",
    )
    run = DrillReport(evaluated_at=T0, drills=[passed, failed])
    alerts, cleared = drill_alerts(run)
    assert [(a.kind, a.severity, a.subject.id) for a in alerts] == [
        (AlertKind.DRILL_FAILED, Severity.CRITICAL, "BRK-OTHER01")
    ]
    assert alerts[0].title == "Restore drill failed for other"
    assert [k.id for k in cleared] == ["drill-failed|instance|BRK-TRAIN01"]
    assert (
        run.summary_line() == "drilled 2 instance(s): 1 passed, 1 failed; slowest to ACTIVE 3m 12s"
    )


def test_all_drills_passed_is_one_info_alert() -> None:
    run = DrillReport(evaluated_at=T0, drills=[drill(RestoreOutcome.RESTORED, **RESTORED)])
    alerts, _ = drill_alerts(run)
    assert [(a.kind, a.severity) for a in alerts] == [(AlertKind.DRILL_SUCCEEDED, Severity.INFO)]
    assert alerts[0].facts["restore_times"] == ["train-h100: ACTIVE 3m 12s, IP 3m 12s"]


def test_leftover_drill_instance_is_a_failure_with_what_to_do() -> None:
    run = DrillReport(
        evaluated_at=T0,
        drills=[drill(RestoreOutcome.RESTORED, cleanup_done=False, cleanup="left in ERROR")],
    )
    alerts, _ = drill_alerts(run)
    assert alerts[0].kind is AlertKind.DRILL_FAILED
    assert "by hand" in str(alerts[0].facts["action_needed"])


def test_drill_history_rows() -> None:
    run = DrillReport(evaluated_at=T0, drills=[drill(RestoreOutcome.RESTORED, **RESTORED)])
    (row,) = run.history_rows()
    assert row["instance"] == "train-h100"
    assert row["snapshot_age_h"] == 2.0
    assert (row["from"], row["to"], row["outcome"]) == ("NORWAY-1", "US-1", "passed")
    assert row["to_active_s"] == 192.4


def test_dry_run_drill_raises_nothing() -> None:
    run = DrillReport(evaluated_at=T0, dry_run=True, drills=[drill(RestoreOutcome.BLOCKED)])
    assert drill_alerts(run) == ([], [])


@pytest.mark.parametrize(
    ("count", "limit", "week_day", "first"),
    [(3, 10, 0, ["a", "b", "c"]), (5, 2, 0, None), (5, 2, 7, None)],
)
def test_drill_order_rotates_weekly(
    count: int, limit: int, week_day: int, first: list[str] | None
) -> None:
    vms = [instance(n) for n in "abcde"[:count]]
    when = datetime(2026, 11, 23, tzinfo=UTC) + timedelta(days=week_day)
    chosen, deferred = drill_order(vms, limit, when)
    assert len(chosen) == min(count, limit)
    assert len(chosen) + len(deferred) == count
    assert {v.name for v in chosen} | {v.name for v in deferred} == set("abcde"[:count])
    if first is not None:
        assert [v.name for v in chosen] == first


def test_drill_order_covers_everyone_within_enough_weeks() -> None:
    vms = [instance(n) for n in "abcdefg"]
    monday = datetime(2026, 11, 23, tzinfo=UTC)
    seen: set[str] = set()
    for week in range(4):  # ceil(7 / 2) = 4
        chosen, _ = drill_order(vms, 2, monday + timedelta(weeks=week))
        seen |= {v.name for v in chosen}
    assert seen == set("abcdefg")


def test_drill_instances_are_recognised() -> None:
    assert is_drill_instance(instance("train-drill-1129", snapshot_id="snap-1"))
    assert not is_drill_instance(instance("train-drill-1129"))
    assert not is_drill_instance(instance("train-us1", snapshot_id="snap-1"))


# -- parameters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "exactly one source"),
        ({"snapshot_id": "s", "instance_name": "i"}, "exactly one source"),
        ({"snapshot_id": "s", "name": "x"}, "name: instance name must be 2-30"),
        ({"snapshot_id": "s", "name": "bad name"}, "may only contain"),
        ({"snapshot_id": "s", "targets": ["auto", "US-1"]}, "'auto' ranks every region"),
        ({"snapshot_id": "s", "targets": []}, "give at least one region"),
        ({"snapshot_id": "s", "targets": ["us 1"]}, "is not a region name"),
        ({"snapshot_id": "s", "colour": "red"}, "Extra inputs are not permitted"),
        ({"snapshot_id": "s", "wait_timeout_minutes": 0}, "greater than 0"),
        (
            {"snapshot_id": "s", "ssh": {"private_key_path": "a", "private_key_secret_block": "b"}},
            "not both",
        ),
    ],
)
def test_bad_parameters_name_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RestoreParams.model_validate(data)


def test_targets_are_normalised() -> None:
    params = RestoreParams(snapshot_id="s", targets=[" us-1", "SOURCE", "US-1", "canada-1"])
    assert params.targets == ["US-1", "source", "CANADA-1"]
    assert RestoreDrillParams().targets == ["source"]


def test_ssh_defaults() -> None:
    ssh = SSHVerification()
    assert (ssh.command, ssh.username, ssh.port) == ("nvidia-smi", "ubuntu", 22)


def test_idempotency_key_is_stable_per_request_and_run() -> None:
    key = idempotency_key("run-1", "snap-1", "US-1", "n1")
    assert key == idempotency_key("run-1", "snap-1", "US-1", "n1")
    assert key != idempotency_key("run-2", "snap-1", "US-1", "n1")
    assert key != idempotency_key("run-1", "snap-1", "CANADA-1", "n1")
    assert key.startswith("restore-")
    assert len(key) == 48


@pytest.mark.parametrize(
    ("text", "slug"), [("train-h100", "train-h100"), ("My Snap #1", "my-snap-1"), ("--", "source")]
)
def test_artifact_slug(text: str, slug: str) -> None:
    assert text_slug(text, fallback="source") == slug
