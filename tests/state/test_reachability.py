"""Is a Prefect API there? Asked once per run, without blocking the event loop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

import state.reachability
from state import forget_reachability, prefect_api_reachable, resolve_mode


@pytest.fixture(autouse=True)
def fresh_answers() -> Iterator[None]:
    forget_reachability()
    yield
    forget_reachability()


@pytest.fixture
def health_checks(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Count the real health checks (each still asks the API)."""
    calls: list[float] = []
    real = state.reachability._health_check

    async def counted(wait: float) -> bool:
        calls.append(wait)
        return await real(wait)

    monkeypatch.setattr(state.reachability, "_health_check", counted)
    return calls


def test_without_an_api_url_nothing_is_asked(health_checks: list[float]) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert asyncio.run(prefect_api_reachable()) is False
    assert health_checks == []


def test_outside_a_flow_run_the_process_asks_once_per_api(
    health_checks: list[float], closed_port: int
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{closed_port}/api"}):
        for _ in range(3):
            assert asyncio.run(prefect_api_reachable(wait=1)) is False
            assert asyncio.run(resolve_mode("auto")) == "file"
    assert len(health_checks) == 1
    with temporary_settings({PREFECT_API_URL: f"http://localhost:{closed_port}/api"}):
        assert asyncio.run(prefect_api_reachable(wait=1)) is False
    assert len(health_checks) == 2  # another API: asked again


def test_the_mode_setting_skips_the_question(
    health_checks: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BARRACK_OPS_STATE", "memory")
    assert asyncio.run(resolve_mode("auto")) == "memory"
    assert asyncio.run(resolve_mode("file")) == "file"  # a store's own setting wins
    monkeypatch.setenv("BARRACK_OPS_STATE", "nowhere")
    with pytest.raises(ValueError, match="BARRACK_OPS_STATE='nowhere'"):
        asyncio.run(resolve_mode("auto"))
    assert health_checks == []


async def _serve_prefect_health(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    request = await reader.readuntil(b"\r\n\r\n")
    path = request.split(b" ", 2)[1].decode()
    body = json.dumps(True if path.endswith("/health") else {}).encode()
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    writer.close()


def test_the_check_leaves_the_event_loop_free(health_checks: list[float]) -> None:
    """The API answering it runs on the same event loop as the check.

    A check that blocked the loop (a synchronous request) would keep that server from
    ever answering, and would report the API unreachable after its timeout.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def main() -> bool:
        server = await asyncio.start_server(_serve_prefect_health, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{port}/api"}):
                return await prefect_api_reachable(wait=10)

    assert asyncio.run(main()) is True
    assert len(health_checks) == 1


@pytest.mark.usefixtures("prefect_harness")
def test_each_flow_run_asks_once(health_checks: list[float], tmp_path: object) -> None:
    from prefect import flow

    from flows.common.guard import GuardSettings, exclusive_run
    from notifications.state import select_store

    @flow
    async def recipe() -> list[str]:
        modes = [await resolve_mode("auto") for _ in range(3)]
        guard = GuardSettings(mode="auto", lock_dir=str(tmp_path))  # type: ignore[arg-type]
        async with exclusive_run("test-recipe", "once", settings=guard) as held:
            assert held is not None
            assert held.lease_id is not None  # auto found the API: the Prefect slot too
        ledger = select_store("auto")
        return [*modes, (await ledger.store()).describe()]

    first = asyncio.run(recipe())
    assert first[:3] == ["prefect", "prefect", "prefect"]
    assert first[3].startswith("prefect variables")
    assert len(health_checks) == 1
    asyncio.run(recipe())
    assert len(health_checks) == 2  # a new run asks again
