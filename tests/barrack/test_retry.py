"""The retry rules, as a table."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from barrack._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    ServiceUnavailableError,
)
from barrack._retry import (
    RetryPolicy,
    backoff_delay,
    is_retryable,
    parse_retry_after,
    retry_delay,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("0", 0.0),
        ("3", 3.0),
        (" 1.5 ", 1.5),
        ("-4", 0.0),
        ("nan", None),
        ("inf", None),
        ("soon", None),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),
        ("Fri, 27 Nov 2026 12:01:00 GMT", 60.0),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, NOW) == expected


def _status(cls: type, status: int, **extra: object) -> object:
    return cls("x", status=status, code=f"HTTP_{status}", **extra)


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (APIConnectionError("reset", method="GET", path="/x"), True),
        (APITimeoutError("slow", method="GET", path="/x"), True),
        (_status(RateLimitError, 429), True),
        (_status(InternalServerError, 500), True),
        (_status(ServiceUnavailableError, 502), True),
        (_status(ServiceUnavailableError, 503), True),
        (_status(ServiceUnavailableError, 504), True),
        (_status(BadRequestError, 400), False),
        (_status(NotFoundError, 404), False),
        (_status(ConflictError, 409), False),
        (
            APIResponseValidationError("bad", method="GET", path="/x", status=200, request_id=None),
            False,
        ),
    ],
)
def test_is_retryable(error: object, retryable: bool) -> None:
    assert is_retryable(error) is retryable  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(1, 0.25, 0.5), (2, 0.5, 1.0), (3, 1.0, 2.0), (4, 2.0, 4.0), (10, 2.5, 5.0)],
)
def test_backoff_grows_then_caps_with_jitter_inside_bounds(
    attempt: int, low: float, high: float
) -> None:
    policy = RetryPolicy(initial_delay=0.5, multiplier=2, max_delay=5)
    rng = random.Random(7)
    delays = [backoff_delay(attempt, policy, rng) for _ in range(200)]
    assert all(low <= d <= high for d in delays)
    assert max(delays) - min(delays) > (high - low) / 2, "jitter should spread the waits"


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(max_retry_after=10)
    rng = random.Random(1)
    within = RateLimitError("slow down", status=429, code="RATE_LIMITED", retry_after=7)
    beyond = RateLimitError("slow down", status=429, code="RATE_LIMITED", retry_after=11)
    absent = RateLimitError("slow down", status=429, code="RATE_LIMITED")
    assert retry_delay(within, 1, policy, rng) == 7
    assert retry_delay(beyond, 1, policy, rng) is None
    assert 0.25 <= retry_delay(absent, 1, policy, rng) <= 0.5  # type: ignore[operator]


@pytest.mark.parametrize(("attempt", "gives_up"), [(1, False), (3, False), (4, True), (5, True)])
def test_attempt_limit(attempt: int, gives_up: bool) -> None:
    policy = RetryPolicy(max_attempts=4)
    error = _status(InternalServerError, 500)
    delay = retry_delay(error, attempt, policy, random.Random(0))  # type: ignore[arg-type]
    assert (delay is None) is gives_up


def test_non_retryable_never_waits() -> None:
    error = _status(NotFoundError, 404)
    assert retry_delay(error, 1, RetryPolicy(), random.Random(0)) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"initial_delay": -1}, {"multiplier": 0.5}, {"max_retry_after": -1}],
)
def test_policy_refuses_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
