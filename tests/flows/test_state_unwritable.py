"""No disk, no alert? No: an unwritable state directory costs local state, never the alert
or the protective plan (issue #16, 6). Through Prefect's engine, against the simulator,
with the run guard's lock, the alert ledger and the balance history all under a state
directory that is full, read-only, or not a directory at all.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from barrack_ops.demo.receiver import NotificationReceiver
from flows.low_balance.flow import low_balance
from flows.low_balance.params import LowBalanceParams
from flows.low_balance.report import LowBalanceReport, ProtectionStatus
from notifications import Severity
from simulator.testing import SimHandle, running_simulator
from simulator.ticker import ClockTicker
from tasks.connection import BarrackConnection
from tests.helpers.disk import refuse_writes_under

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def demo_sim() -> Iterator[SimHandle]:
    with running_simulator("demo", seed=1, start=START) as sim:
        yield sim


@pytest.fixture(params=["full", "read-only", "not a directory"])
def state_dir(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    if request.param == "not a directory":
        blocker = tmp_path / "blocker"
        blocker.write_text("a file where the state directory's parent should be")
        return blocker / "state"
    directory = tmp_path / "state"
    directory.mkdir()
    code = errno.ENOSPC if request.param == "full" else errno.EROFS
    refuse_writes_under(monkeypatch, directory, code)
    return directory


def run(sim: SimHandle, **overrides: object) -> LowBalanceReport:
    base: dict[str, object] = {
        "account_name": "demo",
        "connection": BarrackConnection(base_url=sim.base_url),
        "now": sim.now(),
        "history_store": "file",
        "poll_seconds": 0.05,
        "max_poll_seconds": 0.2,
    }
    base.update(overrides)
    return asyncio.run(low_balance(LowBalanceParams.model_validate(base)))


def test_a_critical_alert_and_its_protection_survive_an_unwritable_state_dir(
    demo_sim: SimHandle,
    state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    demo_sim.reset()
    demo_sim.advance(25 * 3600)  # the runway is critical
    with NotificationReceiver() as receiver:
        monkeypatch.setenv("BARRACK_API_KEY", demo_sim.api_key)
        monkeypatch.setenv("BARRACK_NOTIFY_URLS", receiver.json_url("/ops"))
        monkeypatch.setenv("BARRACK_NOTIFY_STATE", "file")
        monkeypatch.setenv("BARRACK_NOTIFY_STATE_FILE", str(state_dir / "alerts.json"))
        monkeypatch.setenv("BARRACK_OPS_STATE_DIR", str(state_dir))
        monkeypatch.setenv("BARRACK_OPS_GUARD_MODE", "file")
        protection = {
            "enabled": True,
            "exempt_name_globs": ["llm-train-*", "inference-*", "batch-*"],
            "expendable_name_globs": ["dev-*", "notebook-*"],
            "max_actions": 1,
            "snapshot_wait_minutes": 2,
        }
        with caplog.at_level(logging.WARNING), ClockTicker(demo_sim, step=10, interval=0.02):
            report = run(demo_sim, protection=protection)
        (message,) = receiver.wait_for(1)

    assert report.severity is Severity.CRITICAL
    assert message.title is not None
    assert "critical" in message.title
    assert "Barrack credit runs out" in (message.body or "")
    assert report.protection is not None
    (step,) = report.protection.steps
    assert step.status is ProtectionStatus.DONE, report.markdown()
    warnings = " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    assert "run guard" in warnings  # the lost host lock is said, not hidden
    assert str(state_dir) in warnings or "state" in warnings


# -- the pieces: what still works on a read-only disk ------------------------------------


def test_an_existing_lock_file_still_excludes_on_a_read_only_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.common.guard_file import FileRunLock

    path = tmp_path / "locks" / "scope.lock"
    earlier = FileRunLock(path)  # the file exists from earlier runs
    assert earlier.try_acquire()
    earlier.release()
    refuse_writes_under(monkeypatch, tmp_path, errno.EROFS)
    first, second = FileRunLock(path), FileRunLock(path)
    assert first.try_acquire()
    assert not second.try_acquire()  # flock through a read-only descriptor
    first.release()
    assert second.try_acquire()
    second.release()


def test_the_alert_ledger_is_still_read_on_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from state.jsonfile import LockedJsonFile

    ledger = LockedJsonFile(tmp_path / "alerts.json", kind="alert ledger", version=1)
    ledger.write({"alerts": {"low-balance|account|demo": {"sent": 1}}})
    (tmp_path / "alerts.json.lock").unlink()  # not even the lock file is left to open
    refuse_writes_under(monkeypatch, tmp_path, errno.ENOSPC)
    assert ledger.read() == {"version": 1, "alerts": {"low-balance|account|demo": {"sent": 1}}}
    with pytest.raises(OSError, match="No space left"):
        ledger.write({"alerts": {}})


# -- hibernate-idle: its memory of warnings -------------------------------------------------


@pytest.fixture(scope="module")
def hibernate_sim() -> Iterator[SimHandle]:
    from simulator.scenarios import parse_scenario_yaml
    from tests.helpers.hibernate import SCENARIO
    from tests.helpers.hibernate import START as HIBERNATE_START

    with running_simulator(parse_scenario_yaml(SCENARIO), seed=1, start=HIBERNATE_START) as sim:
        yield sim


def test_a_hibernate_run_on_a_full_disk_warns_reports_and_hibernates_nothing_unwarned(
    hibernate_sim: SimHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from flows.hibernate_idle.report import Action
    from tests.helpers.hibernate import RUN_EVERY, actions, status
    from tests.helpers.hibernate import run as run_hibernate

    hibernate_sim.reset()
    monkeypatch.setenv("BARRACK_API_KEY", hibernate_sim.api_key)
    monkeypatch.setenv("BARRACK_OPS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("BARRACK_OPS_GUARD_MODE", "file")
    (tmp_path / "state").mkdir()
    refuse_writes_under(monkeypatch, tmp_path / "state", errno.ENOSPC)
    memory = tmp_path / "state" / "idle"  # run() keeps its file under this directory

    with caplog.at_level(logging.WARNING):
        first = run_hibernate(hibernate_sim, memory)
        hibernate_sim.advance(2 * RUN_EVERY)
        later = run_hibernate(hibernate_sim, memory)

    assert actions(first)["idle-a40"] is Action.WARNED
    assert "not saved" in first.state_store
    # nothing was remembered, so the later run warns again instead of hibernating
    assert actions(later)["idle-a40"] is Action.WARNED
    assert status(hibernate_sim, "idle-a40") == "ACTIVE"
    warnings = " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    assert "idle memory" in warnings
    assert "run guard" in warnings
