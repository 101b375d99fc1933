"""``barrack-ops doctor``: what the Barrack API answers, next to what this client expects.

Read-only: it sends the GET operations of the route table and the POST pricing query
(a question with a body; it changes nothing), with raw httpx so it sees each body as
sent. Every answer gets one verdict:

=========  ==================================================================================
verdict    when
=========  ==================================================================================
ok         the expected status, the payload key the route table names, a body our model
           validates, no field missing or unknown
differs    a 2xx answer, but the status, the payload key, the validation or the fields differ
failed     no answer, an error status or a body that is not a JSON object
skipped    the operation needs an id and its list came back empty ("no resource to try")
=========  ==================================================================================

Exit code (:attr:`DoctorReport.exit_code`): 0 every operation ok or skipped; 1 some
differs or failed; 2 the base URL cannot be reached or no auth header is accepted.

Nothing in a report comes from a body except key names, statuses and error messages,
and every string is scrubbed of the API key before it is shown or written.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Union, get_args, get_origin

import httpx
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

import barrack.models
from barrack import BarrackSettings, __version__, parse_retry_after, scrub
from barrack.wire import (
    AUTH_HEADER_CHOICES,
    DEFAULT_BASE_URL,
    ENVELOPE_FIELDS,
    HEADER_RATELIMIT_LIMIT,
    HEADER_RETRY_AFTER,
    ROUTES,
    Route,
    auth_header_value,
    dump_wire,
    load_wire,
)

__all__ = [
    "AuthAttempt",
    "DoctorReport",
    "OperationCheck",
    "Verdict",
    "inspect_answer",
    "read_only_routes",
    "render_report",
    "report_as_dict",
    "run_doctor",
    "write_report_json",
]

QUERY_POSTS: Final = ("pricing.quote",)
"""POSTs doctor sends: questions with a body. ``ai.chat`` is left out (it spends tokens),
and so is the batch image-relationship query (``snapshots.image_relationship`` covers it)."""

PROBE_CONNECT_TIMEOUT: Final = 5.0
"""Seconds the auth probes may take to connect: an unreachable URL fails within seconds."""
PROBE_READ_TIMEOUT: Final = 10.0
"""Seconds an auth probe may wait for its answer (a host that accepts and never answers)."""
LARGE_CLOCK_SKEW: Final = 30.0
"""Seconds of skew worth a warning (the recipes compare the API's timestamps with now)."""
MAX_RATE_LIMIT_WAITS: Final = 3
"""How often one request waits out a 429 (its Retry-After) before the 429 stands."""
SECRET_FIELDS: Final = frozenset({"api_key", "authenticated_user", "private_key", "token"})
"""Fields whose values never enter a report (Part C's sample echoes the key in
``authenticated_user``); doctor copies no values, this guards the writer all the same."""
_RATE_LIMIT_PREFIXES: Final = (
    HEADER_RATELIMIT_LIMIT.lower().removesuffix("limit"),  # x-ratelimit-
    "ratelimit",  # the IETF draft's RateLimit and RateLimit-Policy
)
_NOTE_LIMIT: Final = 300


class Verdict(StrEnum):
    """How one operation's answer compares with the contract (module docstring)."""

    OK = "ok"
    DIFFERS = "differs"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class OperationCheck:
    """One operation, sent once, and what its answer showed.

    Attributes:
        operation: the route table's name (``instances.list``).
        method: HTTP method.
        path: the route's path template (ids left out).
        status: the HTTP status, None when nothing came back.
        expected_status: the status the route table expects.
        expected_key: the payload key the route table names; None for a flat answer.
        found_keys: where the payload was found: the expected key, or else the unknown
            top-level keys (the likely real key); empty when none was found.
        missing: fields our model requires that the answer lacks (payload's first level).
        unknown: fields the answer has that our model does not know (top and payload level).
        verdict: ok, differs, failed or skipped.
        notes: why (validation errors, the server's message, the skip reason).
    """

    operation: str
    method: str
    path: str
    status: int | None
    expected_status: int
    expected_key: str | None
    found_keys: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    verdict: Verdict = Verdict.OK
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AuthAttempt:
    """One auth header tried against the balance, and the status it got."""

    header: str
    status: int | None


@dataclass(frozen=True, slots=True)
class DoctorReport:
    """Everything one doctor run found.

    Attributes:
        base_url: the API base URL checked.
        checked_at: when the run started (UTC).
        configured_header: ``BARRACK_AUTH_HEADER`` (or its default).
        attempts: each auth header tried, in order.
        accepted_header: the header the API accepted, None when none was.
        problem: the one-line reason the run stopped early (unreachable, no auth).
        checks: every read-only operation, in route-table order.
        rate_limit_headers: the last value seen of each ``X-RateLimit-*`` and ``Retry-After``.
        clock_skew_seconds: the API's ``Date`` minus the local clock (median), if sent.
    """

    base_url: str
    checked_at: datetime
    configured_header: str
    attempts: tuple[AuthAttempt, ...] = ()
    accepted_header: str | None = None
    problem: str | None = None
    checks: tuple[OperationCheck, ...] = ()
    rate_limit_headers: dict[str, str] = field(default_factory=dict)
    clock_skew_seconds: float | None = None

    @property
    def exit_code(self) -> int:
        """2 cannot connect or authenticate; 1 something differs or failed; else 0."""
        if self.problem is not None or self.accepted_header is None:
            return 2
        if any(c.verdict in (Verdict.DIFFERS, Verdict.FAILED) for c in self.checks):
            return 1
        return 0

    def count(self, verdict: Verdict) -> int:
        """How many operations got ``verdict``."""
        return sum(1 for c in self.checks if c.verdict is verdict)


def read_only_routes() -> tuple[Route, ...]:
    """The operations doctor sends: every GET, plus :data:`QUERY_POSTS`, in table order."""
    return tuple(r for r in ROUTES.values() if r.method == "GET" or r.operation in QUERY_POSTS)


_LISTS_BY_PATH: Final = {
    r.path: r for r in ROUTES.values() if r.method == "GET" and not r.path_params
}


def _list_route_of(spec: Route) -> Route | None:
    """The list whose first item lends ``spec`` its id: the GET at the path before ``{``."""
    return _LISTS_BY_PATH.get(spec.path.split("{", 1)[0])


# -- reading one answer (pure) -------------------------------------------------------------


def _response_model(spec: Route) -> type[BaseModel]:
    model = getattr(barrack.models, spec.response)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{spec.operation}: {spec.response} is not a model")
    return model


def _wire_names(model: type[BaseModel]) -> tuple[frozenset[str], frozenset[str]]:
    """The field names a model knows on the wire, and those it requires."""
    known: set[str] = set()
    required: set[str] = set()
    for name, info in model.model_fields.items():
        wire = info.alias or name
        known |= {name, wire}
        if isinstance(info.validation_alias, str):
            known.add(info.validation_alias)
        if info.is_required():
            required.add(wire)
    return frozenset(known), frozenset(required)


def _item_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model inside a payload annotation (``X``, ``list[X]``, ``X | None``), and
    whether the payload is a list."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return _item_model(inner[0]) if len(inner) == 1 else (None, False)
    if origin is list:
        model, _ = _item_model(get_args(annotation)[0])
        return model, True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def _field_gaps(model: type[BaseModel] | None, objects: Iterable[Any]) -> tuple[set[str], set[str]]:
    """Fields ``model`` requires that some object lacks, and keys no field of it knows."""
    missing: set[str] = set()
    unknown: set[str] = set()
    if model is None:
        return missing, unknown
    known, required = _wire_names(model)
    for obj in objects:
        if isinstance(obj, dict):
            missing |= required - obj.keys()
            unknown |= obj.keys() - known
    return missing, unknown


def _payload_gaps(model: type[BaseModel], payload: Any) -> tuple[set[str], set[str]]:
    """Missing and unknown fields at the first level of an envelope's payload."""
    item_model, is_list = _item_model(model.model_fields["payload"].annotation)
    if is_list:
        return _field_gaps(item_model, payload if isinstance(payload, list) else ())
    return _field_gaps(item_model, (payload,))


def _validation_notes(exc: ValidationError) -> list[str]:
    errors = exc.errors(include_input=False, include_url=False)
    notes = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in errors[:3]]
    if len(errors) > 3:
        notes.append(f"(+{len(errors) - 3} more validation errors)")
    return notes


def _error_note(status: int, body: Any, content: bytes) -> str:
    """The server's own words about a failed call (code and message), or what the body was."""
    if isinstance(body, dict):
        error = body.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        message = body.get("message")
        words = ": ".join(str(part) for part in (code, message) if part)
        if words:
            return words
    if not content:
        return f"HTTP {status} with an empty body"
    return f"HTTP {status}, body not JSON: {content[:120].decode('utf-8', 'replace')!r}"


def inspect_answer(spec: Route, status: int, content: bytes) -> OperationCheck:
    """Compare one answer with the route table and our response model.

    Args:
        spec: the route that was called.
        status: the HTTP status of the answer.
        content: the raw body.

    Returns:
        The check, without secrets scrubbed (the caller scrubs).

    Example:
        >>> inspect_answer(ROUTES["balance.get"], 200, b'{"success": true}').verdict
        <Verdict.DIFFERS: 'differs'>
    """
    base = OperationCheck(spec.operation, spec.method, spec.path, status, spec.status, spec.payload)
    try:
        body = load_wire(content)
    except ValueError:
        body = None
    if not 200 <= status < 300 or not isinstance(body, dict):
        return replace(base, verdict=Verdict.FAILED, notes=(_error_note(status, body, content),))

    model = _response_model(spec)
    notes: list[str] = []
    if status != spec.status:
        notes.append(f"status {status}, the route table expects {spec.status}")
    if body.get("success") is False:
        notes.append(f"success is false: {_error_note(status, body, content)}")
    known, required = _wire_names(model)
    found: tuple[str, ...] = ()
    missing: set[str] = set()
    unknown: set[str] = set()
    if spec.payload is None:
        missing, unknown = set(required - body.keys()), set(body.keys() - known)
    else:
        top_known = (known - {"payload"}) | {spec.payload}
        extras = sorted(body.keys() - top_known)
        found, missing, unknown = (spec.payload,), set(), set(extras)
        if spec.payload not in body:
            found, unknown = tuple(extras), set()
            notes.append(f"no {spec.payload!r} in the answer")
            if len(extras) == 1:
                # One stranger is very likely the real key: judge what it holds as if it
                # were under ours, so the notes speak of the content, not the key again.
                notes[-1] += f"; {extras[0]!r} looks like it"
                body = {spec.payload if k == extras[0] else k: v for k, v in body.items()}
        if spec.payload in body:
            payload_missing, payload_unknown = _payload_gaps(model, body[spec.payload])
            missing |= payload_missing
            unknown |= payload_unknown
    try:
        model.model_validate(body)
    except ValidationError as exc:
        notes.extend(_validation_notes(exc))
    differs = bool(notes or missing or unknown)
    return replace(
        base,
        found_keys=found,
        missing=tuple(sorted(missing)),
        unknown=tuple(sorted(unknown)),
        verdict=Verdict.DIFFERS if differs else Verdict.OK,
        notes=tuple(notes),
    )


def _first_id(spec: Route, content: bytes) -> str | None:
    """The id of the first item of a list answer (under its key, or the one stranger)."""
    try:
        body = load_wire(content)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    key = spec.payload
    if key not in body:
        strangers = [k for k in body if k not in ENVELOPE_FIELDS and k != "pagination"]
        key = strangers[0] if len(strangers) == 1 else None
    payload = body.get(key) if key else None
    # A list payload, or an object holding one (``volumes.list``: volumes and next_name).
    lists = [payload] if isinstance(payload, list) else []
    if isinstance(payload, dict):
        lists = [v for v in payload.values() if isinstance(v, list)]
    for items in lists:
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id"), str | int):
                return str(item["id"])
    return None


# -- talking to the API ---------------------------------------------------------------------


class _Prober:
    """One httpx client, and what every answer's headers said (rate limits, Date)."""

    def __init__(
        self,
        settings: BarrackSettings,
        transport: httpx.BaseTransport | None,
        now: Callable[[], datetime],
        sleep: Callable[[float], None],
    ) -> None:
        self.settings = settings
        self.key = settings.require_api_key().get_secret_value()
        self.now = now
        self.sleep = sleep
        self.rate_limit_headers: dict[str, str] = {}
        self.skews: list[float] = []
        self.http = httpx.Client(
            base_url=settings.base_url,
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            verify=settings.verify_tls,
            transport=transport,
            headers={
                "User-Agent": f"barrack-ops/{__version__} doctor",
                "Accept": "application/json",
            },
            follow_redirects=False,
        )

    def send(
        self,
        spec: Route,
        header: str,
        *,
        params: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """Send one read-only call; waits out a 429 a few times (raises httpx errors)."""
        content = None
        headers = {header: auth_header_value(header, self.key)}
        if spec.request is not None:
            request_model = getattr(barrack.models, spec.request)
            content = dump_wire(request_model(), exclude_none=True)
            headers["Content-Type"] = "application/json"
        url = spec.format_path(**(params or {}))
        timeout = timeout or self.http.timeout
        response = self.http.request(
            spec.method, url, content=content, headers=headers, timeout=timeout
        )
        self._observe(response)
        for _ in range(MAX_RATE_LIMIT_WAITS):
            if response.status_code != 429:
                break
            wait = parse_retry_after(response.headers.get(HEADER_RETRY_AFTER), self.now())
            self.sleep(min(wait if wait is not None else 1.0, self.settings.max_retry_after))
            response = self.http.request(
                spec.method, url, content=content, headers=headers, timeout=timeout
            )
            self._observe(response)
        return response

    def _observe(self, response: httpx.Response) -> None:
        for raw_name, raw_value in response.headers.raw:  # raw keeps the server's spelling
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            lowered = name.lower()
            if lowered.startswith(_RATE_LIMIT_PREFIXES) or lowered == HEADER_RETRY_AFTER.lower():
                self.rate_limit_headers[name] = value
        date = response.headers.get("Date")
        if date:
            try:
                sent = parsedate_to_datetime(date)
            except (TypeError, ValueError, IndexError):
                return
            if sent.tzinfo is not None:
                self.skews.append((sent - self.now()).total_seconds())

    def clock_skew(self) -> float | None:
        return round(statistics.median(self.skews), 1) if self.skews else None

    def close(self) -> None:
        self.http.close()


def _is_json_object(content: bytes) -> bool:
    """True for a JSON object; a wrong base URL can answer 200 with a web page."""
    try:
        return isinstance(load_wire(content), dict)
    except ValueError:
        return False


def _auth_order(configured: str) -> tuple[str, ...]:
    """The configured header first, then the other choices."""
    others = (h for h in AUTH_HEADER_CHOICES if h.lower() != configured.lower())
    return (configured, *others)


def _transport_problem(base_url: str, exc: httpx.TransportError) -> str:
    reason = str(exc) or type(exc).__name__
    return f"cannot reach {base_url}: {reason} ({type(exc).__name__})"


def _auth_problem(base_url: str, attempts: Iterable[AuthAttempt]) -> str:
    tried = list(attempts)
    answers = ", ".join(f"{a.header}: {a.status}" for a in tried)
    statuses = {a.status or 0 for a in tried}
    if statuses <= {401, 403}:
        hint = "check BARRACK_API_KEY"
    elif 429 in statuses:
        hint = "the API is rate limiting; try again in a minute"
    elif any(status >= 500 for status in statuses):
        hint = "the API is failing; try again later"
    else:
        hint = f"check BARRACK_BASE_URL (Barrack's is {DEFAULT_BASE_URL})"
    return f"{base_url} accepted none of the auth headers ({answers}); {hint}"


def run_doctor(
    settings: BarrackSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> DoctorReport:
    """Check the API at ``settings.base_url`` against the route table and our models.

    Args:
        settings: where and how to connect (the key is required).
        transport: an httpx transport to use instead of the network (tests).
        now: the local clock (for the skew and Retry-After dates).
        sleep: how a 429 is waited out.

    Returns:
        The report; its ``exit_code`` is the command's. Strings from the server are
        scrubbed of the API key.

    Raises:
        ConfigurationError: no API key is set.
    """
    prober = _Prober(settings, transport, now, sleep)
    try:
        return _diagnose(prober)
    finally:
        prober.close()


def _diagnose(prober: _Prober) -> DoctorReport:
    settings = prober.settings
    report = DoctorReport(settings.base_url, prober.now(), settings.auth_header)
    answers: dict[str, httpx.Response] = {}
    attempts, problem = _find_auth_header(prober, answers)
    accepted = attempts[-1].header if problem is None else None
    if accepted is None:
        return _finish(prober, report, attempts=attempts, problem=problem)
    checks: dict[str, OperationCheck] = {}
    routes = read_only_routes()
    # Lists first: the routes with an id borrow the first item of theirs.
    for spec in sorted(routes, key=lambda r: bool(r.path_params)):
        checks[spec.operation] = _check(prober, spec, accepted, answers)
    ordered = tuple(checks[spec.operation] for spec in routes)
    return _finish(prober, report, attempts=attempts, accepted_header=accepted, checks=ordered)


def _find_auth_header(
    prober: _Prober, answers: dict[str, httpx.Response]
) -> tuple[tuple[AuthAttempt, ...], str | None]:
    """Try each auth header on the balance until one is accepted (the last attempt).

    The first try doubles as the reachability probe, with short timeouts. Returns the
    attempts and, when none was accepted, the one-line problem. The accepted answer is
    kept in ``answers`` (the balance check reuses it).
    """
    settings = prober.settings
    balance = ROUTES["balance.get"]
    probe_timeout = httpx.Timeout(
        min(settings.timeout, PROBE_READ_TIMEOUT),
        connect=min(settings.connect_timeout, PROBE_CONNECT_TIMEOUT),
    )
    attempts: list[AuthAttempt] = []
    for header in _auth_order(settings.auth_header):
        try:
            response = prober.send(balance, header, timeout=probe_timeout)
        except httpx.TransportError as exc:
            return tuple(attempts), _transport_problem(settings.base_url, exc)
        attempts.append(AuthAttempt(header, response.status_code))
        if response.is_success:
            if not _is_json_object(response.content):
                return tuple(attempts), (
                    f"{settings.base_url} answered {response.status_code} with something "
                    f"other than JSON; check BARRACK_BASE_URL (Barrack's is {DEFAULT_BASE_URL})"
                )
            answers[balance.operation] = response
            return tuple(attempts), None
    return tuple(attempts), _auth_problem(settings.base_url, attempts)


def _check(
    prober: _Prober, spec: Route, header: str, answers: dict[str, httpx.Response]
) -> OperationCheck:
    """Send one operation (with ids borrowed from its list) and inspect the answer."""
    params: dict[str, str] = {}
    if spec.path_params:
        source = _list_route_of(spec)
        listed = answers.get(source.operation) if source else None
        resource_id = _first_id(source, listed.content) if source and listed else None
        if resource_id is None:
            return _unanswered(spec, Verdict.SKIPPED, "no resource to try")
        params = dict.fromkeys(spec.path_params, resource_id)
    response = answers.get(spec.operation)
    if response is None:
        try:
            response = prober.send(spec, header, params=params)
        except httpx.TransportError as exc:
            return _unanswered(spec, Verdict.FAILED, f"{type(exc).__name__}: {exc}")
        answers[spec.operation] = response
    check = inspect_answer(spec, response.status_code, response.content)
    if response.is_redirect:
        location = response.headers.get("Location", "?")
        check = replace(check, notes=(*check.notes, f"redirected to {location}"))
    return check


def _unanswered(spec: Route, verdict: Verdict, note: str) -> OperationCheck:
    """The check of an operation that got no answer (skipped, or the call failed)."""
    return OperationCheck(
        spec.operation,
        spec.method,
        spec.path,
        None,
        spec.status,
        spec.payload,
        verdict=verdict,
        notes=(note,),
    )


def _finish(prober: _Prober, report: DoctorReport, **fields: Any) -> DoctorReport:
    """The report with its fields, the headers seen, and every string scrubbed."""
    secrets = (prober.key,)
    if "checks" in fields:
        fields["checks"] = tuple(_scrub_check(c, secrets) for c in fields["checks"])
    if fields.get("problem"):
        fields["problem"] = scrub(fields["problem"], secrets)
    return replace(
        report,
        **fields,
        rate_limit_headers=scrub(dict(prober.rate_limit_headers), secrets),
        clock_skew_seconds=prober.clock_skew(),
    )


def _scrub_check(check: OperationCheck, secrets: tuple[str, ...]) -> OperationCheck:
    return replace(
        check,
        found_keys=tuple(scrub(list(check.found_keys), secrets)),
        unknown=tuple(scrub(list(check.unknown), secrets)),
        notes=tuple(scrub(note, secrets)[:_NOTE_LIMIT] for note in check.notes),
    )


# -- showing and writing --------------------------------------------------------------------


def _key_cell(check: OperationCheck) -> str:
    """The payload key found, with the expected one when they differ."""
    expected = check.expected_key or "(flat)"
    if check.verdict in (Verdict.SKIPPED, Verdict.FAILED) or check.expected_key is None:
        return expected
    found = ", ".join(check.found_keys) or "none"
    return expected if found == expected else f"{found} (expected {expected})"


_VERDICT_STYLE: Final = {
    Verdict.OK: "green",
    Verdict.DIFFERS: "yellow",
    Verdict.FAILED: "red",
    Verdict.SKIPPED: "dim",
}


def render_report(report: DoctorReport, console: Console) -> None:
    """Print the report: connection and auth lines, the table, headers, skew, totals."""
    console.print(f"Barrack doctor: {report.base_url}", highlight=False, soft_wrap=True)
    tried = ", ".join(f"{a.header}: {a.status}" for a in report.attempts)
    console.print(f"auth header: {report.accepted_header} accepted ({tried})", highlight=False)
    if report.accepted_header and report.accepted_header != report.configured_header:
        console.print(
            f"  the API does not accept {report.configured_header}; set "
            f"BARRACK_AUTH_HEADER={report.accepted_header}",
            highlight=False,
            soft_wrap=True,
        )
    table = Table(title="Read-only operations")
    # Fold rather than crop: on an 80-column terminal every column, verdict last, stays.
    for column in ("operation", "status", "payload key", "missing", "unknown"):
        table.add_column(column, overflow="fold")
    table.add_column("verdict", no_wrap=True)
    for check in report.checks:
        table.add_row(
            Text(check.operation),
            Text("" if check.status is None else str(check.status)),
            Text(_key_cell(check)),
            Text(", ".join(check.missing)),
            Text(", ".join(check.unknown)),
            Text(check.verdict.value, style=_VERDICT_STYLE[check.verdict]),
        )
    console.print(table)
    # Notes go below the table, one line each, so a narrow terminal does not squeeze them.
    for check in report.checks:
        for note in check.notes:
            console.print(Text(f"  {check.operation}: {note}"), soft_wrap=True)
    seen = ", ".join(f"{k}={v}" for k, v in sorted(report.rate_limit_headers.items()))
    console.print(f"rate-limit headers: {seen or 'none seen'}", highlight=False)
    if report.clock_skew_seconds is None:
        console.print("clock skew: the API sent no Date header", highlight=False)
    else:
        warning = (
            "; large: check this machine's clock (NTP)"
            if abs(report.clock_skew_seconds) >= LARGE_CLOCK_SKEW
            else ""
        )
        console.print(
            f"clock skew: {report.clock_skew_seconds:+.1f} s (the API's Date, whole seconds, "
            f"minus this clock){warning}",
            highlight=False,
        )
    totals = ", ".join(f"{report.count(v)} {v.value}" for v in Verdict)
    console.print(f"result: {totals}; exit {report.exit_code}", highlight=False)


def _redacted(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` with secret fields dropped and every string scrubbed."""
    if isinstance(value, dict):
        return {
            scrub(k, secrets): _redacted(v, secrets)
            for k, v in value.items()
            if str(k).lower() not in SECRET_FIELDS
        }
    if isinstance(value, list | tuple):
        return [_redacted(item, secrets) for item in value]
    return scrub(value, secrets)


def report_as_dict(report: DoctorReport, secrets: tuple[str, ...]) -> dict[str, Any]:
    """The report as JSON-ready data a user can attach to a bug (no key, no secret field)."""
    data = {
        "tool": f"barrack-ops {__version__} doctor",
        "checked_at": report.checked_at.isoformat().replace("+00:00", "Z"),
        "base_url": report.base_url,
        "exit_code": report.exit_code,
        "problem": report.problem,
        "auth": {
            "configured_header": report.configured_header,
            "accepted_header": report.accepted_header,
            "attempts": [asdict(a) for a in report.attempts],
        },
        "operations": [asdict(c) | {"verdict": c.verdict.value} for c in report.checks],
        "rate_limit_headers": report.rate_limit_headers,
        "clock_skew_seconds": report.clock_skew_seconds,
        "totals": {v.value: report.count(v) for v in Verdict},
    }
    redacted: dict[str, Any] = _redacted(data, secrets)
    return redacted


def write_report_json(report: DoctorReport, target: str, secrets: tuple[str, ...]) -> None:
    """Write the report as JSON to ``target`` (a path, or ``-`` for stdout)."""
    text = json.dumps(report_as_dict(report, secrets), indent=2) + "\n"
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        Path(target).write_text(text, encoding="utf-8")
