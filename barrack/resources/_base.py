"""What every resource facade shares: a handle on the client's one request pipeline."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from barrack._exceptions import RequestValidationError
from barrack._pagination import AsyncPaginator, Page
from barrack._wire import MAX_PER_PAGE
from barrack.models._base import Envelope

if TYPE_CHECKING:
    from barrack._client import AsyncBarrack, QueryValue

__all__ = ["AsyncResource", "timestamp_param"]

T = TypeVar("T")


def timestamp_param(value: datetime | None) -> str | None:
    """A datetime as an RFC 3339 query value (aware datetimes only)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return value.isoformat().replace("+00:00", "Z")


class AsyncResource:
    """Base of the resource groups (``client.instances``, ``client.snapshots``, ...)."""

    def __init__(self, client: AsyncBarrack) -> None:
        self._client = client

    def _paginate(
        self,
        operation: str,
        response_model: type[Envelope[list[T]]],
        *,
        query: Mapping[str, QueryValue] | None = None,
        per_page: int = 50,
        start_page: int = 1,
    ) -> AsyncPaginator[T]:
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise RequestValidationError(
                operation, [("per_page", f"must be between 1 and {MAX_PER_PAGE}")]
            )
        base: dict[str, Any] = dict(query or {})

        async def fetch(number: int) -> Page[T]:
            envelope = await self._client.request(
                operation,
                response_model,
                query={**base, "page": number, "per_page": per_page},
            )
            return Page(items=list(envelope.payload), number=number, pagination=envelope.pagination)

        return AsyncPaginator(fetch, start=start_page)
