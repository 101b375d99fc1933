"""The failure hooks on real flow runs (Prefect test harness), delivering to the receiver."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from uuid import uuid4

import pytest

from notifications import (
    AlertKind,
    AlertLedger,
    NotificationConfigError,
    Notifier,
    SendDecision,
    Severity,
    failure_hooks,
    flow_failure_alert,
    recovery_hook,
)
from tests.helpers.receiver import FaultyReceiver

UI = "http://127.0.0.1:4200"
API_KEY = "brk_live_0123456789abcdef"


@pytest.fixture
def ui_url(prefect_harness: None) -> Iterator[str]:
    from prefect.settings import PREFECT_UI_URL, temporary_settings

    with temporary_settings({PREFECT_UI_URL: UI}):
        yield UI


@pytest.fixture
def notifier_factory(receiver: FaultyReceiver) -> Callable[[], Notifier]:
    store = AlertLedger.in_memory()  # shared by every notifier the hooks build, like a file
    return lambda: Notifier.from_urls(receiver.json_url("/ops"), store=store, timeout=5)


def make_flow(factory: Callable[[], Notifier]):  # type: ignore[no-untyped-def]
    from prefect import flow

    on_failure, on_crashed = failure_hooks(factory)

    @flow(
        name="nightly-snapshots-test",
        on_failure=[on_failure],
        on_crashed=[on_crashed],
        on_completion=[recovery_hook(factory)],
    )
    def nightly(fail: bool) -> str:
        if fail:
            raise RuntimeError(
                f"cannot reach https://bot:hunter2secret@api.example.com with key {API_KEY}"
            )
        return "ok"

    return nightly


@pytest.mark.usefixtures("ui_url")
def test_a_failing_flow_sends_a_critical_alert_with_its_link(
    receiver: FaultyReceiver,
    notifier_factory: Callable[[], Notifier],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BARRACK_API_KEY", API_KEY)
    nightly = make_flow(notifier_factory)
    state = nightly(fail=True, return_state=True)
    assert state.is_failed()
    (received,) = receiver.wait_for(1)
    flow_run_id = state.state_details.flow_run_id
    assert received.type == "failure"
    assert received.title is not None
    assert received.title.startswith("[critical] Flow nightly-snapshots-test failed: run ")
    body = received.body or ""
    assert "Flow `nightly-snapshots-test` · critical" in body
    assert "RuntimeError: cannot reach https://bot:****@api.example.com" in body
    assert f"[Open the flow run]({UI}/runs/flow-run/{flow_run_id})" in body
    assert "hunter2secret" not in body
    assert API_KEY not in body
    assert API_KEY not in (received.title or "")


@pytest.mark.usefixtures("ui_url")
def test_repeated_failures_page_once_and_success_resolves(
    receiver: FaultyReceiver, notifier_factory: Callable[[], Notifier]
) -> None:
    nightly = make_flow(notifier_factory)
    assert nightly(fail=True, return_state=True).is_failed()
    assert nightly(fail=True, return_state=True).is_failed()
    assert len(receiver.received) == 1  # the second failure is within the repeat interval
    assert nightly(fail=False) == "ok"
    received = receiver.wait_for(2)
    assert len(received) == 2
    assert (
        received[1].title
        == "[resolved] Flow nightly-snapshots-test failed: run "
        + ((received[0].title or "").rsplit("run ", 1)[1])
    )
    assert received[1].type == "success"
    assert nightly(fail=False) == "ok"
    assert len(receiver.received) == 2  # nothing open any more: no second "resolved"


@pytest.mark.usefixtures("prefect_harness")
def test_a_broken_notifier_does_not_change_the_flow_outcome(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> Notifier:
        raise NotificationConfigError(["BARRACK_NOTIFY_URLS entry 1 (slack://****): bad"])

    nightly = make_flow(broken)
    with caplog.at_level(logging.ERROR, logger="notifications.hooks"):
        state = nightly(fail=True, return_state=True)
    assert state.is_failed()
    with pytest.raises(RuntimeError, match="cannot reach"):
        state.result()
    assert "flow failure notification not sent" in caplog.text
    assert "slack://****" in caplog.text


@pytest.mark.usefixtures("ui_url")
def test_the_crash_hook(receiver: FaultyReceiver) -> None:
    from prefect import flow
    from prefect.client.schemas.objects import FlowRun
    from prefect.states import Crashed

    @flow(name="restore-drill-test")
    def drill() -> None:
        """Only its name is used."""

    run = FlowRun(name="brave-otter", flow_id=uuid4())
    _, on_crashed = failure_hooks(Notifier.from_urls(receiver.json_url("/ops")))
    on_crashed(drill, run, Crashed(message="Execution was cancelled by the runtime environment."))
    (received,) = receiver.wait_for(1)
    assert received.title == "[critical] Flow restore-drill-test crashed: run brave-otter"
    assert f"{UI}/runs/flow-run/{run.id}" in (received.body or "")
    assert "Execution was cancelled by the runtime environment." in (received.body or "")


def test_flow_failure_alert_is_critical_and_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_KEY", "pnu_0123456789abcdef")
    alert = flow_failure_alert(
        flow_name="low-balance",
        run_name="calm-heron",
        state_name="Failed",
        message="401 for token pnu_0123456789abcdef and password=hunter22 " + "x" * 600,
        run_url=None,
        crashed=False,
    )
    assert alert.kind is AlertKind.FLOW_FAILED
    assert alert.severity is Severity.CRITICAL
    assert alert.subject.id == "low-balance"
    error = str(alert.facts["error"])
    assert "pnu_0123456789abcdef" not in error
    assert "hunter22" not in error
    assert len(error) == 500
    assert alert.flow_run_url is None


def test_a_hook_given_a_notifier_instance(receiver: FaultyReceiver) -> None:
    from types import SimpleNamespace

    notifier = Notifier.from_urls(receiver.json_url("/ops"))
    on_failure, _ = failure_hooks(notifier)
    flow = SimpleNamespace(name="plain-flow")
    run = SimpleNamespace(name="run-1", id=uuid4())
    state = SimpleNamespace(name="Failed", message="boom")
    on_failure(flow, run, state)
    (outcome,) = notifier.open_alerts()
    assert outcome.kind is AlertKind.FLOW_FAILED
    assert len(receiver.wait_for(1)) == 1
    report = notifier.resolve(AlertKind.FLOW_FAILED, outcome.subject)
    assert [o.decision for o in report.outcomes] == [SendDecision.RESOLVED]
