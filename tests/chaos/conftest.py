"""The chaos session for pytest: one per test session, figures printed at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chaos.session import ChaosSession

_SESSIONS: list[ChaosSession] = []


@pytest.fixture(scope="session")
def chaos(
    prefect_harness: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChaosSession]:
    """Simulators, a receiver, secrets and figures, shared by every chaos test."""
    from prefect.settings import PREFECT_API_URL

    api_url = PREFECT_API_URL.value()
    assert api_url, "the Prefect harness sets PREFECT_API_URL"
    with ChaosSession(tmp_path_factory.mktemp("chaos"), str(api_url)) as session:
        session.start_zygote()  # it imports in the background while the first tests run
        _SESSIONS.append(session)
        yield session


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the chaos figures after the run (the README's reliability figures)."""
    for session in _SESSIONS:
        terminalreporter.section("chaos figures")
        for line in session.figures.lines():
            terminalreporter.write_line(line)
