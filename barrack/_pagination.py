"""Lazy iteration over paginated list operations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from barrack.models._base import Pagination

__all__ = ["AsyncPaginator", "Page"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list: its items and where it sits."""

    items: list[T]
    number: int
    pagination: Pagination | None

    @property
    def has_next(self) -> bool:
        """Whether a later page exists."""
        if self.pagination is None:
            return False
        return self.pagination.page < self.pagination.total_pages


class AsyncPaginator(Generic[T]):
    """Every item of a list operation, fetching further pages only as they are reached.

    ``async for item in client.instances.list():`` walks all pages; ``await
    paginator.get_page(2)`` fetches one page; ``await paginator.to_list()`` collects all.

    Args:
        fetch: fetches page ``n`` (1-based).
        start: the first page to fetch.
    """

    def __init__(self, fetch: Callable[[int], Awaitable[Page[T]]], *, start: int = 1) -> None:
        if start < 1:
            raise ValueError("pages are numbered from 1")
        self._fetch = fetch
        self._start = start

    async def get_page(self, number: int) -> Page[T]:
        """Fetch one page (1-based)."""
        if number < 1:
            raise ValueError("pages are numbered from 1")
        return await self._fetch(number)

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Yield page after page until the last."""
        number = self._start
        while True:
            page = await self._fetch(number)
            yield page
            if not page.has_next or not page.items:
                return
            number += 1

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item

    async def to_list(self) -> list[T]:
        """Every item of every page."""
        return [item async for item in self]
