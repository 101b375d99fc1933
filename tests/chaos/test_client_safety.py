"""The client's transport guards: TLS verified by default, no plain HTTP off loopback,
and a refusal after a lost answer flagged as possibly the lost attempt's own effect."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import re
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from barrack import (
    APIConnectionError,
    AsyncBarrack,
    BarrackSettings,
    ConfigurationError,
    InvalidStateError,
)
from tasks.connection import BarrackConnection, resolve_settings

KEY = "sk-chaos-safety-0123456789"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Balance(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        # Money is a JSON number on the wire, read exactly (12.5000 stays 12.5000).
        body = (
            b'{"success": true, "message": "ok",'
            b' "credit": {"balance": 12.5000, "currency": "USD"}, "request_id": "r-1"}'
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def https_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A loopback HTTPS server with a self-signed certificate (no CA trusts it)."""
    cert, key = _self_signed(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = HTTPServer(("127.0.0.1", 0), _Balance)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


def test_tls_is_verified_by_default(https_url: str) -> None:
    assert BarrackSettings.load(api_key=KEY).verify_tls is True

    async def balance(**settings: Any) -> str:
        config = BarrackSettings.load(api_key=KEY, base_url=https_url, max_attempts=1, **settings)
        async with AsyncBarrack(settings=config) as client:
            return str((await client.balance.get()).balance)

    with pytest.raises(APIConnectionError, match="CERTIFICATE_VERIFY_FAILED") as refused:
        asyncio.run(balance())
    assert KEY not in str(refused.value)
    # Only an explicit opt-out talks to a server whose certificate nobody vouches for.
    assert asyncio.run(balance(verify_tls=False)) == "12.5000"


@pytest.mark.parametrize(
    "url",
    ["http://api.barrack.example/api", "http://10.0.0.5:8642/api", "http://[2001:db8::1]/api"],
)
def test_plain_http_off_loopback_is_refused_unless_explicitly_allowed(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BARRACK_API_KEY", KEY)
    monkeypatch.setenv("BARRACK_BASE_URL", url)
    with pytest.raises(ConfigurationError, match="would send the API key in clear") as refused:
        BarrackSettings.load()
    assert KEY not in str(refused.value)
    monkeypatch.setenv("BARRACK_ALLOW_INSECURE_HTTP", "true")
    assert BarrackSettings.load().base_url == url


async def test_a_recipe_connection_to_plain_http_fails_before_any_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BARRACK_API_KEY", KEY)
    with pytest.raises(
        ConfigurationError, match=re.escape("base_url: http:// to api.barrack.example")
    ):
        await resolve_settings(BarrackConnection(base_url="http://api.barrack.example/api"))
    loopback = await resolve_settings(BarrackConnection(base_url="http://127.0.0.1:8642/api"))
    assert loopback.base_url == "http://127.0.0.1:8642/api"


async def test_a_refusal_after_a_lost_answer_is_flagged() -> None:
    """A dropped hibernate was made; its retry's 409 is then the first attempt's doing."""
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers["Idempotency-Key"])
        if len(calls) == 1:
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        return httpx.Response(
            409,
            json={
                "success": False,
                "message": "instance is HIBERNATING",
                "error": {
                    "code": "INVALID_STATE",
                    "details": {"current_status": "HIBERNATING", "allowed": ["ACTIVE"]},
                },
                "request_id": "req-1",
            },
        )

    async def no_wait(seconds: float) -> None:
        return None

    async with AsyncBarrack(
        api_key=KEY,
        base_url="http://127.0.0.1:9/api",
        transport=httpx.MockTransport(answer),
        sleep=no_wait,
    ) as client:
        with pytest.raises(InvalidStateError) as refused:
            await client.instances.hibernate("BRK-1234567")
    assert refused.value.retried_after_lost_answer
    assert refused.value.current_status == "HIBERNATING"
    assert len(set(calls)) == 1, "the retry carried the same Idempotency-Key"

    async with AsyncBarrack(
        api_key=KEY,
        base_url="http://127.0.0.1:9/api",
        transport=httpx.MockTransport(answer),  # answers 409 at once now
        sleep=no_wait,
    ) as client:
        with pytest.raises(InvalidStateError) as plain:
            await client.instances.hibernate("BRK-1234567")
    assert not plain.value.retried_after_lost_answer, "no answer was lost on this call"
