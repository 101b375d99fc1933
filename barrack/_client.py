"""The request pipeline every resource method goes through.

One path for every call: validate, wait for the shared rate limiter, send with a timeout,
map errors onto the exception tree, retry what is transient (same ``Idempotency-Key`` on
every attempt of a POST), and parse the answer into the operation's response model.

Three rules hold for every answer:

* an answer whose body says ``"success": false`` is a failure, whatever its status (a
  ``200`` refusal raises :class:`~barrack.APIRefusedError` or the class of its code);
* money is read exactly from the JSON number's text (``barrack._json``);
* the server's own words reach an exception only after every secret the client holds has
  been scrubbed from them (a 401 text or a proxy's page may quote the key back).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import anyio
import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from barrack._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    APIUnreachableError,
    BarrackError,
    RateLimitError,
    RequestValidationError,
    scrub,
    status_error_class,
)
from barrack._json import dump_wire, load_wire
from barrack._ratelimit import (
    RateLimiter,
    announced_rate,
    following_rate_limiter,
    shared_rate_limiter,
)
from barrack._retry import RetryPolicy, parse_retry_after, retry_delay
from barrack._settings import BarrackSettings
from barrack._version import __version__
from barrack._wire import (
    HEADER_IDEMPOTENCY_KEY,
    HEADER_RATELIMIT_LIMIT,
    HEADER_REQUEST_ID,
    HEADER_RETRY_AFTER,
    Route,
    auth_header_value,
    route,
)
from barrack.models._base import ErrorResponse
from barrack.resources.ai import AsyncAI
from barrack.resources.billing import AsyncBilling
from barrack.resources.catalog import (
    AsyncBalance,
    AsyncGPUSpecs,
    AsyncGPUStocks,
    AsyncOSImages,
    AsyncPricing,
    AsyncRegions,
)
from barrack.resources.instances import AsyncInstances
from barrack.resources.network import AsyncFirewalls, AsyncScripts
from barrack.resources.snapshots import AsyncSnapshots
from barrack.resources.storage import AsyncImages, AsyncSSHKeys, AsyncVolumes

__all__ = ["AsyncBarrack"]

logger = logging.getLogger("barrack")

E = TypeVar("E", bound=BaseModel)
M = TypeVar("M", bound=BaseModel)

QueryValue = str | int | float | bool | None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _new_idempotency_key() -> str:
    return uuid.uuid4().hex


def validation_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """``(field, problem)`` pairs from a pydantic error, never echoing the input."""
    return [
        (".".join(str(part) for part in err["loc"]) or "body", err["msg"])
        for err in exc.errors(include_input=False, include_url=False)
    ]


class AsyncBarrack:
    """Async client for the whole Barrack API.

    Args:
        api_key: the API key; defaults to ``BARRACK_API_KEY``.
        base_url: the API base URL; defaults to ``BARRACK_BASE_URL`` or Barrack's.
        settings: complete settings (the two arguments above override them).
        retry_policy: attempts and backoff; defaults follow ``settings.max_attempts``.
        rate_limiter: a limiter to share; defaults to the process-wide one for this base
            URL and key when ``settings.rate_limit`` is set, else none (see below).
        follow_rate_limit: with no limiter and no ``settings.rate_limit``, share the
            process-wide limiter for this base URL and key that adopts the limit the API
            announces (``X-RateLimit-Limit``), so concurrent calls queue at the API's pace
            instead of bouncing off 429s. Off by default; the recipes' tasks turn it on.
        transport: an httpx transport (tests, proxies).
        sleep: the async sleep between retries (tests inject a fake).
        rng: the source of retry jitter.
        now: the wall clock, for ``Retry-After`` dates.
        new_idempotency_key: makes the ``Idempotency-Key`` of each POST call.

    Example:
        >>> async with AsyncBarrack() as client:  # doctest: +SKIP
        ...     balance = await client.balance.get()
        ...     async for vm in client.instances.list(status="ACTIVE"):
        ...         print(vm.name, vm.hourly_price, balance.currency)
    """

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        *,
        base_url: str | None = None,
        settings: BarrackSettings | None = None,
        retry_policy: RetryPolicy | None = None,
        rate_limiter: RateLimiter | None = None,
        follow_rate_limit: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        rng: random.Random | None = None,
        now: Callable[[], datetime] = _utcnow,
        new_idempotency_key: Callable[[], str] = _new_idempotency_key,
    ) -> None:
        base = settings or BarrackSettings.load()
        overrides: dict[str, Any] = {}
        if api_key is not None:
            overrides["api_key"] = api_key
        if base_url is not None:
            overrides["base_url"] = base_url
        if overrides:
            base = BarrackSettings.load(**{**_settings_dict(base), **overrides})
        self.settings = base
        self._api_key = base.require_api_key()
        self._secrets = (self._api_key.get_secret_value(),)
        self.retry_policy = retry_policy or RetryPolicy(
            max_attempts=base.max_attempts, max_retry_after=base.max_retry_after
        )
        limiter_key = f"{base.base_url}#{_key_fingerprint(self._api_key)}"
        self._follows_api = False
        if rate_limiter is None and base.rate_limit is not None:
            rate_limiter = shared_rate_limiter(limiter_key, base.rate_limit, base.rate_limit_burst)
        elif rate_limiter is None and follow_rate_limit:
            rate_limiter = following_rate_limiter(limiter_key)
            self._follows_api = True
        self.rate_limiter = rate_limiter
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._now = now
        self._new_idempotency_key = new_idempotency_key
        # Whether any answer came back yet: a refused connection before the first one
        # means nothing is there (APIUnreachableError, not retried); after it, a blip.
        self._answered = False
        self._http = httpx.AsyncClient(
            base_url=base.base_url,
            timeout=httpx.Timeout(base.timeout, connect=base.connect_timeout),
            verify=base.verify_tls,
            transport=transport,
            headers={"User-Agent": f"barrack-ops/{__version__}", "Accept": "application/json"},
            follow_redirects=False,
        )
        self.balance = AsyncBalance(self)
        self.regions = AsyncRegions(self)
        self.gpu_stocks = AsyncGPUStocks(self)
        self.gpu_specs = AsyncGPUSpecs(self)
        self.pricing = AsyncPricing(self)
        self.os_images = AsyncOSImages(self)
        self.instances = AsyncInstances(self)
        self.snapshots = AsyncSnapshots(self)
        self.volumes = AsyncVolumes(self)
        self.images = AsyncImages(self)
        self.ssh_keys = AsyncSSHKeys(self)
        self.firewalls = AsyncFirewalls(self)
        self.scripts = AsyncScripts(self)
        self.ai = AsyncAI(self)
        self.billing = AsyncBilling(self)

    def __repr__(self) -> str:
        return f"AsyncBarrack(base_url={self.settings.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # -- the pipeline ---------------------------------------------------------------------

    def build(self, model: type[M], operation: str, /, **fields: Any) -> M:
        """Validate a request body before anything is sent.

        Raises:
            RequestValidationError: naming every bad field; no HTTP call is made.
        """
        try:
            return model.model_validate({k: v for k, v in fields.items() if v is not None})
        except ValidationError as exc:
            raise RequestValidationError(operation, validation_problems(exc)) from None

    async def request(
        self,
        operation: str,
        response_model: type[E],
        *,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, QueryValue] | None = None,
        body: BaseModel | Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> E:
        """Send one operation and return its parsed envelope.

        Args:
            operation: the route table's name, e.g. ``"instances.hibernate"``.
            response_model: the envelope model the route table names for it.
            path_params: values for the path's placeholders.
            query: query parameters (None values are left out).
            body: the request body, a validated model or a plain mapping.
            idempotency_key: for POSTs; generated once per call when not given and reused
                on every retry of the call.
        """
        spec = route(operation)
        if response_model.__name__ != spec.response:
            raise TypeError(f"{operation} answers {spec.response}, not {response_model.__name__}")
        try:
            path = spec.format_path(**dict(path_params or {}))
        except KeyError as exc:
            raise RequestValidationError(
                operation, [(str(exc), "missing path parameter")]
            ) from None
        if spec.query_mirrors_body and isinstance(body, BaseModel):
            # Part C's POST pricing carries its fields as query parameters and as a body.
            query = {**body.model_dump(mode="json", exclude_none=True), **(query or {})}
        params = _query_params(query)
        headers: dict[str, str] = {
            self.settings.auth_header: auth_header_value(
                self.settings.auth_header, self._api_key.get_secret_value()
            )
        }
        if spec.method == "POST":
            headers[HEADER_IDEMPOTENCY_KEY] = idempotency_key or self._new_idempotency_key()
        payload = _json_body(body)
        if payload is not None:
            headers["Content-Type"] = "application/json"

        attempt = 0
        answer_lost = False
        while True:
            attempt += 1
            try:
                return await self._attempt(spec, path, params, headers, payload, response_model)
            except BarrackError as error:
                delay = retry_delay(error, attempt, self.retry_policy, self._rng)
                if delay is None:
                    if answer_lost and isinstance(error, APIStatusError):
                        # An earlier attempt may have made the change this answer refuses.
                        error.retried_after_lost_answer = True
                    raise
                answer_lost = answer_lost or isinstance(error, APIConnectionError)
                if isinstance(error, RateLimitError) and self.rate_limiter is not None:
                    self.rate_limiter.pause(delay)
                logger.warning(
                    "retrying %s %s: attempt %d of %d failed (%s); next in %.2fs",
                    spec.method,
                    path,
                    attempt,
                    self.retry_policy.max_attempts,
                    _reason(error),
                    delay,
                )
                await self._sleep(delay)

    async def _attempt(
        self,
        spec: Route,
        path: str,
        params: dict[str, str],
        headers: dict[str, str],
        payload: bytes | None,
        response_model: type[E],
    ) -> E:
        if self.rate_limiter is not None:
            await self.rate_limiter.acquire()
        try:
            response = await self._http.request(
                spec.method,
                path.lstrip("/"),
                params=params or None,
                headers=headers,
                content=payload,
            )
        except httpx.TransportError as exc:
            if not self._answered and isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
                # Nothing has answered this client yet: a wrong URL or a server that is
                # down, not a blip; retrying would only delay the same answer.
                raise APIUnreachableError(
                    f"nothing answers at {self.settings.base_url} ({type(exc).__name__}: "
                    f"{scrub(str(exc), self._secrets) or 'no detail'})",
                    method=spec.method,
                    path=path,
                ) from None
            if isinstance(exc, httpx.TimeoutException):
                raise APITimeoutError(
                    f"timed out ({type(exc).__name__})", method=spec.method, path=path
                ) from None
            raise APIConnectionError(
                f"connection failed ({type(exc).__name__}: {scrub(str(exc), self._secrets)})",
                method=spec.method,
                path=path,
            ) from None
        self._answered = True
        if self._follows_api:
            self._follow_announced_limit(response)
        if response.is_success:
            return _parse_success(response, response_model, spec, path, self._secrets)
        raise _status_error(response, spec, path, self._now(), self._secrets)

    def _follow_announced_limit(self, response: httpx.Response) -> None:
        rate = announced_rate(response.headers.get(HEADER_RATELIMIT_LIMIT))
        limiter = self.rate_limiter
        if rate is not None and limiter is not None and rate != limiter.rate:
            logger.info("following the API's rate limit: %g requests per second", rate)
            limiter.adopt(rate)


def _settings_dict(settings: BarrackSettings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in type(settings).model_fields}


def _key_fingerprint(key: SecretStr) -> str:
    return hashlib.sha256(key.get_secret_value().encode()).hexdigest()[:12]


def _query_params(query: Mapping[str, QueryValue] | None) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in (query or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[name] = "true" if value else "false"
        else:
            params[name] = str(value)
    return params


def _json_body(body: BaseModel | Mapping[str, Any] | None) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, BaseModel):
        return dump_wire(body, exclude_none=True)
    return json.dumps(dict(body), separators=(",", ":")).encode()


def _reason(error: BarrackError) -> str:
    if isinstance(error, APIStatusError):
        return f"{error.status} {error.code}"
    return type(error).__name__


def _parse_success(
    response: httpx.Response, model: type[E], spec: Route, path: str, secrets: tuple[str, ...]
) -> E:
    header_request_id = response.headers.get(HEADER_REQUEST_ID)

    def invalid(problem: str, request_id: str | None) -> APIResponseValidationError:
        return APIResponseValidationError(
            scrub(f"response does not match {model.__name__}: {problem}", secrets),
            method=spec.method,
            path=path,
            status=response.status_code,
            request_id=scrub(request_id, secrets),
        )

    try:
        body = load_wire(response.content)
    except ValueError:
        kind = response.headers.get("content-type", "no content type")
        raise invalid(f"the body is not JSON ({kind})", header_request_id) from None
    if isinstance(body, dict) and body.get("success") is False:
        # A refusal under a success status: read it as the error it is.
        raise _refusal(response.status_code, body, spec, path, header_request_id, secrets)
    request_id = header_request_id
    if isinstance(body, dict) and isinstance(body.get("request_id"), str):
        request_id = body["request_id"]
    try:
        parsed = model.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(f"{f}: {p}" for f, p in validation_problems(exc)[:5])
        raise invalid(problems, request_id) from None
    if getattr(parsed, "request_id", None) is None and request_id is not None:
        parsed.request_id = request_id  # type: ignore[attr-defined]
    return parsed


def _refusal(
    status: int,
    body: dict[str, Any],
    spec: Route,
    path: str,
    header_request_id: str | None,
    secrets: tuple[str, ...],
) -> APIStatusError:
    """The exception for an answer whose body says ``"success": false``."""
    try:
        parsed = ErrorResponse.model_validate(body)
    except ValidationError:
        parsed = ErrorResponse()
    code = parsed.error.code if parsed.error is not None else None
    message = parsed.message or (parsed.error.message if parsed.error else None) or "refused"
    details = parsed.error.details if parsed.error is not None else None
    cls = status_error_class(status, code)
    return cls(
        scrub(message, secrets),
        status=status,
        code=scrub(code, secrets) if code else ("REFUSED" if status < 300 else f"HTTP_{status}"),
        details=scrub(details, secrets),
        request_id=scrub(parsed.request_id or header_request_id, secrets),
        method=spec.method,
        path=path,
    )


def _status_error(
    response: httpx.Response,
    spec: Route,
    path: str,
    now: datetime,
    secrets: tuple[str, ...],
) -> APIStatusError:
    status = response.status_code
    request_id = response.headers.get(HEADER_REQUEST_ID)
    code: str | None = None
    message = response.reason_phrase or "error"
    details: dict[str, Any] | None = None
    try:
        body = load_wire(response.content)
        parsed = ErrorResponse.model_validate(body)
    except (ValueError, ValidationError):
        # Not our error body: a proxy's HTML page, plain text, empty. Keep a short excerpt.
        # Scrub before cutting, or the cut could keep the first characters of a secret.
        text = " ".join(scrub(response.text, secrets).split())
        if text:
            message = f"{message}: {text[:200]}"
    else:
        if parsed.error is not None:
            code = parsed.error.code
            details = parsed.error.details
        message = parsed.message or (parsed.error.message if parsed.error else None) or message
        request_id = parsed.request_id or request_id
    cls = status_error_class(status, code)
    common: dict[str, Any] = {
        "status": status,
        "code": scrub(code, secrets) if code else f"HTTP_{status}",
        "details": scrub(details, secrets),
        "request_id": scrub(request_id, secrets),
        "method": spec.method,
        "path": path,
    }
    message = scrub(message, secrets)
    if issubclass(cls, RateLimitError):
        retry_after = parse_retry_after(response.headers.get(HEADER_RETRY_AFTER), now)
        return cls(message, retry_after=retry_after, **common)
    return cls(message, **common)
