"""State written by the release before the state package is read by this one.

The fixtures under ``tests/fixtures/state/`` were written by that release's own stores
(see the README there): the ledger, the hibernate-idle memory and the balance history as
files, and the Prefect Variables the same data made.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from flows.hibernate_idle.state import IdleMemory, InstanceState
from flows.hibernate_idle.streaks import IdleStreak
from flows.low_balance.history import BalanceSample
from flows.low_balance.history_store import BalanceHistory
from notifications import AlertKind, AlertLedger, Severity, Subject
from notifications.dedup import AlertRecord

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "state"
T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)

RECORDS = {
    "snapshot-failed|instance|BRK-1A2B3C4": AlertRecord(
        kind=AlertKind.SNAPSHOT_FAILED,
        subject=Subject.for_instance("BRK-1A2B3C4", name="train-1", region="US-1"),
        severity=Severity.WARNING,
        title="Snapshot failed: BRK-1A2B3C4",
        first_sent_at=T0,
        last_sent_at=T0 + timedelta(hours=1),
    ),
    "low-balance|account|acme": AlertRecord(
        kind=AlertKind.LOW_BALANCE,
        subject=Subject.for_account("acme"),
        severity=Severity.CRITICAL,
        title="Low balance: acme",
        first_sent_at=T0,
        last_sent_at=T0,
    ),
}
STATES = {
    "BRK-AAAA111": InstanceState(warned_at=T0, last_idle_at=T0 + timedelta(minutes=30)),
    "BRK-BBBB222": InstanceState(
        last_idle_at=T0,
        streak=IdleStreak(
            since=T0,
            last_seen=T0 + timedelta(minutes=30),
            observations=3,
            max_util_pct=2.5,
            util_sum=4.0,
            max_memory_mib=512.0,
            largest_gap_seconds=900,
        ),
    ),
}
SAMPLES = [
    BalanceSample(
        T0 + timedelta(hours=i), Decimal("1000.50") - 10 * i, 0 if i < 3 else 1, Decimal("9.75")
    )
    for i in range(5)
]


@pytest.fixture
def old_files(tmp_path: Path) -> Path:
    for name in ("notifications.json", "hibernate-idle-nightly-idle.json", "low-balance-acme.json"):
        shutil.copy(FIXTURES / name, tmp_path / name)
        assert json.loads((tmp_path / name).read_text())["version"] == 1
    return tmp_path


def test_the_old_ledger_file_is_read_and_upgraded_on_change(old_files: Path) -> None:
    path = old_files / "notifications.json"
    ledger = AlertLedger.in_file(path)
    assert ledger.all() == RECORDS
    ledger.delete("low-balance|account|acme")
    on_disk = json.loads(path.read_text())
    assert on_disk["version"] == 2
    assert AlertLedger.in_file(path).all() == {
        "snapshot-failed|instance|BRK-1A2B3C4": RECORDS["snapshot-failed|instance|BRK-1A2B3C4"]
    }
    assert not list(old_files.glob("*.corrupt-*"))


def test_the_old_hibernate_memory_file_is_read_and_upgraded_on_change(old_files: Path) -> None:
    path = old_files / "hibernate-idle-nightly-idle.json"
    memory = IdleMemory.in_file(path)
    assert asyncio.run(memory.load()) == STATES
    asyncio.run(memory.save({"BRK-AAAA111": None}))
    assert json.loads(path.read_text())["version"] == 2
    assert asyncio.run(IdleMemory.in_file(path).load()) == {"BRK-BBBB222": STATES["BRK-BBBB222"]}


def test_the_old_balance_history_file_is_read_and_upgraded_on_change(old_files: Path) -> None:
    path = old_files / "low-balance-acme.json"
    history = BalanceHistory.in_file(path, "acme")
    assert asyncio.run(history.load("USD")) == SAMPLES
    assert asyncio.run(history.load("EUR")) == []
    asyncio.run(history.save("USD", SAMPLES[1:]))
    assert json.loads(path.read_text())["version"] == 2
    assert asyncio.run(BalanceHistory.in_file(path, "acme").load("USD")) == SAMPLES[1:]


@pytest.mark.usefixtures("prefect_harness")
def test_the_old_prefect_variables_are_read() -> None:
    from prefect.variables import Variable

    variables: dict[str, dict[str, Any]] = json.loads(
        (FIXTURES / "prefect-variables.json").read_text()
    )
    for name, variable in variables.items():
        Variable.set(name, variable["value"], tags=variable["tags"], overwrite=True, _sync=True)  # type: ignore[call-overload]
    try:
        ledger = AlertLedger.in_prefect()
        for key, record in RECORDS.items():
            assert ledger.get(key) == record
        assert RECORDS.items() <= ledger.all().items()
        memory = IdleMemory.in_prefect("nightly-idle")
        assert asyncio.run(memory.load()) == STATES
        history = BalanceHistory.in_prefect("acme")
        assert asyncio.run(history.load("USD")) == SAMPLES
        # Written again, in the store's shape, under the same names.
        asyncio.run(history.save("USD", SAMPLES[2:]))
        assert history.variable_name is not None
        assert Variable.get(history.variable_name, _sync=True)["key"] == "acme"  # type: ignore[call-overload]
        assert asyncio.run(BalanceHistory.in_prefect("acme").load("USD")) == SAMPLES[2:]
    finally:
        for name in variables:
            Variable.unset(name, _sync=True)  # type: ignore[call-overload]
