"""Barrack's published dialect (Part C, and Part B1 as revised after it).

Part C's two samples are fixtures, byte for byte; the client must read them exactly as
printed. Everything here drives the real client through an ``httpx.MockTransport``.
"""

from __future__ import annotations

import hashlib
import json
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from barrack import (
    APIRefusedError,
    APIResponseValidationError,
    APIStatusError,
    AsyncBarrack,
    AuthenticationError,
    BarrackSettings,
    ConfigurationError,
    InvalidStateError,
    NotFoundError,
    RequestValidationError,
    RetryPolicy,
    ServiceUnavailableError,
)
from barrack._exceptions import SCRUBBED, scrub
from barrack._json import dump_wire, load_wire
from barrack._wire import DEFAULT_BASE_URL, ROUTES
from barrack.models import (
    Balance,
    CreateVolumeRequest,
    GpuModelEnum,
    PricingData,
    PricingMetadata,
    PricingResponse,
    RemoveVMSecurityRuleResponse,
    ResourceTypeEnum,
    TierEnum,
    VMInstance,
    VolumeResponse,
    VolumeTypeEnum,
)
from tests.barrack.conftest import API_KEY, FakeSleep, Recorder, envelope, error_body, flat

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "barrack"
C2 = FIXTURES / "c2-pricing-response.json"
C3 = FIXTURES / "c3-remove-vm-security-rule-response.json"
# Computed when the samples were copied from Barrack's pages; the files must never change.
C2_SHA256 = "418a11ba0d7e85a251e52df611ae7e952f9812e4bce484271c4fa57ee8f9fa1b"
C3_SHA256 = "b411822f0fb0b444bdc9d61203e8b95d76e40fc1012a8bc82533d7297e1dbb8d"

# Part C's C1 request body, verbatim.
C1_BODY = {
    "tier": "legacy",
    "currency": "USD",
    "resource_type": "volumes",
    "volume_size_gb": 100,
    "volume_type": "SSD",
    "gpu_model": "string",
    "gpu_count": 1,
}
# The key Part C's C2 sample echoes in ``metadata.authenticated_user``.
C2_KEY = "my_api_key"
# For the leak tests: shares no 4 characters with SCRUBBED, the filler or the HTML around it,
# so even a 4-character fragment of it left behind is caught.
SECRET = "bk_live_Q7zR2xW9mN4pL8vT"

INSTANCE = "BRK-7Q2M4XD"
VM = {
    "id": INSTANCE,
    "name": "trainer-1",
    "status": "ACTIVE",
    "region": "US-1",
    "flavor": {
        "name": "1x-B300",
        "gpu_model": "B300-262GB",
        "gpu_count": 1,
        "vcpus": 32,
        "ram_gb": 256,
        "disk_gb": 500,
    },
    "tier": "advanced",
    "hourly_price": 5.79,
    "currency": "USD",
    "created_at": 1702234567,
}


@pytest.fixture(autouse=True)
def _no_barrack_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The defaults under test must not be overridden by the developer's environment.
    for name in ("BARRACK_BASE_URL", "BARRACK_AUTH_HEADER", "BARRACK_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def default_client(recorder: Recorder, fake_sleep: FakeSleep) -> Callable[..., AsyncBarrack]:
    """Clients on the default base URL (``https://barrack.ai/api``), answering from ``recorder``."""

    def make(api_key: str = API_KEY, **settings: Any) -> AsyncBarrack:
        return AsyncBarrack(
            settings=BarrackSettings.load(api_key=api_key, **settings),
            retry_policy=RetryPolicy(max_attempts=4),
            transport=httpx.MockTransport(recorder),
            sleep=fake_sleep,
        )

    return make


def _leaks(text: str, secret: str = SECRET, window: int = 4) -> bool:
    """True when ``text`` holds the secret or any run of ``window`` of its characters."""
    return any(secret[i : i + window] in text for i in range(len(secret) - window + 1))


def _exception_texts(error: BaseException) -> list[str]:
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    texts += [repr(arg) for arg in error.args]
    if isinstance(error, APIStatusError):
        texts += [error.message, repr(error.details), error.code]
    texts.append(str(getattr(error, "request_id", "")))
    return texts


# -- Part C's fixtures ---------------------------------------------------------------------


def test_the_part_c_fixtures_are_unchanged() -> None:
    assert hashlib.sha256(C2.read_bytes()).hexdigest() == C2_SHA256
    assert hashlib.sha256(C3.read_bytes()).hexdigest() == C3_SHA256


def _printed_prices(raw: bytes) -> dict[tuple[str, ...], str]:
    """Every price in C2 with the digits it is printed with, read without the client."""
    data = json.loads(raw, parse_float=str, parse_int=str)["pricing_data"]
    printed: dict[tuple[str, ...], str] = {}
    for section in ("volumes", "gpus"):
        for tier, leaves in data[section]["pricing"].items():
            for name, leaf in leaves.items():
                for currency, text in leaf["prices"].items():
                    printed[(section, tier, name, currency)] = text
    for tier, leaf in data["snapshots"]["pricing"].items():
        for currency, text in leaf["prices"].items():
            printed[("snapshots", tier, "-", currency)] = text
    return printed


def _parsed_prices(data: PricingData) -> dict[tuple[str, ...], Decimal]:
    assert data.volumes is not None
    assert data.gpus is not None
    assert data.snapshots is not None
    parsed: dict[tuple[str, ...], Decimal] = {}
    for tier, volume_leaves in data.volumes.pricing.items():
        for volume_type, leaf in volume_leaves.items():
            for currency, value in leaf.prices.items():
                parsed[("volumes", tier.value, volume_type.value, currency.value)] = value
    for tier, gpu_leaves in data.gpus.pricing.items():
        for model, leaf in gpu_leaves.items():
            for currency, value in leaf.prices.items():
                parsed[("gpus", tier.value, model.value, currency.value)] = value
    for tier, leaf in data.snapshots.pricing.items():
        for currency, value in leaf.prices.items():
            parsed[("snapshots", tier.value, "-", currency.value)] = value
    return parsed


async def test_c2_parses_through_the_client_with_every_price_exact(
    default_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    raw = C2.read_bytes()
    recorder.default = lambda request: httpx.Response(
        200, content=raw, headers={"Content-Type": "application/json"}
    )
    data = await default_client().pricing.quote(**C1_BODY)

    request = recorder.requests[0]
    assert request.method == "POST"
    assert request.url.copy_with(query=None) == "https://barrack.ai/api/pricing/"

    parsed = _parsed_prices(data)
    printed = _printed_prices(raw)
    assert len(printed) == 24, "8 priced leaves in 3 currencies"
    assert set(parsed) == set(printed)
    for where, text in printed.items():
        value = parsed[where]
        assert isinstance(value, Decimal), where
        assert value == Decimal(text), where
        assert str(value) == text, f"{where}: {value} is not the printed {text}"

    # Spot checks, written out.
    assert data.gpus is not None
    assert data.volumes is not None
    assert data.snapshots is not None
    legacy_gpus = data.gpus.pricing[TierEnum.LEGACY]
    assert legacy_gpus[GpuModelEnum("H100-PCIe-NVLink-80GB")].prices["USD"] == Decimal("2.29")
    assert legacy_gpus[GpuModelEnum("H100-PCIe-NVLink-80GB")].prices["INR"] == Decimal("199")
    assert str(legacy_gpus[GpuModelEnum("H100-PCIe-NVLink-80GB")].prices["INR"]) == "199"
    assert legacy_gpus[GpuModelEnum.RTX_A6000].max_count == 4
    advanced_gpus = data.gpus.pricing[TierEnum.ADVANCED]
    b300 = advanced_gpus[GpuModelEnum.B300_262GB]
    assert b300.prices["USD"] == Decimal("5.79")
    assert (b300.max_count, b300.unit) == (8, "per GPU per hour")
    assert advanced_gpus[GpuModelEnum.H100_SXM5_80GB].prices["USD"] == Decimal("2.49")
    hdd = data.volumes.pricing[TierEnum.ADVANCED][VolumeTypeEnum.HDD]
    assert hdd.prices["USD"] == Decimal("0.08")
    assert hdd.prices["USD"] != Decimal(0.08), "read through a float"  # noqa: RUF032 (on purpose)
    assert data.volumes.pricing[TierEnum.ADVANCED][VolumeTypeEnum.NVME].prices["EUR"] == Decimal(
        "0.35"
    )
    assert data.volumes.minimum_size_gb == 100
    snapshot = data.snapshots.pricing[TierEnum.LEGACY]
    assert (snapshot.prices["USD"], snapshot.fixed_size_gb) == (Decimal("0.1"), 100)
    assert snapshot.unit == "per hour (fixed 100GB)"

    metadata = data.metadata
    assert metadata is not None
    assert metadata.supported_currencies == ["USD", "EUR", "INR"]
    assert metadata.supported_tiers == [TierEnum.LEGACY, TierEnum.ADVANCED]
    assert metadata.volume_minimum_size_gb == 100
    assert metadata.authentication_type == "api_key"
    assert metadata.timestamp == datetime(2023, 12, 10, 18, 56, 7, tzinfo=UTC)


async def test_c2_authenticated_user_never_shows(
    default_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    raw = C2.read_bytes()
    recorder.default = lambda request: httpx.Response(200, content=raw)
    # The sample's key is the client's own key here, as it would be on a real answer.
    data = await default_client(api_key=C2_KEY).pricing.quote(resource_type="gpus")
    whole = PricingResponse.model_validate(load_wire(raw))
    metadata = data.metadata
    assert metadata is not None
    assert metadata.authenticated_user is not None
    assert metadata.authenticated_user.get_secret_value() == C2_KEY, "kept, only hidden"
    shown = [
        repr(data),
        str(data),
        data.model_dump_json(),
        repr(metadata),
        str(metadata),
        metadata.model_dump_json(),
        repr(whole),
        str(whole),
        whole.model_dump_json(),
        dump_wire(whole).decode(),
        str(data.model_dump()),
        str(whole.model_dump()),
    ]
    for text in shown:
        assert C2_KEY not in text
    assert whole.payload == data
    assert whole.request_id == "a1b2c3d4"
    assert whole.message == "Pricing information retrieved successfully"


async def test_c3_parses_through_the_client(
    default_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    recorder.default = lambda request: httpx.Response(200, content=C3.read_bytes())
    answer = await default_client().instances.remove_security_rule(INSTANCE, "rule-9")

    request = recorder.requests[0]
    assert request.method == "DELETE"
    assert str(request.url) == f"https://barrack.ai/api/instances/{INSTANCE}/security-rules/rule-9/"
    assert isinstance(answer, RemoveVMSecurityRuleResponse)
    assert answer.success is True
    assert (answer.message, answer.instance_id, answer.rule_id) == ("string", "string", "string")
    assert answer.request_id == "string"
    # The sample's tier is a placeholder: an open enum keeps it, marked unknown.
    assert answer.tier == "string"
    assert answer.tier is not None
    assert answer.tier.is_known is False


# -- money and time --------------------------------------------------------------------------

TINY = "0.10000000000000000000001"


async def test_a_money_number_is_read_exactly_through_the_client(
    default_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    body = (
        '{"success": true, "message": "ok", "credit": {"balance": ' + TINY + ', "currency": "USD"},'
        ' "request_id": "r-1"}'
    ).encode()
    recorder.default = lambda request: httpx.Response(200, content=body)
    balance = await default_client().balance.get()
    assert isinstance(balance.balance, Decimal)
    assert balance.balance == Decimal(TINY)
    assert str(balance.balance) == TINY
    assert load_wire(body)["credit"]["balance"] == Decimal(TINY)


@pytest.mark.parametrize("amount", [TINY, "2.50", "199", "-3.5", "0.08", "1E+2", "0"])
def test_dump_wire_writes_money_as_a_bare_exact_number(amount: str) -> None:
    wire = dump_wire(Balance(balance=Decimal(amount), currency="USD"))
    assert f'"balance":{amount}'.encode() in wire, wire
    assert b"barrack-money" not in wire
    assert load_wire(wire)["balance"] == Decimal(amount)
    assert str(Balance.model_validate(load_wire(wire)).balance) == amount
    # Off the wire (artifacts, state files) money stays a decimal string.
    assert json.loads(Balance(balance=Decimal(amount), currency="USD").model_dump_json())[
        "balance"
    ] == str(Decimal(amount))


def test_the_c2_prices_round_trip_through_dump_wire_with_their_digits() -> None:
    raw = C2.read_bytes()
    whole = PricingResponse.model_validate(load_wire(raw))
    again = PricingResponse.model_validate(load_wire(dump_wire(whole)))
    assert _parsed_prices(again.payload) == _parsed_prices(whole.payload)
    assert {k: str(v) for k, v in _parsed_prices(again.payload).items()} == _printed_prices(raw)


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("1702234567", datetime(2023, 12, 10, 18, 56, 7, tzinfo=UTC)),
        ("1702234567.5", datetime(2023, 12, 10, 18, 56, 7, 500000, tzinfo=UTC)),
        ("0", datetime(1970, 1, 1, tzinfo=UTC)),
        ('"2023-12-10T20:56:07+02:00"', datetime(2023, 12, 10, 18, 56, 7, tzinfo=UTC)),
    ],
)
def test_unix_seconds_and_rfc3339_timestamps_parse_to_utc(wire: str, expected: datetime) -> None:
    body = load_wire('{"timestamp": ' + wire + "}")
    stamp = PricingMetadata.model_validate(body).timestamp
    assert stamp == expected
    assert stamp is not None
    assert stamp.tzinfo is not None
    assert stamp.utcoffset() is not None
    assert stamp.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    instance = VMInstance.model_validate(
        load_wire(json.dumps(VM)[:-1] + ', "updated_at": ' + wire + "}")
    )
    assert instance.updated_at == expected
    assert instance.created_at == datetime(2023, 12, 10, 18, 56, 7, tzinfo=UTC)
    assert json.loads(instance.model_dump_json())["created_at"] == "2023-12-10T18:56:07Z"


# -- base URL and paths ------------------------------------------------------------------------


def test_every_route_path_ends_with_a_slash_and_the_default_base_is_barracks() -> None:
    assert all(spec.path.endswith("/") for spec in ROUTES.values())
    assert DEFAULT_BASE_URL == "https://barrack.ai/api"
    assert BarrackSettings.load(api_key=API_KEY).base_url == "https://barrack.ai/api"
    # A trailing slash on the configured base is not doubled.
    assert BarrackSettings.load(api_key=API_KEY, base_url="https://barrack.ai/api/").base_url == (
        "https://barrack.ai/api"
    )


async def test_requests_go_to_barrack_ai_api_with_the_trailing_slash(
    default_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    answers = {
        "/api/balance/": envelope("credit", {"balance": 1, "currency": "USD"}),
        f"/api/instances/{INSTANCE}/": envelope("instance", VM),
        f"/api/instances/{INSTANCE}/hibernate/": flat(
            instance_id=INSTANCE, status="HIBERNATING", tier="advanced"
        ),
    }
    recorder.default = lambda request: httpx.Response(200, json=answers[request.url.path])
    client = default_client()
    await client.balance.get()
    vm = await client.instances.get(INSTANCE)
    action = await client.instances.hibernate(INSTANCE)
    assert [str(r.url) for r in recorder.requests] == [
        "https://barrack.ai/api/balance/",
        f"https://barrack.ai/api/instances/{INSTANCE}/",
        f"https://barrack.ai/api/instances/{INSTANCE}/hibernate/",
    ]
    assert vm.tier == TierEnum.ADVANCED
    assert vm.hourly_price == Decimal("5.79")
    assert (action.instance_id, action.status, action.tier) == (
        INSTANCE,
        "HIBERNATING",
        "advanced",
    )


# -- success: false --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "cls", "code"),
    [
        (200, None, APIRefusedError, "REFUSED"),
        (200, {"code": "SOMETHING_NEW", "details": None}, APIRefusedError, "SOMETHING_NEW"),
        (
            200,
            {"code": "INVALID_STATE", "details": {"current_status": "SHUTOFF"}},
            InvalidStateError,
            "INVALID_STATE",
        ),
        (202, {"code": "INVALID_STATE", "details": None}, InvalidStateError, "INVALID_STATE"),
        (200, {"code": "UNAVAILABLE", "details": None}, ServiceUnavailableError, "UNAVAILABLE"),
    ],
)
async def test_success_false_under_a_success_status_raises_and_is_not_retried(
    default_client: Callable[..., AsyncBarrack],
    recorder: Recorder,
    fake_sleep: FakeSleep,
    status: int,
    error: dict[str, Any] | None,
    cls: type[APIStatusError],
    code: str,
) -> None:
    body: dict[str, Any] = {"success": False, "message": "cannot hibernate now"}
    if error is not None:
        body["error"] = error
    body["request_id"] = "req-refused"
    recorder.default = lambda request: httpx.Response(status, json=body)
    with pytest.raises(cls) as caught:
        await default_client().instances.hibernate(INSTANCE)
    refused = caught.value
    assert type(refused) is cls
    assert (refused.status, refused.code, refused.message) == (
        status,
        code,
        "cannot hibernate now",
    )
    assert refused.request_id == "req-refused"
    assert len(recorder.requests) == 1, "a refusal is an answer, not a transient failure"
    assert fake_sleep.waits == []
    if code == "INVALID_STATE" and error and error["details"]:
        assert isinstance(refused, InvalidStateError)
        assert refused.current_status == "SHUTOFF"


async def test_an_error_body_without_an_error_object_takes_its_code_from_the_status(
    default_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    recorder.default = lambda request: httpx.Response(
        404, json={"success": False, "message": "no such snapshot", "request_id": "r-404"}
    )
    with pytest.raises(NotFoundError) as caught:
        await default_client().snapshots.get("snap-1")
    assert (caught.value.code, caught.value.message) == ("HTTP_404", "no such snapshot")
    assert caught.value.details == {}
    assert caught.value.request_id == "r-404"


# -- the key never reaches an exception ------------------------------------------------------


async def test_a_401_quoting_the_key_is_scrubbed(
    default_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    body = error_body(
        "UNAUTHORIZED",
        f"invalid API key {SECRET}",
        received=SECRET,
        header={"Authorization": f"Bearer {SECRET}"},
        tried=[SECRET, "other"],
        **{SECRET: "as a key"},
    )
    recorder.default = lambda request: httpx.Response(401, json=body)
    with pytest.raises(AuthenticationError) as caught:
        await default_client(api_key=SECRET).balance.get()
    error = caught.value
    for text in _exception_texts(error):
        assert not _leaks(text), text
    assert error.message == f"invalid API key {SCRUBBED}"
    assert error.details["received"] == SCRUBBED
    assert error.details["header"] == {"Authorization": f"Bearer {SCRUBBED}"}
    assert error.details["tried"] == [SCRUBBED, "other"]
    assert error.details[SCRUBBED] == "as a key"
    assert error.code == "UNAUTHORIZED"


async def test_a_success_false_quoting_the_key_is_scrubbed(
    default_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    body = {
        "success": False,
        "message": f"key {SECRET} may not do that",
        "error": {"code": "INVALID_STATE", "details": {"key": SECRET}},
        "request_id": "r-1",
    }
    recorder.default = lambda request: httpx.Response(200, json=body)
    with pytest.raises(InvalidStateError) as caught:
        await default_client(api_key=SECRET).instances.stop(INSTANCE)
    for text in _exception_texts(caught.value):
        assert not _leaks(text), text


def _html_page(offset: int) -> str:
    """A proxy's 502 page whose whitespace-normalised text has the key at ``offset``."""
    before = "<html><body><h1>502</h1>"
    filler = "x" * (offset - len(before))
    return f"{before}{filler}{SECRET}</body>\n\n</html>"


@pytest.mark.parametrize("offset", [30, 180, 190, 195, 196, 199, 200, 210])
async def test_an_html_502_quoting_the_key_is_scrubbed_even_at_the_excerpt_cut(
    default_client: Callable[..., AsyncBarrack],
    recorder: Recorder,
    fake_sleep: FakeSleep,
    offset: int,
) -> None:
    page = _html_page(offset)
    assert page.index(SECRET) == offset
    recorder.default = lambda request: httpx.Response(
        502, text=page, headers={"Content-Type": "text/html"}
    )
    with pytest.raises(ServiceUnavailableError) as caught:
        await default_client(api_key=SECRET).balance.get()
    error = caught.value
    assert (error.status, error.code, error.details) == (502, "HTTP_502", {})
    assert "<html>" in error.message, "an excerpt of the page is kept"
    for text in _exception_texts(error):
        assert not _leaks(text), text
    assert len(recorder.requests) == 4, "a 502 is retried"


async def test_a_request_id_quoting_the_key_is_scrubbed(
    default_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    recorder.responses += [
        httpx.Response(401, json={**error_body("UNAUTHORIZED"), "request_id": f"r-{SECRET}"}),
        httpx.Response(401, text="denied", headers={"X-Request-Id": f"r-{SECRET}"}),
        httpx.Response(
            200,
            json={"success": False, "message": "no", "request_id": f"r-{SECRET}"},
        ),
        httpx.Response(200, json={"success": True, "request_id": f"r-{SECRET}"}),
    ]
    client = default_client(api_key=SECRET)
    for _ in range(4):
        with pytest.raises((APIStatusError, APIResponseValidationError)) as caught:
            await client.balance.get()
        assert caught.value.request_id == f"r-{SCRUBBED}"
        for text in _exception_texts(caught.value):
            assert not _leaks(text), text


def test_scrub_reaches_into_lists_and_dicts_and_ignores_tiny_secrets() -> None:
    value = {"a": [f"x{API_KEY}y", 3, None], API_KEY: {"b": API_KEY}}
    assert scrub(value, (API_KEY,)) == {
        "a": [f"x{SCRUBBED}y", 3, None],
        SCRUBBED: {"b": SCRUBBED},
    }
    assert scrub("abc abc", ("abc",)) == "abc abc", "secrets under 4 characters are ignored"


# -- the auth header ---------------------------------------------------------------------------


async def test_the_default_auth_header_is_a_bearer_token(
    default_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    recorder.default = lambda request: httpx.Response(
        200, json=envelope("credit", {"balance": 1, "currency": "USD"})
    )
    client = default_client()
    assert client.settings.auth_header == "Authorization"
    await client.balance.get()
    headers = recorder.requests[0].headers
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert "X-API-Key" not in headers


@pytest.mark.parametrize("header", ["X-API-Key", "api_key"])
async def test_another_auth_header_carries_the_bare_key(
    default_client: Callable[..., AsyncBarrack], recorder: Recorder, header: str
) -> None:
    recorder.default = lambda request: httpx.Response(
        200, json=envelope("credit", {"balance": 1, "currency": "USD"})
    )
    await default_client(auth_header=header).balance.get()
    headers = recorder.requests[0].headers
    assert headers[header] == API_KEY
    assert "Authorization" not in headers
    assert "Bearer" not in str(headers.raw)


def test_the_auth_header_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BARRACK_AUTH_HEADER", "X-API-Key")
    settings = BarrackSettings.load(api_key=API_KEY)
    assert settings.auth_header == "X-API-Key"
    assert API_KEY not in repr(settings)
    assert API_KEY not in str(settings)


@pytest.mark.parametrize("header", ["X API Key", "X-API-Key:", "", f"Bearer {SECRET}", "é"])
def test_an_invalid_auth_header_is_a_configuration_error(header: str) -> None:
    with pytest.raises(ConfigurationError, match="auth_header") as caught:
        BarrackSettings.load(api_key=SECRET, auth_header=header)
    assert not _leaks(str(caught.value))


def test_the_key_never_shows_in_the_settings_repr() -> None:
    settings = BarrackSettings.load(api_key=API_KEY, auth_header="X-API-Key")
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert API_KEY not in text
    client = AsyncBarrack(settings=settings, transport=httpx.MockTransport(Recorder()))
    assert API_KEY not in repr(client)


# -- pricing (Part C's C1) ---------------------------------------------------------------------


async def test_the_pricing_quote_sends_its_fields_as_body_and_query(
    default_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    recorder.default = lambda request: httpx.Response(200, content=C2.read_bytes())
    await default_client().pricing.quote(**C1_BODY)
    request = recorder.requests[0]
    assert request.method == "POST"
    assert request.url.path == "/api/pricing/"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == C1_BODY
    assert dict(request.url.params) == {name: str(value) for name, value in C1_BODY.items()}
    assert "Idempotency-Key" in request.headers


async def test_the_pricing_list_sends_its_fields_as_query_only(
    default_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    recorder.default = lambda request: httpx.Response(200, content=C2.read_bytes())
    data = await default_client().pricing.get(tier="advanced", resource_type="volumes")
    request = recorder.requests[0]
    assert (request.method, request.url.path) == ("GET", "/api/pricing/")
    assert dict(request.url.params) == {"tier": "advanced", "resource_type": "volumes"}
    assert request.content == b""
    assert data.volumes is not None


async def test_a_bad_pricing_field_never_reaches_the_wire(
    default_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    with pytest.raises(RequestValidationError, match="volume_size_gb"):
        await default_client().pricing.quote(volume_size_gb=50)
    assert recorder.requests == []


# -- the new names -----------------------------------------------------------------------------


def test_the_part_c_vocabulary() -> None:
    assert [m.value for m in TierEnum] == ["legacy", "advanced"]
    assert [m.value for m in VolumeTypeEnum] == ["SSD", "HDD", "NVMe"]
    assert [m.value for m in ResourceTypeEnum] == ["gpus", "volumes", "snapshots"]
    assert GpuModelEnum("B300-262GB") is GpuModelEnum.B300_262GB
    assert GpuModelEnum.B300_262GB.is_known


def test_volumes_carry_their_tier_and_bootable_flag() -> None:
    volume = VolumeResponse.model_validate(
        {
            "id": "vol-1",
            "name": "boot",
            "region": "US-1",
            "size_gb": 200,
            "volume_type": "NVMe",
            "tier": "advanced",
            "bootable": True,
            "image_id": "os-1",
            "status": "available",
            "created_at": 1702234567,
        }
    )
    assert (volume.volume_type, volume.tier, volume.bootable) == (
        VolumeTypeEnum.NVME,
        TierEnum.ADVANCED,
        True,
    )
    body = json.loads(
        dump_wire(
            CreateVolumeRequest(
                name="boot",
                region="US-1",
                size_gb=100,
                volume_type="NVMe",
                bootable=True,
                image_id="os-1",
            ),
            exclude_none=True,
        )
    )
    assert body == {
        "name": "boot",
        "region": "US-1",
        "size_gb": 100,
        "volume_type": "NVMe",
        "bootable": True,
        "image_id": "os-1",
    }
