"""The shared client-side rate limiter, on a fake clock."""

from __future__ import annotations

import threading

import pytest

from barrack._ratelimit import RateLimiter, shared_rate_limiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_reservations_are_spaced_by_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=4, clock=clock, sleep=clock.sleep)
    waits = [limiter.reserve() for _ in range(5)]
    assert waits == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_burst_allows_back_to_back_requests_after_idle() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock, sleep=clock.sleep)
    assert [limiter.reserve() for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]
    clock.now += 10
    assert [limiter.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]


async def test_acquire_sleeps_until_its_slot() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=10, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await limiter.acquire()
    assert clock.slept == pytest.approx([0.1, 0.1])


def test_pause_holds_everyone_back() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=100, clock=clock, sleep=clock.sleep)
    limiter.pause(5)
    assert limiter.reserve() == pytest.approx(5)
    assert limiter.reserve() == pytest.approx(5.01)


def test_threads_never_share_a_slot() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=1000, clock=clock, sleep=clock.sleep)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(250):
            w = limiter.reserve()
            with lock:
                waits.append(w)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(round(w * 1000) for w in waits) == list(range(1000))


def test_shared_limiter_is_one_per_key() -> None:
    a = shared_rate_limiter("https://x/api#k1", 5)
    assert shared_rate_limiter("https://x/api#k1", 5) is a
    assert shared_rate_limiter("https://x/api#k2", 5) is not a


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_refuses_nonsense(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="must"):
        RateLimiter(rate, burst)
