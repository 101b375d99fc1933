"""Fixtures: one simulator per session (manual clock, fixed start), reset before each test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from simulator.testing import SimHandle, running_simulator

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
"""The simulated start of every test (a Monday, 12:00 UTC)."""


@pytest.fixture(scope="session")
def sim_server() -> Iterator[SimHandle]:
    """A simulator for the whole session: scenario ``empty``, manual clock, rate limit off."""
    with running_simulator("empty", seed=1, start=START) as handle:
        yield handle


@pytest.fixture
def sim(sim_server: SimHandle) -> SimHandle:
    """The session's simulator, back at the ``empty`` scenario's start (seed 1)."""
    sim_server.load_scenario("empty", seed=1)
    return sim_server


@pytest.fixture
def api(sim: SimHandle) -> Iterator[httpx.Client]:
    """An authorised client of the API (``/api``; paths end with ``/``)."""
    with sim.client(timeout=30) as client:
        yield client
