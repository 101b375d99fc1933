"""Where balance samples live between runs: a JSON file, a Prefect Variable, memory."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from flows.low_balance.history import BalanceSample
from flows.low_balance.history_store import (
    MAX_ENCODED_CHARS,
    BalanceHistory,
    decode_history,
    encode_history,
    history_slug,
    select_history_store,
)
from state import FileStore, MemoryStore, PrefectVariableStore, forget_reachability
from tests.flows.test_low_balance_factories import T0, d


def samples(count: int, start_balance: int = 5000) -> list[BalanceSample]:
    return [
        BalanceSample(
            T0 + timedelta(minutes=30 * n),
            d(start_balance) - d("10.1234") * n,
            n // 10,
            d("20.2468"),
        )
        for n in range(count)
    ]


def test_encoding_round_trips_exactly() -> None:
    original = samples(5)
    assert decode_history(encode_history("USD", original), "USD") == original
    assert decode_history(json.loads(json.dumps(encode_history("INR", original))), "INR") == (
        original
    )


def test_a_history_in_another_currency_is_not_used() -> None:
    assert decode_history(encode_history("USD", samples(3)), "EUR") == []


def test_the_encoding_fits_a_prefect_variable_keeping_the_newest() -> None:
    many = samples(400)
    value = encode_history("USD", many)
    assert len(json.dumps(value, separators=(",", ":"))) <= MAX_ENCODED_CHARS
    kept = decode_history(value, "USD")
    assert 50 < len(kept) < 400
    assert kept == many[-len(kept) :]


@pytest.mark.parametrize(
    "value",
    [
        None,
        [],
        {"version": 2, "currency": "USD", "samples": []},
        {"version": 1, "currency": "USD", "samples": "no"},
        {"version": 1, "currency": "USD", "samples": [[1, "x", 0, "1"]]},
        {"version": 1, "currency": "USD", "samples": [["t", "1", 0, "1"]]},
        {"version": 1, "currency": "USD", "samples": [[1, "1", 0]]},
    ],
)
def test_malformed_histories_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match=r"balance history|malformed|samples"):
        decode_history(value, "USD")


def load(store: BalanceHistory, currency: str = "USD") -> list[BalanceSample]:
    return asyncio.run(store.load(currency))


def save(store: BalanceHistory, history: list[BalanceSample], currency: str = "USD") -> None:
    asyncio.run(store.save(currency, history))


def select(mode: str, account: str, path: Path | None = None) -> BalanceHistory:
    return asyncio.run(select_history_store(mode, account, path))  # type: ignore[arg-type]


def test_file_history_round_trip_without_leftovers(tmp_path: Path) -> None:
    path = tmp_path / "state" / "low-balance-acme.json"
    store = BalanceHistory.in_file(path, "acme")
    assert load(store) == []
    save(store, samples(3))
    save(store, samples(4))
    assert load(BalanceHistory.in_file(path, "acme")) == samples(4)  # a new process reads it
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".lock"]
    assert store.describe() == f"file {path}"


def test_a_corrupt_file_is_moved_aside_and_the_history_restarts(tmp_path: Path) -> None:
    path = tmp_path / "low-balance-acme.json"
    path.write_text("{not json", encoding="utf-8")
    store = BalanceHistory.in_file(path, "acme")
    assert load(store) == []
    assert not path.exists()
    assert len(list(tmp_path.glob("low-balance-acme.json.corrupt-*"))) == 1
    save(store, samples(2))
    assert load(store) == samples(2)


def test_concurrent_writers_never_leave_a_torn_file(tmp_path: Path) -> None:
    path = tmp_path / "h.json"
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for _ in range(20):
                save(BalanceHistory.in_file(path), samples(n))
                assert len(load(BalanceHistory.in_file(path))) in (5, 9)
        except BaseException as error:  # collected for the main thread
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in (5, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_memory_history() -> None:
    store = BalanceHistory.in_memory()
    assert load(store) == []
    save(store, samples(2))
    assert load(store) == samples(2)
    assert load(store, "INR") == []


def test_store_selection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.setenv("BARRACK_OPS_STATE_DIR", str(tmp_path))
    assert isinstance(select("memory", "acme").store, MemoryStore)
    file_store = select("file", "Acme Corp.")
    assert isinstance(file_store.store, FileStore)
    assert file_store.path == tmp_path / "low-balance-acme-corp.json"
    explicit = select("file", "acme", tmp_path / "x.json")
    assert explicit.path == tmp_path / "x.json"
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert isinstance(select("auto", "acme").store, FileStore)
    prefect_store = select("prefect", "acme")
    assert isinstance(prefect_store.store, PrefectVariableStore)
    assert prefect_store.variable_name == "barrack-ops-balance-history--acme"


@pytest.mark.parametrize(
    ("account", "slug"), [("acme", "acme"), ("Acme_Corp.EU", "acme-corp-eu"), ("--", "account")]
)
def test_history_slug(account: str, slug: str) -> None:
    assert history_slug(account) == slug


def test_variable_names_are_checked() -> None:
    with pytest.raises(ValueError, match="Prefect Variable names allow"):
        BalanceHistory.in_prefect("x" * 300)


def test_prefect_variable_history(prefect_harness: None) -> None:
    """Against the real Prefect API of the test harness."""
    from prefect.variables import Variable

    forget_reachability()
    store = select("auto", "acme-var-test")
    assert isinstance(store.store, PrefectVariableStore)
    assert load(store) == []
    save(store, samples(3))
    save(store, samples(6))  # updates the same Variable
    assert load(BalanceHistory.in_prefect("acme-var-test")) == samples(6)
    assert load(store, "EUR") == []
    assert store.describe() == "prefect variable barrack-ops-balance-history--acme-var-test"
    # Someone else's value under the name: ignored, not fatal.
    assert store.variable_name is not None
    Variable.set(store.variable_name, {"hello": "world"}, overwrite=True)
    assert load(store) == []
