"""The notifier end to end against the real HTTP receiver: routing, per-destination results,
fallback, dedup across runs and restarts, repeat, escalation, resolution, digests."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import pytest

from notifications import (
    Alert,
    AlertKey,
    AlertKind,
    AlertLedger,
    Amount,
    DeliveryStatus,
    Notifier,
    NotifySettings,
    SendDecision,
    Severity,
    Subject,
)
from notifications.dedup import AlertRecord
from state import MemoryStore
from tests.helpers.receiver import FaultyReceiver
from tests.notifications.conftest import FakeClock

TRAIN_1 = Subject.for_instance("BRK-1A2B3C4", name="train-1", region="CANADA-1")


def snapshot_failed(
    severity: Severity = Severity.WARNING, subject: Subject = TRAIN_1, **facts: object
) -> Alert:
    return Alert(
        kind=AlertKind.SNAPSHOT_FAILED,
        severity=severity,
        subject=subject,
        facts={"error": "INVALID_STATE", **facts},
    )


def paths(receiver: FaultyReceiver) -> list[str]:
    return [n.path for n in receiver.received]


@pytest.fixture
def two_routes(receiver: FaultyReceiver, clock: FakeClock) -> Notifier:
    """An untagged chat webhook and a critical-only pager webhook."""
    return Notifier.from_urls(
        [receiver.json_url("/chat"), "critical=" + receiver.form_url("/pager")],
        now=clock,
        timeout=5,
    )


def test_critical_goes_to_the_pager_and_info_does_not(
    two_routes: Notifier, receiver: FaultyReceiver
) -> None:
    info = Alert(kind=AlertKind.SNAPSHOT_CREATED, severity=Severity.INFO, subject=TRAIN_1)
    report = two_routes.send(info)
    assert report.ok
    assert paths(receiver) == ["/chat"]
    receiver.clear()
    critical = snapshot_failed(Severity.CRITICAL)
    report = two_routes.send(critical)
    assert report.ok
    assert sorted(paths(receiver)) == ["/chat", "/pager"]
    (outcome,) = report.outcomes
    assert sorted(outcome.destinations) == sorted(d.display for d in two_routes.destinations)


def test_kind_tags_and_custom_routes(receiver: FaultyReceiver, clock: FakeClock) -> None:
    settings = NotifySettings(
        urls=" ".join(
            [
                "kind:low-balance=" + receiver.json_url("/finance"),
                "pager=" + receiver.json_url("/pager"),
            ]
        ),
        routes={"pager": Severity.CRITICAL},
    )
    notifier = Notifier.from_settings(settings, store=AlertLedger.in_memory(), now=clock)
    low = Alert(
        kind=AlertKind.LOW_BALANCE,
        severity=Severity.WARNING,
        subject=Subject.for_account("acme"),
        facts={"balance": Amount(value=Decimal("9.10"), currency="EUR")},
    )
    notifier.send([low, snapshot_failed(Severity.CRITICAL)])
    received = {n.path: n for n in receiver.wait_for(2)}
    assert set(received) == {"/finance", "/pager"}
    assert received["/finance"].title == "[warning] Low balance: acme"
    assert (
        received["/pager"].title == "[critical] Snapshot failed: train-1 (BRK-1A2B3C4) in CANADA-1"
    )


def test_one_destination_down_is_reported_and_logged_masked(
    receiver: FaultyReceiver,
    closed_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = f"json://ops:hunter2secret@127.0.0.1:{closed_port}/hooks/8f3a9c2e71d04b6e"
    notifier = Notifier.from_urls([receiver.json_url("/chat"), down], timeout=2)
    with caplog.at_level(logging.INFO):
        report = notifier.send(snapshot_failed())
    results = {d.destination: d for d in report.deliveries}
    up_display = f"json://127.0.0.1:{receiver.port}/****"
    down_display = f"json://ops:****@127.0.0.1:{closed_port}/****/****"
    assert set(results) == {up_display, down_display}
    assert results[up_display].status is DeliveryStatus.DELIVERED
    assert results[down_display].status is DeliveryStatus.FAILED
    assert "Connection error" in (results[down_display].reason or "")
    # The alert reached one destination: the report is ok, the failure is still listed.
    assert report.ok
    assert [d.destination for d in report.failed_deliveries] == [down_display]
    assert down_display in caplog.text
    assert "failed" in caplog.text
    everything = caplog.text + report.model_dump_json() + report.summary() + repr(notifier)
    assert "hunter2secret" not in everything
    assert "8f3a9c2e71d04b6e" not in everything


def test_all_destinations_down_never_raises(closed_port: int) -> None:
    notifier = Notifier.from_urls(f"json://127.0.0.1:{closed_port}/ops", timeout=2)
    report = notifier.send(snapshot_failed())
    assert not report.ok
    (outcome,) = report.undelivered
    assert outcome.note == "every destination failed"
    assert "1 alert(s) reached no destination" in report.summary()


def test_fallback_gets_alerts_whose_primaries_all_failed(
    receiver: FaultyReceiver, closed_port: int
) -> None:
    notifier = Notifier.from_urls(
        [
            f"json://127.0.0.1:{closed_port}/chat",
            "fallback=" + receiver.json_url("/fallback"),
        ],
        timeout=2,
    )
    report = notifier.send(snapshot_failed())
    assert report.ok
    (received,) = receiver.wait_for(1)
    assert received.path == "/fallback"
    assert received.body is not None
    assert received.body.startswith("_Sent to the fallback destination: every primary")
    # the masked destination, escaped for Markdown
    assert f"json://127.0.0.1:{closed_port}/\\*\\*\\*\\*" in received.body
    fallback = [d for d in report.deliveries if d.fallback]
    assert len(fallback) == 1
    assert fallback[0].ok


def test_fallback_stays_quiet_when_a_primary_succeeds(receiver: FaultyReceiver) -> None:
    notifier = Notifier.from_urls(
        [receiver.json_url("/chat"), "fallback=" + receiver.json_url("/fallback")], timeout=5
    )
    notifier.send(snapshot_failed(Severity.CRITICAL))
    assert paths(receiver) == ["/chat"]


def test_fallback_narrowed_by_severity(receiver: FaultyReceiver, closed_port: int) -> None:
    notifier = Notifier.from_urls(
        [
            f"json://127.0.0.1:{closed_port}/chat",
            "fallback,critical=" + receiver.json_url("/fallback"),
        ],
        timeout=2,
    )
    notifier.send(snapshot_failed(Severity.WARNING))
    assert receiver.received == []
    notifier.send(snapshot_failed(Severity.CRITICAL))
    assert paths(receiver) == ["/fallback"]


def test_unrouted_alert_is_reported(receiver: FaultyReceiver) -> None:
    notifier = Notifier.from_urls("critical=" + receiver.json_url("/pager"))
    report = notifier.send(snapshot_failed(Severity.INFO))
    assert report.deliveries == []
    (outcome,) = report.outcomes
    assert not outcome.delivered
    assert outcome.note == "no destination receives info snapshot-failed alerts"


def test_same_alert_twice_within_the_interval_goes_out_once(
    two_routes: Notifier, receiver: FaultyReceiver, clock: FakeClock
) -> None:
    first = two_routes.send(snapshot_failed())
    clock.advance(hours=1)
    second = two_routes.send(snapshot_failed())
    assert [o.decision for o in first.outcomes] == [SendDecision.NEW]
    assert [o.decision for o in second.outcomes] == [SendDecision.SUPPRESSED]
    assert second.deliveries == []
    assert len(receiver.received) == 1
    (open_alert,) = two_routes.open_alerts()
    assert open_alert.suppressed == 1


def test_dedup_across_runs_and_a_restart(
    receiver: FaultyReceiver, clock: FakeClock, tmp_path: Path
) -> None:
    ledger = tmp_path / "notifications.json"

    def run() -> Notifier:
        # A new notifier and a new store object each time: a new flow run, a new process.
        return Notifier.from_urls(
            receiver.json_url("/chat"), store=AlertLedger.in_file(ledger), now=clock, timeout=5
        )

    assert run().send(snapshot_failed()).outcomes[0].decision is SendDecision.NEW
    clock.advance(hours=2)
    assert run().send(snapshot_failed()).outcomes[0].decision is SendDecision.SUPPRESSED
    clock.advance(hours=4)
    repeat = run().send(snapshot_failed())
    assert repeat.outcomes[0].decision is SendDecision.REPEAT
    (first, second) = receiver.wait_for(2)
    assert second.title == first.title
    assert second.body is not None
    assert "Still open, open since 2025-05-01 02:00 UTC; 1 repeated report held back" in second.body


def test_repeat_interval_is_configurable(receiver: FaultyReceiver, clock: FakeClock) -> None:
    from datetime import timedelta

    notifier = Notifier.from_urls(
        receiver.json_url("/chat"), now=clock, repeat_interval=timedelta(minutes=30)
    )
    notifier.send(snapshot_failed())
    clock.advance(minutes=29)
    assert notifier.send(snapshot_failed()).outcomes[0].decision is SendDecision.SUPPRESSED
    clock.advance(minutes=1)
    assert notifier.send(snapshot_failed()).outcomes[0].decision is SendDecision.REPEAT


def test_worse_severity_goes_out_at_once(
    two_routes: Notifier, receiver: FaultyReceiver, clock: FakeClock
) -> None:
    two_routes.send(snapshot_failed(Severity.WARNING))
    clock.advance(minutes=5)
    report = two_routes.send(snapshot_failed(Severity.CRITICAL))
    assert report.outcomes[0].decision is SendDecision.ESCALATED
    assert sorted(paths(receiver)) == ["/chat", "/chat", "/pager"]
    escalation = receiver.received[-1]
    assert escalation.body is not None
    assert "Escalated from warning" in escalation.body
    clock.advance(minutes=5)
    # Back to warning: quiet until the interval has passed.
    assert two_routes.send(snapshot_failed(Severity.WARNING)).outcomes[0].decision is (
        SendDecision.SUPPRESSED
    )


def test_resolved_goes_out_once_and_only_after_an_alert(
    two_routes: Notifier, receiver: FaultyReceiver, clock: FakeClock
) -> None:
    nothing = two_routes.resolve(AlertKind.SNAPSHOT_FAILED, TRAIN_1)
    assert [o.decision for o in nothing.outcomes] == [SendDecision.NOT_OPEN]
    assert receiver.received == []

    two_routes.send(snapshot_failed(Severity.CRITICAL))
    receiver.clear()
    clock.advance(hours=1)
    resolved = two_routes.resolve(AlertKind.SNAPSHOT_FAILED, TRAIN_1)
    assert [o.decision for o in resolved.outcomes] == [SendDecision.RESOLVED]
    assert resolved.ok
    # The pager that was paged hears the all-clear too.
    assert sorted(paths(receiver)) == ["/chat", "/pager"]
    message = receiver.received[0]
    assert message.title == "[resolved] Snapshot failed: train-1 (BRK-1A2B3C4) in CANADA-1"
    assert message.type == "success"
    assert two_routes.open_alerts() == []

    again = two_routes.resolve(AlertKind.SNAPSHOT_FAILED, TRAIN_1)
    assert [o.decision for o in again.outcomes] == [SendDecision.NOT_OPEN]
    assert len(receiver.received) == 2

    # After resolution the same problem is new again.
    assert two_routes.send(snapshot_failed()).outcomes[0].decision is SendDecision.NEW


def test_low_balance_resolves_as_balance_recovered(
    receiver: FaultyReceiver, clock: FakeClock
) -> None:
    # Routed as the alert it resolves: the low-balance destination hears the recovery.
    notifier = Notifier.from_urls("kind:low-balance=" + receiver.json_url("/finance"), now=clock)
    account = Subject.for_account("acme")
    notifier.send(Alert(kind=AlertKind.LOW_BALANCE, severity=Severity.CRITICAL, subject=account))
    notifier.resolve(
        AlertKind.LOW_BALANCE,
        account,
        facts={"balance": Amount(value=Decimal("50"), currency="USD")},
    )
    resolved = receiver.wait_for(2)[1]
    assert resolved.path == "/finance"
    assert resolved.title == "[resolved] Balance recovered: acme"
    assert resolved.body is not None
    assert "- **Balance:** USD 50.00" in resolved.body


def test_a_failed_resolution_is_retried_next_time(
    receiver: FaultyReceiver, clock: FakeClock, closed_port: int, tmp_path: Path
) -> None:
    ledger = AlertLedger.in_file(tmp_path / "ledger.json")
    Notifier.from_urls(receiver.json_url("/chat"), store=ledger, now=clock).send(snapshot_failed())
    broken = Notifier.from_urls(f"json://127.0.0.1:{closed_port}/chat", store=ledger, now=clock)
    failed = broken.resolve(AlertKind.SNAPSHOT_FAILED, TRAIN_1)
    assert not failed.ok
    assert len(ledger.all()) == 1
    working = Notifier.from_urls(receiver.json_url("/chat"), store=ledger, now=clock)
    assert working.resolve(AlertKind.SNAPSHOT_FAILED, TRAIN_1).ok
    assert ledger.all() == {}


def test_dispatch_sends_one_digest_per_destination(
    two_routes: Notifier, receiver: FaultyReceiver, clock: FakeClock
) -> None:
    cleared_subject = Subject.for_instance("BRK-0000009", name="train-9", region="CANADA-1")
    two_routes.send(snapshot_failed(Severity.WARNING, cleared_subject))
    receiver.clear()
    failures = [
        snapshot_failed(
            Severity.CRITICAL if n == 1 else Severity.WARNING,
            Subject.for_instance(f"BRK-000000{n}", name=f"train-{n}", region="CANADA-1"),
        )
        for n in range(1, 4)
    ]
    report = two_routes.dispatch(
        alerts=failures,
        cleared=[AlertKey(kind=AlertKind.SNAPSHOT_FAILED, subject=cleared_subject)],
    )
    assert sorted(o.decision.value for o in report.outcomes) == ["new", "new", "new", "resolved"]
    received = {n.path: n for n in receiver.wait_for(2)}
    assert set(received) == {"/chat", "/pager"}
    assert received["/chat"].title == "[critical] 4 alerts: 3 snapshots failed, 1 resolved"
    # The pager only takes the critical one: a single-alert message, not a digest.
    assert received["/pager"].title == (
        "[critical] Snapshot failed: train-1 (BRK-0000001) in CANADA-1"
    )
    chat_body = received["/chat"].body or ""
    assert chat_body.count("`train-") == 4
    assert "Resolved: 1 snapshot failed" in chat_body


def test_same_key_twice_in_one_call_counts_once_at_its_worst(
    two_routes: Notifier, receiver: FaultyReceiver
) -> None:
    report = two_routes.send(
        [snapshot_failed(Severity.WARNING), snapshot_failed(Severity.CRITICAL)]
    )
    assert [o.severity for o in report.outcomes] == [Severity.CRITICAL]
    assert sorted(paths(receiver)) == ["/chat", "/pager"]


class BrokenStore(AlertLedger):
    def __init__(self) -> None:
        super().__init__(MemoryStore())

    def get(self, key: str) -> AlertRecord | None:
        raise OSError("disk on fire, password=hunter22")


def test_a_broken_ledger_sends_anyway_and_says_so(receiver: FaultyReceiver) -> None:
    notifier = Notifier.from_urls(receiver.json_url("/chat"), store=BrokenStore())
    report = notifier.send(snapshot_failed())
    assert len(receiver.received) == 1
    assert not report.ok
    assert report.problems
    assert "ledger read failed" in report.problems[0]
    assert "hunter22" not in report.problems[0]


def test_nothing_configured_is_quiet() -> None:
    report = Notifier().send(snapshot_failed())
    assert report.deliveries == []
    assert report.outcomes[0].note == "no notification destination is configured"


def test_describe_lists_destinations_and_what_they_receive(
    two_routes: Notifier, receiver: FaultyReceiver
) -> None:
    assert two_routes.describe() == [
        f"json://127.0.0.1:{receiver.port}/**** (markdown): alerts at or above info",
        f"form://127.0.0.1:{receiver.port}/**** [critical] (markdown): alerts at or above critical",
    ]


def test_flow_run_url_is_filled_in_inside_a_flow_run(receiver: FaultyReceiver) -> None:
    # Outside a run there is none; inside, see test_hooks (the run link in a flow).
    Notifier.from_urls(receiver.json_url("/chat")).send(snapshot_failed())
    (received,) = receiver.wait_for(1)
    assert "flow run" not in (received.body or "")


def test_invalid_notifier_options() -> None:
    from datetime import timedelta

    with pytest.raises(ValueError, match="repeat_interval"):
        Notifier(repeat_interval=timedelta(0))
    with pytest.raises(ValueError, match="timeout"):
        Notifier(timeout=0)


def test_destination_secrets_quoted_in_an_alert_are_masked(
    receiver: FaultyReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BARRACK_API_KEY", "brk_live_0123456789")
    monkeypatch.setenv("PREFECT_UI_URL", "http://127.0.0.1:4200")
    hook = "hooks/8f3a9c2e71d04b6e"
    notifier = Notifier.from_urls(receiver.json_url(hook))
    alert = snapshot_failed(error=f"POST /{hook} said 500; key brk_live_0123456789; see alerts")
    notifier.send(alert.with_changes(flow_run_url="http://127.0.0.1:4200/runs/flow-run/1f2e"))
    (received,) = receiver.wait_for(1)
    assert received.path == f"/{hook}"
    body = received.body or ""
    # masked first, then escaped for Markdown (escaping first would hide the secret from
    # the redactor: brk\_live\_...)
    assert r"- **Error:** POST /hooks/\*\*\*\* said 500; key \*\*\*\*; see alerts" in body
    assert "0123456789" not in body
    # Addresses are not secrets: the link to the run survives.
    assert "[Open the flow run](http://127.0.0.1:4200/runs/flow-run/1f2e)" in body
