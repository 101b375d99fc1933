"""The limiter that follows the API's announced limit (``X-RateLimit-Limit``)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import httpx
import pytest

from barrack import AsyncBarrack
from barrack._ratelimit import RateLimiter, announced_rate, following_rate_limiter
from barrack._settings import BarrackSettings
from tests.barrack.conftest import API_KEY, Recorder, envelope

BALANCE = {"balance": "42.1700", "currency": "USD", "updated_at": "2026-11-27T12:00:00Z"}
_PORTS = itertools.count(20000)


def _base_url() -> str:
    # The following limiter is process-wide per base URL and key: one URL per test.
    return f"http://127.0.0.1:{next(_PORTS)}/api"


def _balance(limit: str | None) -> httpx.Response:
    headers = {"X-RateLimit-Limit": limit} if limit is not None else {}
    return httpx.Response(200, json=envelope("credit", BALANCE), headers=headers)


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20", 20.0),
        (" 2.5 ", 2.5),
        ("1e2", 100.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("0", None),
        ("-3", None),
        ("inf", None),
        ("nan", None),
    ],
)
def test_announced_rate_reads_the_header_value(value: str | None, expected: float | None) -> None:
    assert announced_rate(value) == expected


def test_an_open_limiter_never_waits_until_it_adopts_a_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(math.inf, clock=clock, sleep=clock.sleep)
    assert [limiter.reserve() for _ in range(50)] == [0.0] * 50
    limiter.adopt(4)
    waits = [limiter.reserve() for _ in range(4)]
    assert waits == pytest.approx([0.0, 0.25, 0.5, 0.75])


def test_adopting_a_lower_rate_spaces_the_next_reservations_more() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    assert limiter.reserve() == 0.0
    assert limiter.reserve() == pytest.approx(0.1)
    limiter.adopt(2)
    assert limiter.reserve() == pytest.approx(0.2)
    assert limiter.reserve() == pytest.approx(0.7)


@pytest.mark.parametrize("rate", [0, -1, math.inf, math.nan])
def test_adopt_refuses_nonsense(rate: float) -> None:
    with pytest.raises(ValueError, match="rate must be a positive finite number"):
        RateLimiter(5).adopt(rate)


def test_the_following_limiter_is_one_per_key_and_open() -> None:
    first = following_rate_limiter("https://x/api#follow-1")
    assert following_rate_limiter("https://x/api#follow-1") is first
    assert following_rate_limiter("https://x/api#follow-2") is not first
    assert math.isinf(first.rate)


async def test_a_following_client_adopts_the_announced_limit(recorder: Recorder) -> None:
    recorder.responses += [_balance("20"), _balance("20"), _balance("5")]
    async with AsyncBarrack(
        api_key=API_KEY,
        base_url=_base_url(),
        transport=httpx.MockTransport(recorder),
        follow_rate_limit=True,
    ) as client:
        limiter = client.rate_limiter
        assert limiter is not None
        assert math.isinf(limiter.rate), "open until told"
        await client.balance.get()
        assert limiter.rate == 20
        await client.balance.get()
        await client.balance.get()
        assert limiter.rate == 5, "a changed announcement is followed"


async def test_responses_without_the_header_leave_the_limiter_open(recorder: Recorder) -> None:
    recorder.responses += [_balance(None), _balance("garbage")]
    async with AsyncBarrack(
        api_key=API_KEY,
        base_url=_base_url(),
        transport=httpx.MockTransport(recorder),
        follow_rate_limit=True,
    ) as client:
        await client.balance.get()
        await client.balance.get()
        assert client.rate_limiter is not None
        assert math.isinf(client.rate_limiter.rate)


async def test_error_answers_announce_the_limit_too(recorder: Recorder) -> None:
    limited = httpx.Response(
        429,
        json={
            "success": False,
            "message": "slow down",
            "error": {"code": "RATE_LIMITED", "details": None},
            "request_id": "req-1",
        },
        headers={"X-RateLimit-Limit": "3", "Retry-After": "0"},
    )
    recorder.responses += [limited, _balance("3")]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with AsyncBarrack(
        api_key=API_KEY,
        base_url=_base_url(),
        transport=httpx.MockTransport(recorder),
        follow_rate_limit=True,
        sleep=sleep,
    ) as client:
        await client.balance.get()
        assert client.rate_limiter is not None
        assert client.rate_limiter.rate == 3
    assert len(recorder.requests) == 2, "the 429 was retried"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda url, t: AsyncBarrack(api_key=API_KEY, base_url=url, transport=t), None),
        (
            lambda url, t: AsyncBarrack(
                settings=BarrackSettings.load(
                    api_key=API_KEY, base_url=url, rate_limit=7, allow_insecure_http=True
                ),
                transport=t,
                follow_rate_limit=True,
            ),
            7.0,
        ),
    ],
    ids=["off-by-default", "a-configured-rate-wins"],
)
async def test_following_is_opt_in_and_a_configured_rate_wins(
    recorder: Recorder,
    make: Callable[[str, httpx.MockTransport], AsyncBarrack],
    expected: float | None,
) -> None:
    recorder.responses.append(_balance("20"))
    client = make(_base_url(), httpx.MockTransport(recorder))
    async with client:
        await client.balance.get()
        rate = client.rate_limiter.rate if client.rate_limiter is not None else None
        assert rate == expected
