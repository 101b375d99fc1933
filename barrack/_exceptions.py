"""The one exception tree of the Barrack client.

::

    BarrackError
    ├── ConfigurationError            bad or missing settings (API key, base URL)
    ├── RequestValidationError        a request failed validation; nothing was sent
    ├── APIConnectionError            no usable response: refused, reset, dropped mid-body
    │   ├── APITimeoutError           connect, read, write or pool timeout
    │   └── APIUnreachableError       nothing answered yet: refused, unknown host, TLS
    ├── APIResponseValidationError    a response that does not match the contract
    └── APIStatusError                a contract ErrorResponse (or a bare error status)
        ├── APIRefusedError           2xx whose body says ``"success": false``
        ├── BadRequestError           400 VALIDATION_ERROR
        ├── AuthenticationError       401 UNAUTHORIZED
        ├── InsufficientCreditsError  402 INSUFFICIENT_CREDITS
        ├── ProfileIncompleteError    403 PROFILE_INCOMPLETE
        ├── NotFoundError             404 NOT_FOUND
        ├── ConflictError             409
        │   ├── DuplicateNameError          DUPLICATE_NAME
        │   ├── InvalidStateError           INVALID_STATE
        │   ├── InvalidSnapshotStatusError  INVALID_SNAPSHOT_STATUS
        │   └── OutOfStockError             OUT_OF_STOCK
        ├── SnapshotDeletedError      410 SNAPSHOT_DELETED
        ├── UnprocessableEntityError  422
        │   ├── InvalidNameFormatError      INVALID_NAME_FORMAT
        │   ├── RegionIncompatibleError     REGION_INCOMPATIBLE
        │   └── Layer2ValidationError       LAYER2_VALIDATION_FAILED
        ├── RateLimitError            429 RATE_LIMITED (carries ``retry_after``)
        └── ServerError               5xx
            ├── InternalServerError         500 INTERNAL
            └── ServiceUnavailableError     503 UNAVAILABLE (and 502, 504)

Every :class:`APIStatusError` carries ``status``, ``code``, ``message``, ``details`` and
``request_id``. Messages never contain the API key: the client never puts request headers
into an exception, and whatever the server wrote (a message, details, an HTML page that
echoes the request's headers) is passed through :func:`scrub` with every secret the client
holds before it reaches an exception.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "SCRUBBED",
    "APIConnectionError",
    "APIRefusedError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "APIUnreachableError",
    "AuthenticationError",
    "BadRequestError",
    "BarrackError",
    "ConfigurationError",
    "ConflictError",
    "DuplicateNameError",
    "InsufficientCreditsError",
    "InternalServerError",
    "InvalidNameFormatError",
    "InvalidSnapshotStatusError",
    "InvalidStateError",
    "Layer2ValidationError",
    "NotFoundError",
    "OutOfStockError",
    "ProfileIncompleteError",
    "RateLimitError",
    "RegionIncompatibleError",
    "RequestValidationError",
    "ServerError",
    "ServiceUnavailableError",
    "SnapshotDeletedError",
    "UnprocessableEntityError",
    "scrub",
    "status_error_class",
]

SCRUBBED = "[secret]"
"""What a secret found in a server's words is replaced with."""


def scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` with every occurrence of every secret replaced by :data:`SCRUBBED`.

    Strings, and the strings inside lists and dicts (keys too), are scrubbed; anything else
    is returned as it is. Secrets shorter than 4 characters are ignored (they would match
    ordinary text).
    """
    useful = tuple(secret for secret in secrets if len(secret) >= 4)
    if not useful:
        return value
    if isinstance(value, str):
        for secret in useful:
            if secret in value:
                value = value.replace(secret, SCRUBBED)
        return value
    if isinstance(value, list):
        return [scrub(item, useful) for item in value]
    if isinstance(value, dict):
        return {scrub(k, useful): scrub(v, useful) for k, v in value.items()}
    return value


class BarrackError(Exception):
    """Base of every error this client raises."""

    def describe(self) -> str:
        """The error for people, on one line: its own text, which says what and where.

        ``notifications.text.describe_error`` calls this on any error that has it, so the
        alerts need not import the client.
        """
        return " ".join(str(self).split()) or type(self).__name__


class ConfigurationError(BarrackError):
    """The client's settings are missing or invalid (the message names the setting)."""


class RequestValidationError(BarrackError, ValueError):
    """A request did not pass validation before sending; no HTTP call was made.

    Attributes:
        operation: the operation that was refused, e.g. ``"snapshots.create"``.
        errors: one ``(field, problem)`` pair per failed field.
    """

    def __init__(self, operation: str, errors: list[tuple[str, str]]) -> None:
        self.operation = operation
        self.errors = errors
        problems = "; ".join(f"{field}: {problem}" for field, problem in errors)
        super().__init__(f"invalid {operation} request: {problems}")


class APIConnectionError(BarrackError):
    """The request got no usable response (refused, reset, or the body was cut off)."""

    def __init__(self, message: str, *, method: str, path: str) -> None:
        self.method = method
        self.path = path
        super().__init__(f"{method} {path}: {message}")


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or waiting for a pooled connection)."""


class APIUnreachableError(APIConnectionError):
    """The client's first contact found nothing there: the connection was refused, the
    host name did not resolve, TLS failed or connecting timed out, and no earlier call of
    this client got an answer. Not retried: another attempt a second later meets the same
    closed port, so the run ends at once (a drop after answers is retried)."""


class APIResponseValidationError(BarrackError):
    """The server answered, but not in the shape the contract promises."""

    def __init__(
        self, message: str, *, method: str, path: str, status: int, request_id: str | None
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.request_id = request_id
        super().__init__(f"{method} {path} -> {status}: {message}")


class APIStatusError(BarrackError):
    """The API answered with an error status.

    Attributes:
        status: the HTTP status code.
        code: the contract's ``error.code`` (``"HTTP_<status>"`` when the body had none).
        message: the server's message.
        details: the server's ``error.details`` (``{}`` when absent).
        request_id: the server's request id, for support tickets.
        method: the HTTP method of the request.
        path: the request path (never the query string or headers).
        retried_after_lost_answer: an earlier attempt of the same call got no answer (the
            connection was cut, or it timed out), so that attempt may have made the change
            this answer refuses: a ``409`` to a retried POST is often its own effect.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str,
        details: dict[str, Any] | None = None,
        request_id: str | None = None,
        method: str = "",
        path: str = "",
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        self.request_id = request_id
        self.method = method
        self.path = path
        self.retried_after_lost_answer = False
        where = f"{method} {path} -> " if method else ""
        rid = f" (request {request_id})" if request_id else ""
        super().__init__(f"{where}{status} {code}: {message}{rid}")

    def describe(self) -> str:
        """``CODE: message (request id)``: what a person acts on, without method and path."""
        request = f" (request {self.request_id})" if self.request_id else ""
        return f"{self.code}: {' '.join(self.message.split())}{request}"


class APIRefusedError(APIStatusError):
    """A success status whose body says ``"success": false``: the API did not do it."""


class BadRequestError(APIStatusError):
    """400: the server refused the request as malformed."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or wrong."""


class InsufficientCreditsError(APIStatusError):
    """402: the balance is under the minimum needed to create resources."""


class ProfileIncompleteError(APIStatusError):
    """403: the account profile must be complete before creating resources."""


class NotFoundError(APIStatusError):
    """404: the resource does not exist (``details`` names it)."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's current state."""


class DuplicateNameError(ConflictError):
    """409 DUPLICATE_NAME: the name is taken."""


class InvalidStateError(ConflictError):
    """409 INVALID_STATE: the resource's status does not allow the action."""

    @property
    def current_status(self) -> str | None:
        """The status the server reported, when it did."""
        value = self.details.get("current_status")
        return str(value) if value is not None else None

    @property
    def allowed(self) -> list[str]:
        """The statuses from which the action would have been allowed."""
        value = self.details.get("allowed")
        return [str(v) for v in value] if isinstance(value, list) else []


class InvalidSnapshotStatusError(ConflictError):
    """409 INVALID_SNAPSHOT_STATUS: the snapshot is not ready."""


class OutOfStockError(ConflictError):
    """409 OUT_OF_STOCK: no GPUs of that model and count are free in the region."""


class SnapshotDeletedError(APIStatusError):
    """410 SNAPSHOT_DELETED: the snapshot was deleted."""


class UnprocessableEntityError(APIStatusError):
    """422: the request is well-formed but breaks a platform rule."""


class InvalidNameFormatError(UnprocessableEntityError):
    """422 INVALID_NAME_FORMAT."""


class RegionIncompatibleError(UnprocessableEntityError):
    """422 REGION_INCOMPATIBLE: the target region does not offer what the request needs."""


class Layer2ValidationError(UnprocessableEntityError):
    """422 LAYER2_VALIDATION_FAILED."""


class RateLimitError(APIStatusError):
    """429 RATE_LIMITED.

    Attributes:
        retry_after: seconds the server asked the client to wait, when it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServerError(APIStatusError):
    """5xx: the server failed."""


class InternalServerError(ServerError):
    """500 INTERNAL."""


class ServiceUnavailableError(ServerError):
    """503 UNAVAILABLE, and the gateway errors 502 and 504."""


_BY_CODE: dict[str, type[APIStatusError]] = {
    "VALIDATION_ERROR": BadRequestError,
    "UNAUTHORIZED": AuthenticationError,
    "INSUFFICIENT_CREDITS": InsufficientCreditsError,
    "PROFILE_INCOMPLETE": ProfileIncompleteError,
    "NOT_FOUND": NotFoundError,
    "DUPLICATE_NAME": DuplicateNameError,
    "INVALID_STATE": InvalidStateError,
    "INVALID_SNAPSHOT_STATUS": InvalidSnapshotStatusError,
    "OUT_OF_STOCK": OutOfStockError,
    "SNAPSHOT_DELETED": SnapshotDeletedError,
    "INVALID_NAME_FORMAT": InvalidNameFormatError,
    "REGION_INCOMPATIBLE": RegionIncompatibleError,
    "LAYER2_VALIDATION_FAILED": Layer2ValidationError,
    "RATE_LIMITED": RateLimitError,
    "INTERNAL": InternalServerError,
    "UNAVAILABLE": ServiceUnavailableError,
}

_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: ProfileIncompleteError,
    404: NotFoundError,
    409: ConflictError,
    410: SnapshotDeletedError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    500: InternalServerError,
    502: ServiceUnavailableError,
    503: ServiceUnavailableError,
    504: ServiceUnavailableError,
}


def status_error_class(status: int, code: str | None) -> type[APIStatusError]:
    """The exception class for an error response: by code first, then by status family.

    A refusal under a success status (``200`` with ``"success": false``) and no known code
    is an :class:`APIRefusedError`.
    """
    if code is not None and code in _BY_CODE:
        return _BY_CODE[code]
    if 200 <= status < 300:
        return APIRefusedError
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return APIStatusError
