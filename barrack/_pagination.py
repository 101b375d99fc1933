"""Lazy iteration over paginated list operations."""

from __future__ import annotations

import asyncio
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

    async def to_list(
        self, *, concurrency: int = 1, key: Callable[[T], object] | None = None
    ) -> list[T]:
        """Every item of every page.

        Args:
            concurrency: pages in flight at once. Above 1, the first page tells how many
                there are, the others are fetched that many at a time and joined in page
                order; if the listing grew meanwhile, the walk goes on page by page to
                its end, as a sequential walk would. A page walk is bound by the
                latency, not by the rate limit, so a few pages in flight (paced by the
                client's rate limiter) shorten a long listing several times.
            key: an item's identity (such as its id). Given, an item that shifted onto
                the next page while the listing was read is kept once.

        Raises:
            ValueError: ``concurrency`` is below 1.
        """
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if concurrency == 1:
            pages = [page async for page in self.pages()]
        else:
            pages = await self._pages_concurrently(concurrency)
        items = [item for page in pages for item in page.items]
        if key is None:
            return items
        seen: set[object] = set()
        unique: list[T] = []
        for item in items:
            identity = key(item)
            if identity not in seen:
                seen.add(identity)
                unique.append(item)
        return unique

    async def _pages_concurrently(self, concurrency: int) -> list[Page[T]]:
        first = await self._fetch(self._start)
        pages = [first]
        if not (first.has_next and first.items and first.pagination is not None):
            return pages
        gate = asyncio.Semaphore(concurrency)

        async def fetch(number: int) -> Page[T]:
            async with gate:
                return await self._fetch(number)

        rest = range(self._start + 1, first.pagination.total_pages + 1)
        pages += await asyncio.gather(*(fetch(number) for number in rest))
        while pages[-1].has_next and pages[-1].items:
            pages.append(await self._fetch(pages[-1].number + 1))
        return pages
