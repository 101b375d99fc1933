"""The three clock modes, driven by an injected monotonic source (no sleeping)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from simulator.clock import ClockMode, SimClock, parse_clock_spec
from simulator.testing import running_simulator
from tests.simulator.conftest import START
from tests.simulator.helpers import deploy, payload


class FakeMonotonic:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("spec", "mode", "speed"),
    [
        ("manual", ClockMode.MANUAL, 0.0),
        ("real", ClockMode.REAL, 1.0),
        ("60", ClockMode.ACCELERATED, 60.0),
        (1, ClockMode.REAL, 1.0),
    ],
)
def test_clock_specs(spec: str | int, mode: ClockMode, speed: float) -> None:
    assert parse_clock_spec(spec) == (mode, speed)


@pytest.mark.parametrize("spec", ["fast", "0", "-5", "inf"])
def test_bad_clock_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="clock"):
        parse_clock_spec(spec)


def test_real_and_accelerated_clocks_follow_the_monotonic_source() -> None:
    source = FakeMonotonic()
    real = SimClock(ClockMode.REAL, 1.0, start=START, monotonic=source)
    fast = SimClock(ClockMode.ACCELERATED, 60.0, start=START, monotonic=source)
    manual = SimClock(ClockMode.MANUAL, start=START, monotonic=source)
    source.now += 2.5
    assert real.now() == START + timedelta(seconds=2.5)
    assert fast.now() == START + timedelta(minutes=2.5)
    assert manual.now() == START
    manual.advance(30)
    fast.advance(30)
    assert manual.now() == START + timedelta(seconds=30)
    assert fast.now() == START + timedelta(minutes=2.5, seconds=30)
    with pytest.raises(ValueError, match="negative"):
        manual.advance(-1)


def test_an_accelerated_server_finishes_a_deploy_in_real_seconds() -> None:
    source = FakeMonotonic()
    with (
        running_simulator("empty", clock=60, start=START, monotonic=source) as sim,
        sim.client() as api,
    ):
        assert sim.clock()["mode"] == "accelerated"
        assert sim.clock()["speed"] == 60
        created = payload(deploy(api), 201)
        source.now += 1.0  # one real second = one simulated minute
        assert payload(api.get(f"instances/{created['id']}/"))["status"] == "CREATING"
        source.now += 2.0
        assert payload(api.get(f"instances/{created['id']}/"))["status"] == "ACTIVE"
        assert sim.now() == START + timedelta(minutes=3)


def test_a_real_clock_server_moves_with_real_time() -> None:
    source = FakeMonotonic()
    with running_simulator("empty", clock="real", start=START, monotonic=source) as sim:
        source.now += 90
        assert sim.now() == START + timedelta(seconds=90)
        assert sim.clock()["mode"] == "real"


def test_one_big_jump_and_many_small_steps_end_in_the_same_state() -> None:
    def run(steps: list[int]) -> list[tuple[str, str, str]]:
        with running_simulator("demo", start=START, seed=3) as sim, sim.client() as api:
            ids = [vm["id"] for vm in payload(api.get("instances/", params={"status": "ACTIVE"}))]
            for iid in ids[:4]:
                payload(api.post(f"instances/{iid}/hibernate/"), 202)
            for step in steps:
                sim.advance(step)
            balance = payload(api.get("balance/"))["balance"]
            return [
                (vm["id"], vm["status"], balance)
                for vm in payload(api.get("instances/", params={"per_page": 100}))
            ]

    assert run([3 * 86400]) == run([3600] * 72)
