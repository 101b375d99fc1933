"""A billing page that cannot be read is named, not silently dropped, and the report says so."""

from __future__ import annotations

import asyncio

import pytest

from barrack import APIConnectionError, AsyncPaginator, Page
from barrack.models import Pagination
from tasks.billing import read_all_pages


def paginator(pages: int, broken: set[int]) -> AsyncPaginator[int]:
    async def fetch(number: int) -> Page[int]:
        if number in broken:
            raise APIConnectionError("connection reset", method="GET", path="/billing/records/")
        return Page(
            items=[number * 10 + i for i in range(3)],
            number=number,
            pagination=Pagination(page=number, per_page=3, total=pages * 3, total_pages=pages),
        )

    return AsyncPaginator(fetch)


@pytest.mark.parametrize(
    ("pages", "broken", "items", "missing"),
    [
        (3, set(), 9, []),
        (3, {2}, 6, ["billing records page 2 of 3 (APIConnectionError)"]),
        (
            4,
            {2, 4},
            6,
            [
                "billing records page 2 of 4 (APIConnectionError)",
                "billing records page 4 of 4 (APIConnectionError)",
            ],
        ),
    ],
)
def test_missing_pages_are_named(
    pages: int, broken: set[int], items: int, missing: list[str]
) -> None:
    listing = asyncio.run(read_all_pages("billing records", lambda: paginator(pages, broken)))
    assert len(listing.items) == items
    assert listing.missing == missing


def test_without_the_first_page_there_is_no_report() -> None:
    with pytest.raises(APIConnectionError):
        asyncio.run(read_all_pages("billing records", lambda: paginator(3, {1})))
