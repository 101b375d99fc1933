"""Helpers for client tests: a recording transport and a fake clock."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from barrack import AsyncBarrack, RetryPolicy

API_KEY = "sk-test-7f3a9c-supersecret"
BASE_URL = "http://127.0.0.1:9/api"

Handler = Callable[[httpx.Request], httpx.Response]


def envelope(
    key: str, payload: Any, *, pagination: dict[str, int] | None = None, message: str = "ok"
) -> dict[str, Any]:
    """A B1 success answer: the payload under its key (Part C's ``pricing_data`` style)."""
    body: dict[str, Any] = {"success": True, "message": message, key: payload}
    if pagination is not None:
        body["pagination"] = pagination
    body["request_id"] = "req-ok"
    return body


def flat(**fields: Any) -> dict[str, Any]:
    """A B1 flat success answer (actions, deletes; Part C's C3 style)."""
    return {"success": True, "message": "ok", **fields, "request_id": "req-ok"}


def error_body(code: str, message: str = "nope", **details: Any) -> dict[str, Any]:
    """A B1 ErrorResponse: ``message`` at the top, ``error.code`` and ``error.details``."""
    return {
        "success": False,
        "message": message,
        "error": {"code": code, "details": details or None},
        "request_id": "req-123",
    }


@dataclass
class Recorder:
    """An httpx transport that answers from a queue of handlers and records requests."""

    responses: list[Handler | httpx.Response] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    default: Handler | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.responses:
            item = self.responses.pop(0)
        elif self.default is not None:
            item = self.default
        else:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        return item(request) if callable(item) else item

    def json_bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


class FakeSleep:
    """Records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def fake_sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def make_client(recorder: Recorder, fake_sleep: FakeSleep) -> Iterator[Callable[..., AsyncBarrack]]:
    made: list[AsyncBarrack] = []

    def make(**kwargs: Any) -> AsyncBarrack:
        kwargs.setdefault("retry_policy", RetryPolicy(max_attempts=4))
        client = AsyncBarrack(
            api_key=API_KEY,
            base_url=BASE_URL,
            transport=httpx.MockTransport(recorder),
            sleep=fake_sleep,
            **kwargs,
        )
        made.append(client)
        return client

    return make
