"""JSON bodies of replies: success envelopes, ErrorResponses, plain JSON."""

from __future__ import annotations

import json
from typing import Any, Final

from barrack._wire import HEADER_REQUEST_ID
from barrack.models import ErrorBody, ErrorResponse
from simulator.errors import SimError
from simulator.http.router import HTTPReply

__all__ = [
    "REQUEST_ID_HEADER",
    "REQUEST_ID_SCOPE_KEY",
    "error_reply",
    "json_reply",
    "request_id_header",
]

REQUEST_ID_HEADER: Final = HEADER_REQUEST_ID.lower().encode()
REQUEST_ID_SCOPE_KEY: Final = "simulator.request_id"
"""Where the gateway leaves an API request's id in the ASGI scope for the body's ``request_id``."""


def request_id_header(request_id: str) -> tuple[bytes, bytes]:
    """The ``X-Request-Id`` header."""
    return (REQUEST_ID_HEADER, request_id.encode())


def error_reply(
    error: SimError,
    request_id: str,
    status: int | None = None,
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> HTTPReply:
    """An ErrorResponse reply (status from the error's B2 code unless given)."""
    body = ErrorResponse(
        message=error.message,
        error=ErrorBody(code=error.code, details=error.details),
        request_id=request_id,
    )
    return HTTPReply(
        status if status is not None else error.status,
        body.__pydantic_serializer__.to_json(body, exclude_none=True),
        (request_id_header(request_id), *headers),
    )


def json_reply(data: Any, status: int = 200, request_id: str | None = None) -> HTTPReply:
    """A plain JSON reply (control routes, Prometheus)."""
    headers = (request_id_header(request_id),) if request_id is not None else ()
    return HTTPReply(status, json.dumps(data, separators=(",", ":")).encode(), headers)
