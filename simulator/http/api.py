"""Mount every operation of ``barrack._wire.ROUTES`` under ``/api``: the route table is data.

Each endpoint parses (query, body), brings the backend up to now, calls the operation's
handler and serialises the reply in the operation's ``barrack.models`` schema with the
route's success status: the payload under the route's key, or flat fields beside
``success`` (``barrack._wire.FLAT``), money as exact JSON numbers.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel
from starlette.requests import Request

from barrack import models as barrack_models
from barrack._json import dump_wire
from barrack._wire import API_PREFIX, ROUTES, Route
from simulator.http.handlers import HANDLERS, Call
from simulator.http.parsing import parse_body, parse_query
from simulator.http.responses import REQUEST_ID_SCOPE_KEY
from simulator.http.router import Endpoint, HTTPReply, Router
from simulator.runtime import SimRuntime

__all__ = ["BODY_METHODS", "build_api_router"]

BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _endpoint(route: Route, runtime: SimRuntime) -> Endpoint:
    handler = HANDLERS[route.operation]
    schema: type[BaseModel] = getattr(barrack_models, route.response)
    status = route.status
    default_message = f"{route.operation} succeeded"
    reads_body = route.method in BODY_METHODS

    async def endpoint(request: Request, params: dict[str, str]) -> HTTPReply:
        raw = await request.body() if reads_body else b""
        query = parse_query(route, request.query_params)
        body = parse_body(route, raw)
        backend = runtime.backend
        backend.sync()
        reply = handler(backend, Call(params, query, body))
        fields: dict[str, Any] = {
            "message": reply.message or default_message,
            "request_id": request.scope.get(REQUEST_ID_SCOPE_KEY),
        }
        if route.payload is None:
            fields.update(reply.data)
        else:
            fields["payload"] = reply.data
        if reply.pagination is not None:
            fields["pagination"] = reply.pagination
        content = dump_wire(schema(**fields), exclude_none=route.payload is None or reply.compact)
        rename = backend.settings.payload_keys.get(route.operation)
        if rename is not None and route.payload is not None:
            content = _renamed(content, route.payload, rename)
        return HTTPReply(status, content)

    endpoint.__name__ = route.operation.replace(".", "_")
    return endpoint


def _renamed(content: bytes, key: str, new_key: str) -> bytes:
    """The answer with its payload under ``new_key`` (the ``payload_keys`` setting)."""
    # The payload key is the first place ``"key":`` occurs: the keys before it are the
    # envelope's, and the same text inside a string value would be escaped.
    return content.replace(f'"{key}":'.encode(), f'"{new_key}":'.encode(), 1)


def build_api_router(runtime: SimRuntime) -> Router:
    """A router with every operation of the route table, at ``/api`` + its path.

    Raises:
        LookupError: an operation has no handler (the simulator must serve them all).
    """
    missing = sorted(set(ROUTES) - set(HANDLERS))
    if missing:
        raise LookupError(f"operations without a simulator handler: {missing}")
    router = Router()
    for route in ROUTES.values():
        router.add(route.method, API_PREFIX + route.path, _endpoint(route, runtime), route)
    return router
