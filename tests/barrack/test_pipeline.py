"""The request pipeline: errors, retries, idempotency keys, pagination, secrets."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import ClassVar

import httpx
import pytest

from barrack import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    APIUnreachableError,
    AsyncBarrack,
    AuthenticationError,
    BadRequestError,
    BarrackSettings,
    ConfigurationError,
    DuplicateNameError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidStateError,
    NotFoundError,
    OutOfStockError,
    RateLimitError,
    RegionIncompatibleError,
    RequestValidationError,
    ServiceUnavailableError,
    SnapshotDeletedError,
)
from barrack._wire import ERROR_STATUS
from tests.barrack.conftest import API_KEY, FakeSleep, Recorder, envelope, error_body, flat

BALANCE = {"balance": "42.1700", "currency": "USD", "updated_at": "2026-11-27T12:00:00Z"}


def ok(key: str, payload: object, status: int = 200, **kwargs: object) -> httpx.Response:
    return httpx.Response(status, json=envelope(key, payload, **kwargs))  # type: ignore[arg-type]


async def test_success_parses_money_and_sends_the_key(
    make_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    recorder.responses.append(ok("credit", BALANCE))
    balance = await make_client().balance.get()
    assert balance.balance == Decimal("42.1700")
    request = recorder.requests[0]
    assert request.method == "GET"
    assert request.url.path == "/api/balance/"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert "Idempotency-Key" not in request.headers


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("VALIDATION_ERROR", BadRequestError),
        ("UNAUTHORIZED", AuthenticationError),
        ("INSUFFICIENT_CREDITS", InsufficientCreditsError),
        ("NOT_FOUND", NotFoundError),
        ("DUPLICATE_NAME", DuplicateNameError),
        ("INVALID_STATE", InvalidStateError),
        ("OUT_OF_STOCK", OutOfStockError),
        ("SNAPSHOT_DELETED", SnapshotDeletedError),
        ("REGION_INCOMPATIBLE", RegionIncompatibleError),
    ],
)
async def test_error_codes_map_to_the_tree(
    make_client: Callable[..., AsyncBarrack], recorder: Recorder, code: str, cls: type
) -> None:
    status = ERROR_STATUS[code]
    recorder.responses.append(
        httpx.Response(status, json=error_body(code, "it broke", resource="snapshot"))
    )
    with pytest.raises(cls) as caught:
        await make_client().snapshots.get("snap-1")
    err = caught.value
    assert (err.status, err.code, err.message) == (status, code, "it broke")
    assert err.details == {"resource": "snapshot"}
    assert err.request_id == "req-123"
    assert len(recorder.requests) == 1, "4xx are never retried"


async def test_invalid_state_exposes_current_and_allowed(
    make_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    recorder.responses.append(
        httpx.Response(
            409,
            json=error_body("INVALID_STATE", current_status="SHUTOFF", allowed=["ACTIVE"]),
        )
    )
    with pytest.raises(InvalidStateError) as caught:
        await make_client().instances.hibernate("BRK-1234567")
    assert caught.value.current_status == "SHUTOFF"
    assert caught.value.allowed == ["ACTIVE"]


async def test_transient_errors_are_retried_with_one_idempotency_key(
    make_client: Callable[..., AsyncBarrack], recorder: Recorder, fake_sleep: FakeSleep
) -> None:
    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("peer closed connection", request=request)

    snapshot = {
        "id": "snap-1",
        "name": "nightly",
        "status": "CREATING",
        "region": "NORWAY-1",
        "created_at": "2026-11-27T02:00:00Z",
    }
    recorder.responses += [
        httpx.Response(503, json=error_body("UNAVAILABLE")),
        drop,
        httpx.Response(502, text="<html><body>Bad gateway</body></html>"),
        ok("snapshot", snapshot, status=201),
    ]
    snap = await make_client().snapshots.create(instance_id="BRK-1234567", name="nightly")
    assert snap.id == "snap-1"
    keys = {r.headers["Idempotency-Key"] for r in recorder.requests}
    assert len(recorder.requests) == 4
    assert len(keys) == 1, "every attempt of one call carries the same key"
    assert len(fake_sleep.waits) == 3


async def test_separate_calls_get_separate_idempotency_keys(
    make_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    recorder.default = lambda request: httpx.Response(
        202, json=flat(instance_id="BRK-1234567", status="HIBERNATING", tier="legacy")
    )
    client = make_client()
    first = await client.instances.hibernate("BRK-1234567")
    await client.instances.hibernate("BRK-1234567")
    assert (first.instance_id, first.status, first.tier) == (
        "BRK-1234567",
        "HIBERNATING",
        "legacy",
    )
    keys = [r.headers["Idempotency-Key"] for r in recorder.requests]
    assert keys[0] != keys[1]


async def test_caller_supplied_idempotency_key_is_sent(
    make_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    recorder.responses.append(httpx.Response(409, json=error_body("DUPLICATE_NAME")))
    with pytest.raises(DuplicateNameError):
        await make_client().snapshots.create(
            instance_id="BRK-1234567", name="n", idempotency_key="slot-2026-11-27"
        )
    assert recorder.requests[0].headers["Idempotency-Key"] == "slot-2026-11-27"


async def test_gives_up_after_the_attempt_limit(
    make_client: Callable[..., AsyncBarrack], recorder: Recorder, fake_sleep: FakeSleep
) -> None:
    recorder.default = lambda request: httpx.Response(500, json=error_body("INTERNAL"))
    with pytest.raises(InternalServerError):
        await make_client().balance.get()
    assert len(recorder.requests) == 4
    assert len(fake_sleep.waits) == 3
    assert fake_sleep.waits == sorted(fake_sleep.waits) or max(fake_sleep.waits) <= 4


async def test_retry_after_is_honoured_and_pauses_the_limiter(
    make_client: Callable[..., AsyncBarrack], recorder: Recorder, fake_sleep: FakeSleep
) -> None:
    from barrack import RateLimiter

    class SpyLimiter(RateLimiter):
        paused: ClassVar[list[float]] = []

        def pause(self, seconds: float) -> None:
            self.paused.append(seconds)

    limiter = SpyLimiter(rate=1000)
    recorder.responses += [
        httpx.Response(429, json=error_body("RATE_LIMITED"), headers={"Retry-After": "2"}),
        ok("credit", BALANCE),
    ]
    await make_client(rate_limiter=limiter).balance.get()
    assert fake_sleep.waits[0] == 2
    assert limiter.paused == [2], "the 429 held every caller of the limiter back"


async def test_retry_after_beyond_the_cap_is_raised(
    make_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    recorder.responses.append(
        httpx.Response(429, json=error_body("RATE_LIMITED"), headers={"Retry-After": "3600"})
    )
    with pytest.raises(RateLimitError) as caught:
        await make_client().balance.get()
    assert caught.value.retry_after == 3600


async def test_timeouts_and_connection_errors_are_their_own_classes(
    make_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    recorder.default = timeout
    with pytest.raises(APITimeoutError):
        await make_client().balance.get()
    recorder.default = refused
    with pytest.raises(APIConnectionError) as caught:
        await make_client().balance.get()
    assert not isinstance(caught.value, APITimeoutError)


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (200, b"", APIResponseValidationError),
        (200, b"<html>oops</html>", APIResponseValidationError),
        (200, b'{"success": true, "credit": {"balance": "12", "currency": 3}}', None),
        # The old generic wrapper is no longer the payload: no ``credit`` key, no balance.
        (200, b'{"success": true, "data": {"balance": "12", "currency": "USD"}}', None),
        (502, b"<html>Bad Gateway</html>", ServiceUnavailableError),
        (503, b"", ServiceUnavailableError),
    ],
)
async def test_malformed_responses_raise_clear_errors(
    make_client: Callable[..., AsyncBarrack],
    recorder: Recorder,
    status: int,
    body: bytes,
    cls: type | None,
) -> None:
    recorder.default = lambda request: httpx.Response(status, content=body)
    expected = cls or APIResponseValidationError
    with pytest.raises(expected) as caught:
        await make_client().balance.get()
    assert "balance" in str(caught.value) or status >= 500


async def test_bad_request_never_reaches_the_wire(
    make_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    with pytest.raises(RequestValidationError) as caught:
        await make_client().snapshots.create(instance_id="BRK-1234567", name="x" * 51)
    assert caught.value.errors[0][0] == "name"
    assert "snapshots.create" in str(caught.value)
    with pytest.raises(RequestValidationError, match="per_page"):
        make_client().instances.list(per_page=500)
    assert recorder.requests == []


async def test_pagination_is_lazy_and_complete(
    make_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    def page(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params["page"])
        per_page = int(request.url.params["per_page"])
        snaps = [
            {
                "id": f"snap-{number}-{i}",
                "name": f"s{number}{i}",
                "status": "SUCCESS",
                "region": "US-1",
                "created_at": "2026-11-27T02:00:00Z",
            }
            for i in range(per_page if number < 3 else 1)
        ]
        pagination = {"page": number, "per_page": per_page, "total": 5, "total_pages": 3}
        return ok("snapshots", snaps, pagination=pagination)

    recorder.default = page
    paginator = make_client().snapshots.list(region="US-1", per_page=2)
    assert recorder.requests == [], "nothing is fetched before iteration"
    seen = []
    async for snap in paginator:
        seen.append(snap.id)
        if len(seen) == 1:
            assert len(recorder.requests) == 1, "later pages are fetched only when reached"
    assert seen == ["snap-1-0", "snap-1-1", "snap-2-0", "snap-2-1", "snap-3-0"]
    assert [r.url.params["page"] for r in recorder.requests] == ["1", "2", "3"]
    assert all(r.url.params["region"] == "US-1" for r in recorder.requests)
    single = await paginator.get_page(2)
    assert [s.id for s in single.items] == ["snap-2-0", "snap-2-1"]
    assert single.has_next


async def test_the_key_never_shows_in_reprs_errors_or_logs(
    make_client: Callable[..., AsyncBarrack],
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder.responses += [
        httpx.Response(503, json=error_body("UNAVAILABLE")),
        httpx.Response(401, json=error_body("UNAUTHORIZED", "bad key")),
    ]
    client = make_client()
    with pytest.raises(AuthenticationError) as caught:
        await client.balance.get()
    texts = [repr(client), repr(client.settings), str(caught.value), repr(caught.value)]
    texts += [record.getMessage() for record in caplog.records]
    assert any("retrying GET /balance/" in t for t in texts), "the retry was logged"
    assert all(API_KEY not in text for text in texts)


def test_missing_key_is_a_clear_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BARRACK_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="BARRACK_API_KEY"):
        AsyncBarrack(base_url="http://127.0.0.1:9/api")


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BARRACK_API_KEY", API_KEY)
    monkeypatch.setenv("BARRACK_BASE_URL", "https://barrack.example/api/")
    monkeypatch.setenv("BARRACK_TIMEOUT", "12.5")
    settings = BarrackSettings.load()
    assert settings.base_url == "https://barrack.example/api"
    assert settings.timeout == 12.5
    assert API_KEY not in repr(settings)


@pytest.mark.parametrize(
    ("base_url", "problem"),
    [
        ("ftp://x/api", "absolute http"),
        ("http://api.barrack.example/api", "in clear"),
        ("https://user:pw@api.barrack.example/api", "credentials"),
        ("https://api.barrack.example/api?x=1", "query"),
    ],
)
def test_bad_base_urls_are_refused(base_url: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem) as caught:
        BarrackSettings.load(api_key=API_KEY, base_url=base_url)
    assert API_KEY not in str(caught.value)
    assert "pw" not in str(caught.value)


def test_plain_http_is_allowed_for_loopback_or_when_asked() -> None:
    assert BarrackSettings.load(api_key="k", base_url="http://localhost:8642/api")
    assert BarrackSettings.load(api_key="k", base_url="http://[::1]:8642/api")
    assert BarrackSettings.load(
        api_key="k", base_url="http://10.0.0.5/api", allow_insecure_http=True
    )


async def test_a_refused_first_contact_is_unreachable_and_not_retried(
    make_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    recorder.default = refused
    with pytest.raises(APIUnreachableError) as caught:
        await make_client().balance.get()
    assert "nothing answers at" in str(caught.value)
    assert len(recorder.requests) == 1


async def test_a_refused_connection_after_an_answer_is_retried(
    make_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    client = make_client()
    recorder.responses.append(ok("credit", BALANCE))
    await client.balance.get()

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    recorder.responses.extend([refused, refused])
    recorder.responses.append(ok("credit", BALANCE))
    await client.balance.get()
    assert len(recorder.requests) == 4
