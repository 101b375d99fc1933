"""The ASGI application: request ids, auth, rate limits, faults, replay, request log.

Cross-cutting concerns live here, once; endpoints only parse, call and serialise.
For an API request (``/v1/...``) the order is: request id; bearer API key (401); token
bucket (429); injected faults (latency, error, burst of 429); idempotent replay of a POST;
the endpoint; the request log. ``drop_after_commit`` sends the headers and half the body,
then closes the connection, so the client sees ``httpx.RemoteProtocolError`` although
the change was made.
"""

from __future__ import annotations

import hmac
import html
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import timedelta
from typing import Any, Final

from starlette.requests import Request

from barrack._wire import (
    API_PREFIX,
    HEADER_IDEMPOTENCY_KEY,
    HEADER_RATELIMIT_LIMIT,
    HEADER_RATELIMIT_REMAINING,
    HEADER_RATELIMIT_RESET,
    HEADER_RETRY_AFTER,
    auth_header_value,
)
from simulator.errors import (
    InternalError,
    NotFound,
    RateLimited,
    SimError,
    Unauthorized,
    error_class_for_status,
)
from simulator.faults import FaultDecision
from simulator.http.control import CONTROL_PREFIX
from simulator.http.openapi import openapi_document
from simulator.http.responses import REQUEST_ID_SCOPE_KEY, error_reply, request_id_header
from simulator.http.router import HTTPReply, Router
from simulator.idempotency import StoredResponse
from simulator.requestlog import LogEntry
from simulator.runtime import SimRuntime

__all__ = ["DROP_LOG_MESSAGE", "Gateway"]

logger = logging.getLogger("simulator")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DROP_LOG_MESSAGE: Final = "ASGI callable returned without completing response."
"""What uvicorn logs for a drop_after_commit (the simulator's server filters it out)."""

_IDEMPOTENCY: Final = HEADER_IDEMPOTENCY_KEY.lower().encode()
_JSON: Final = (b"content-type", b"application/json")
_REPLAYED: Final = (b"idempotent-replayed", b"true")
_API: Final = API_PREFIX + "/"


def _rfc3339(runtime: SimRuntime) -> str:
    return runtime.backend.world.now.isoformat().replace("+00:00", "Z")


class Gateway:
    """The simulator as one ASGI callable."""

    def __init__(self, runtime: SimRuntime, api: Router, control: Router, public: Router) -> None:
        self.runtime = runtime
        self.api = api
        self.control = control
        self.public = public
        self._admin = b"Bearer " + runtime.admin_token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await _lifespan(receive, send)
            return
        if kind != "http":
            return
        path: str = scope["path"]
        if path.startswith(_API):
            await self._api(scope, receive, send)
        elif path.startswith(CONTROL_PREFIX + "/"):
            await self._control(scope, receive, send)
        else:
            await self._public(scope, receive, send)

    def _authorised(self, headers: list[tuple[bytes, bytes]]) -> bool:
        """Whether the request carries the key in the header the settings name (B1)."""
        name = self.runtime.backend.settings.auth_header
        wanted = auth_header_value(name, self.runtime.api_key).encode()
        lowered = name.lower().encode()
        given = next((v for n, v in headers if n == lowered), None)
        return given is not None and hmac.compare_digest(given, wanted)

    # -- /api ----------------------------------------------------------------------------

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime = self.runtime
        request_id = runtime.next_request_id()
        scope[REQUEST_ID_SCOPE_KEY] = request_id
        method: str = scope["method"]
        path: str = scope["path"]
        idempotency_key = None
        for name, value in scope["headers"]:
            if name == _IDEMPOTENCY:
                idempotency_key = value.decode("latin-1")
        extra: list[tuple[bytes, bytes]] = []
        decision = FaultDecision()
        replayed = False
        try:
            if not self._authorised(scope["headers"]):
                header = runtime.backend.settings.auth_header
                raise Unauthorized(f"missing or invalid API key (expected in the {header} header)")
            self._rate_limit(extra)
            decision = runtime.faults.decide(method, path)
            if decision.latency_s:
                await runtime.sleep(decision.latency_s)
            injected = _injected_answer(decision, scope["headers"], request_id)
            if injected is not None:
                await self._send(send, injected, request_id, extra)
                self._log(scope, request_id, injected, idempotency_key, False, decision)
                return
            self._injected(decision, extra)
            match = self.api.match(method, path)
            if match is None or match.endpoint is None:
                raise NotFound("route", f"{method} {path}")
            key = None
            if method == "POST" and idempotency_key and runtime.backend.settings.idempotency_replay:
                key = (runtime.api_key, method, path, idempotency_key)
                stored = await self._stored(key)
                if stored is not None:
                    replayed = True
                    reply = HTTPReply(stored.status, stored.body, (*stored.headers, _REPLAYED))
                    await self._send(send, reply, request_id, extra)
                    self._log(scope, request_id, reply, idempotency_key, True, decision)
                    return
                runtime.idempotency.begin(key)
            try:
                reply = await match.endpoint(Request(scope, receive), match.params)
            except SimError as error:
                reply = error_reply(error, request_id)
            except BaseException:
                if key is not None:
                    runtime.idempotency.end(key, None)
                raise
            if key is not None:
                replayable = reply.status < 500 and reply.status != 429
                runtime.idempotency.end(
                    key,
                    StoredResponse(
                        reply.status,
                        _without_request_id(reply.headers),
                        reply.body,
                        runtime.backend.world.now,
                    )
                    if replayable
                    else None,
                )
        except SimError as error:
            reply = error_reply(error, request_id, _fault_status(decision, error), ())
        except Exception:
            logger.exception("internal error in %s %s (request %s)", method, path, request_id)
            reply = error_reply(InternalError("internal simulator error"), request_id)
        if decision.kind == "drop" and reply.status < 400:
            await self._drop(send, reply, request_id, extra)
        else:
            await self._send(send, reply, request_id, extra)
        self._log(scope, request_id, reply, idempotency_key, replayed, decision)

    def _rate_limit(self, extra: list[tuple[bytes, bytes]]) -> None:
        settings = self.runtime.backend.settings
        rate = settings.rate_limit_per_second
        if not rate:
            return
        outcome = self.runtime.limiter.take(self.runtime.api_key, rate, settings.rate_limit_burst)
        limit = int(rate) if rate == int(rate) else rate
        extra += [
            (HEADER_RATELIMIT_LIMIT.lower().encode(), str(limit).encode()),
            (HEADER_RATELIMIT_REMAINING.lower().encode(), str(outcome.remaining).encode()),
            (HEADER_RATELIMIT_RESET.lower().encode(), str(outcome.reset_s).encode()),
        ]
        if not outcome.allowed:
            extra.append((HEADER_RETRY_AFTER.lower().encode(), str(outcome.retry_after_s).encode()))
            raise RateLimited(
                f"rate limit of {limit} requests per second exceeded",
                {"limit": limit, "retry_after": outcome.retry_after_s},
            )

    @staticmethod
    def _injected(decision: FaultDecision, extra: list[tuple[bytes, bytes]]) -> None:
        if decision.kind == "burst_429":
            extra.append((HEADER_RETRY_AFTER.lower().encode(), str(decision.retry_after).encode()))
            raise RateLimited("rate limited (injected burst)", {"injected": True})
        if decision.kind == "error":
            error_class = error_class_for_status(decision.status)
            if decision.status == 429:
                extra.append(
                    (HEADER_RETRY_AFTER.lower().encode(), str(decision.retry_after).encode())
                )
            raise error_class(f"injected fault: HTTP {decision.status}", {"injected": True})

    async def _stored(self, key: tuple[str, str, str, str]) -> StoredResponse | None:
        cache = self.runtime.idempotency
        ttl = timedelta(hours=self.runtime.backend.settings.idempotency_ttl_hours)
        running = cache.running(key)
        if running is not None:
            await running.wait()
        return cache.lookup(key, self.runtime.backend.sync(), ttl)

    async def _send(
        self, send: Send, reply: HTTPReply, request_id: str, extra: list[tuple[bytes, bytes]]
    ) -> None:
        typed = any(name == b"content-type" for name, _ in reply.headers)
        headers = [
            *(() if typed else (_JSON,)),
            (b"content-length", str(len(reply.body)).encode()),
            *reply.headers,
            *extra,
        ]
        if not any(name == b"x-request-id" for name, _ in reply.headers):
            headers.append(request_id_header(request_id))
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": reply.body})

    async def _drop(
        self, send: Send, reply: HTTPReply, request_id: str, extra: list[tuple[bytes, bytes]]
    ) -> None:
        """Headers and half the body, then return: the server closes the connection."""
        headers = [
            _JSON,
            (b"content-length", str(len(reply.body)).encode()),
            *reply.headers,
            *extra,
            request_id_header(request_id),
        ]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": reply.body[: len(reply.body) // 2],
             "more_body": True}
        )  # fmt: skip

    def _log(
        self,
        scope: Scope,
        request_id: str,
        reply: HTTPReply,
        idempotency_key: str | None,
        replayed: bool,
        decision: FaultDecision,
    ) -> None:
        self.runtime.log.add(
            LogEntry(
                request_id=request_id,
                method=scope["method"],
                path=scope["path"],
                query=scope["query_string"].decode("latin-1"),
                status=reply.status,
                time=_rfc3339(self.runtime),
                idempotency_key=idempotency_key,
                replayed=replayed,
                fault=None if decision.kind == "none" else decision.kind,
                latency_ms=decision.latency_s * 1000,
                body_keys=_top_level_keys(reply.body),
            )
        )

    # -- /_sim and the public routes ---------------------------------------------------------

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = self.runtime.next_request_id()
        auth = next((v for n, v in scope["headers"] if n == b"authorization"), None)
        try:
            if auth is None or not hmac.compare_digest(auth, self._admin):
                raise Unauthorized("missing or invalid admin token (Authorization: Bearer <token>)")
            reply = await self._routed(self.control, scope, receive)
        except SimError as error:
            reply = error_reply(error, request_id)
        except Exception:
            logger.exception("internal error in %s %s", scope["method"], scope["path"])
            reply = error_reply(InternalError("internal simulator error"), request_id)
        await self._send(send, reply, request_id, [])

    async def _public(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = self.runtime.next_request_id()
        try:
            if scope["path"] == "/openapi.json" and scope["method"] == "GET":
                reply = HTTPReply(200, json.dumps(openapi_document()).encode())
            else:
                reply = await self._routed(self.public, scope, receive)
        except SimError as error:
            reply = error_reply(error, request_id)
        except Exception:
            logger.exception("internal error in %s %s", scope["method"], scope["path"])
            reply = error_reply(InternalError("internal simulator error"), request_id)
        await self._send(send, reply, request_id, [])

    @staticmethod
    async def _routed(router: Router, scope: Scope, receive: Receive) -> HTTPReply:
        match = router.match(scope["method"], scope["path"])
        if match is None or match.endpoint is None:
            raise NotFound("route", f"{scope['method']} {scope['path']}")
        return await match.endpoint(Request(scope, receive), match.params)


def _injected_answer(
    decision: FaultDecision, headers: list[tuple[bytes, bytes]], request_id: str
) -> HTTPReply | None:
    """The refusal-under-200 and header-echoing error page faults; None for the others."""
    if decision.kind == "refuse":
        body = {"success": False, "message": "request refused (injected)", "request_id": request_id}
        return HTTPReply(200, json.dumps(body).encode())
    if decision.kind == "error" and decision.echo_headers:
        listed = "".join(
            f"<li>{html.escape(n.decode('latin-1'))}: {html.escape(v.decode('latin-1'))}</li>"
            for n, v in headers
        )
        page = (
            f"<html><head><title>{decision.status} Bad Gateway</title></head><body>"
            f"<h1>Upstream error</h1><p>Request headers:</p><ul>{listed}</ul></body></html>"
        )
        return HTTPReply(decision.status, page.encode(), ((b"content-type", b"text/html"),))
    return None


def _fault_status(decision: FaultDecision, error: SimError) -> int | None:
    """An injected error keeps the status it was given (502 and 504 have no B2 code)."""
    if decision.kind == "error" and error.details == {"injected": True}:
        return decision.status
    return None


def _top_level_keys(body: bytes) -> tuple[str, ...]:
    """The keys of a JSON object body, in order; none for anything else."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return ()
    return tuple(parsed) if isinstance(parsed, dict) else ()


def _without_request_id(
    headers: tuple[tuple[bytes, bytes], ...],
) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((n, v) for n, v in headers if n != b"x-request-id")


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
