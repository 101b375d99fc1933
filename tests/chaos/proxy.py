"""A loopback proxy in front of the simulator: tags a run's requests, delays or corrupts answers.

The simulator injects errors, 429 bursts and drops itself; what it cannot produce is an
answer that arrives too late for the client's timeout on a chosen share of calls, or an
answer that breaks the contract (a missing field, an unknown enum value, a wrong type, an
HTML error page, an empty body). :class:`ChaosProxy` forwards every request to the
simulator and applies its seeded :class:`ProxyRule`\\ s to the answers; it records every
request it forwards (so two overlapping runs, each behind its own proxy, can be told apart).

A connection the simulator cuts (a drop after commit) is cut here too.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self

import httpx

from barrack.wire import ENVELOPE_FIELDS

__all__ = ["ChaosProxy", "Corruption", "ProxiedRequest", "ProxyRule"]

Corruption = Literal[
    "delay", "missing_field", "unknown_enum", "wrong_type", "html", "html_502", "empty"
]

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}
)
_HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>502 Bad Gateway</h1><p>The upstream server is unavailable.</p></body></html>"
)


@dataclass(frozen=True, slots=True)
class ProxyRule:
    """Which answers to spoil, and how.

    Attributes:
        kind: ``delay`` (answer after ``delay_s``, or once :attr:`ChaosProxy.released` is
            set, the change already made upstream),
            ``missing_field``, ``unknown_enum`` or ``wrong_type`` (on ``field`` of every
            object of the payload), ``html`` (a 200 HTML page), ``html_502`` (a 502 HTML
            page; the upstream call still happened), ``empty`` (a 200 with no body).
        method: HTTP method, or ``*``.
        path: glob over the path (``/api/instances*``).
        rate: share of matching answers spoiled (seeded draws).
        times: spoil at most this many; None: no limit.
        field: the field the JSON corruptions touch.
        value: the value ``unknown_enum`` / ``wrong_type`` put there.
        delay_s: the delay of ``delay``.
    """

    kind: Corruption
    method: str = "*"
    path: str = "/api/*"
    rate: float = 1.0
    times: int | None = None
    field: str = "status"
    value: Any = None
    delay_s: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        """True when the rule applies to a request."""
        return (self.method == "*" or self.method == method) and fnmatchcase(path, self.path)


@dataclass(frozen=True, slots=True)
class ProxiedRequest:
    """One request the proxy forwarded."""

    run: str
    method: str
    path: str
    status: int
    started: float
    ended: float
    spoiled: str | None = None


@dataclass
class _Rules:
    rules: list[ProxyRule] = field(default_factory=list)
    fired: list[int] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)


class ChaosProxy:
    """Forward ``http://127.0.0.1:<port>/...`` to ``upstream``, spoiling what the rules say.

    Args:
        upstream: the simulator's root URL (``http://127.0.0.1:PORT``).
        run: a tag written into every :class:`ProxiedRequest`.
    """

    def __init__(self, upstream: str, run: str = "run") -> None:
        self.upstream = upstream.rstrip("/")
        self.run = run
        self._lock = threading.Lock()
        self._rules = _Rules()
        self._log: list[ProxiedRequest] = []
        self._started = 0
        self.released = threading.Event()
        """Set it to end every ``delay`` early (a slow answer held until something happened)."""
        self._http = httpx.Client(base_url=self.upstream, timeout=60, verify=False)  # noqa: S501
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ----------------------------------------------------------------------

    def __enter__(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"chaos-proxy-{self.run}",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._http.close()

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        if self._server is None:
            raise RuntimeError("the proxy is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """The API base URL through the proxy (``.../api``)."""
        return f"{self.root_url}/api"

    # -- rules and log -------------------------------------------------------------------

    def set_rules(self, *rules: ProxyRule, seed: int = 0) -> None:
        """Replace the rules and restart the seeded draws."""
        with self._lock:
            self._rules = _Rules(list(rules), [0] * len(rules), random.Random(f"proxy:{seed}"))

    def requests(self) -> list[ProxiedRequest]:
        """Everything forwarded so far, in the order the answers went out."""
        with self._lock:
            return list(self._log)

    def clear(self) -> None:
        """Forget the log."""
        with self._lock:
            self._log.clear()

    def _decide(self, method: str, path: str) -> ProxyRule | None:
        with self._lock:
            state = self._rules
            for index, rule in enumerate(state.rules):
                if not rule.matches(method, path):
                    continue
                if rule.times is not None and state.fired[index] >= rule.times:
                    continue
                if rule.rate < 1.0 and state.rng.random() >= rule.rate:
                    continue
                state.fired[index] += 1
                return rule
        return None

    @property
    def requests_started(self) -> int:
        """Requests received so far, answered or not."""
        with self._lock:
            return self._started

    def _begin(self) -> None:
        with self._lock:
            self._started += 1

    def _undo(self, rule: ProxyRule) -> None:
        with self._lock:
            index = self._rules.rules.index(rule)
            self._rules.fired[index] -= 1

    def _record(self, entry: ProxiedRequest) -> None:
        with self._lock:
            self._log.append(entry)


def spoil(rule: ProxyRule, status: int, body: bytes) -> tuple[int, bytes, str] | None:
    """The answer ``rule`` makes of an upstream answer (status, body, content type), or
    None when there is nothing in it to spoil (no object in the payload)."""
    if rule.kind == "html":
        return 200, _HTML_PAGE, "text/html"
    if rule.kind == "html_502":
        return 502, _HTML_PAGE, "text/html"
    if rule.kind == "empty":
        return 200, b"", "application/json"
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    changed = False
    for item in _data_items(payload):
        name = _field_to_spoil(rule, item)
        if name is None:
            continue
        if rule.kind == "missing_field":
            del item[name]
        else:
            item[name] = rule.value
        changed = True
    return (status, json.dumps(payload).encode(), "application/json") if changed else None


_NOT_PAYLOAD = frozenset({*ENVELOPE_FIELDS, "pagination", "error"})


def _data_items(payload: Any) -> Iterator[dict[str, Any]]:
    """The objects of an answer's payload: those under its payload key (``instances``,
    ``snapshot``...), or, for a flat answer (actions, deletes), its own fields."""
    if not isinstance(payload, dict) or payload.get("success") is not True:
        return
    keys = [k for k in payload if k not in _NOT_PAYLOAD]
    nested = [payload[k] for k in keys if isinstance(payload[k], dict | list)]
    if not nested and keys:
        yield _FlatView(payload)
    for data in nested:
        if isinstance(data, dict):
            yield data
        else:
            yield from (item for item in data if isinstance(item, dict))


class _FlatView(dict[str, Any]):
    """A flat answer's own fields (not ``success``, ``message``...), spoiled in place."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__((k, v) for k, v in payload.items() if k not in _NOT_PAYLOAD)
        self._payload = payload

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self._payload[key] = value

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        del self._payload[key]


_ENUM_LIKE = re.compile(r"[A-Z][A-Z0-9_-]+")


def _field_to_spoil(rule: ProxyRule, item: dict[str, Any]) -> str | None:
    """The rule's field when the object has it; else one that is there: ``id`` or the
    first key (missing, wrong type), or the first enum-like value (unknown enum)."""
    if rule.field in item:
        return rule.field
    if rule.kind == "unknown_enum":
        return next(
            (k for k, v in item.items() if isinstance(v, str) and _ENUM_LIKE.fullmatch(v)), None
        )
    if "id" in item:
        return "id"
    return next(iter(item), None)


def _handler(proxy: ChaosProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            started = time.monotonic()
            proxy._begin()
            method = self.command
            path = self.path.split("?", 1)[0]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers.pop("Host", None)
            try:
                upstream = proxy._http.request(method, self.path, content=body, headers=headers)
            except httpx.HTTPError:
                # The simulator cut the connection (a drop after commit): cut ours too.
                proxy._record(
                    ProxiedRequest(proxy.run, method, path, 0, started, time.monotonic(), "drop")
                )
                self.close_connection = True
                return
            status, content = upstream.status_code, upstream.content
            content_type = upstream.headers.get("content-type", "application/json")
            rule = proxy._decide(method, path)
            if rule is not None and rule.kind == "delay":
                proxy.released.wait(rule.delay_s)
            elif rule is not None:
                spoiled = spoil(rule, status, content)
                if spoiled is None:
                    proxy._undo(rule)  # nothing to spoil here: the next match gets it
                    rule = None
                else:
                    status, content, content_type = spoiled
            self._answer(status, content, content_type, upstream.headers)
            proxy._record(
                ProxiedRequest(
                    proxy.run,
                    method,
                    path,
                    status,
                    started,
                    time.monotonic(),
                    rule.kind if rule else None,
                )
            )

        def _answer(
            self, status: int, content: bytes, content_type: str, upstream: httpx.Headers
        ) -> None:
            try:
                self.send_response(status)
                for name, value in upstream.items():
                    if name.lower() not in _HOP_BY_HOP and name.lower() != "content-type":
                        self.send_header(name, value)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
            except OSError:
                self.close_connection = True  # the client gave up (its timeout) meanwhile

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        def log_message(self, format: str, *args: Any) -> None:
            return  # the request log is the proxy's own

    return Handler
