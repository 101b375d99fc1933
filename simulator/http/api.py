"""Mount every operation of ``barrack._wire.ROUTES`` under ``/v1``: the route table is data.

Each endpoint parses (query, body), brings the backend up to now, calls the operation's
handler and serialises the reply in the operation's ``barrack.models`` envelope with the
route's success status.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel
from starlette.requests import Request

from barrack import models as barrack_models
from barrack._wire import API_PREFIX, ROUTES, Route
from simulator.http.handlers import HANDLERS, Call
from simulator.http.parsing import parse_body, parse_query
from simulator.http.router import Endpoint, HTTPReply, Router
from simulator.runtime import SimRuntime

__all__ = ["BODY_METHODS", "build_api_router"]

BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _endpoint(route: Route, runtime: SimRuntime) -> Endpoint:
    handler = HANDLERS[route.operation]
    envelope: type[BaseModel] = getattr(barrack_models, route.response)
    to_json = envelope.__pydantic_serializer__.to_json
    status = route.status
    reads_body = route.method in BODY_METHODS

    async def endpoint(request: Request, params: dict[str, str]) -> HTTPReply:
        raw = await request.body() if reads_body else b""
        query = parse_query(route, request.query_params)
        body = parse_body(route, raw)
        backend = runtime.backend
        backend.sync()
        reply = handler(backend, Call(params, query, body))
        fields: dict[str, Any] = {"data": reply.data}
        if reply.pagination is not None:
            fields["pagination"] = reply.pagination
        if reply.message is not None:
            fields["message"] = reply.message
        return HTTPReply(status, to_json(envelope(**fields)))

    endpoint.__name__ = route.operation.replace(".", "_")
    return endpoint


def build_api_router(runtime: SimRuntime) -> Router:
    """A router with every operation of the route table, at ``/v1`` + its path.

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
