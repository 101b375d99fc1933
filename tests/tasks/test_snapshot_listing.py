"""Listing everything: pages fetched a few at a time, joined in order, each item kept once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from barrack import AsyncBarrack, AsyncPaginator, Page
from barrack.models import Pagination, Snapshot
from simulator.testing import running_simulator
from tasks._options import PAGES_IN_FLIGHT
from tasks.connection import BarrackConnection
from tasks.instances import list_instances
from tasks.snapshots import list_snapshots

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _snap(n: int) -> Snapshot:
    return Snapshot(
        id=f"snap-{n:010d}",
        name=f"s-{n}",
        status="SUCCESS",
        region="US-1",
        created_at=START - timedelta(minutes=n),
    )


async def _every_page(fetch: Callable[[int], Awaitable[Page[Snapshot]]]) -> list[Snapshot]:
    return await AsyncPaginator(fetch).to_list(concurrency=PAGES_IN_FLIGHT, key=lambda s: s.id)


class FakeListing:
    """Serves ``items`` in pages of ``per_page``; counts pages in flight at once."""

    def __init__(self, items: list[Snapshot], per_page: int) -> None:
        self.items = items
        self.per_page = per_page
        self.asked: list[int] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def fetch(self, number: int) -> Page[Snapshot]:
        self.asked.append(number)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0.001)
        self.in_flight -= 1
        total = max(1, -(-len(self.items) // self.per_page))
        chunk = self.items[(number - 1) * self.per_page : number * self.per_page]
        pagination = Pagination(
            page=number, per_page=self.per_page, total=len(self.items), total_pages=total
        )
        return Page(items=chunk, number=number, pagination=pagination)


@pytest.mark.parametrize("count", [0, 1, 10, 11, 95])
async def test_every_item_once_in_page_order(count: int) -> None:
    items = [_snap(n) for n in range(count)]
    listing = FakeListing(items, per_page=10)
    got = await _every_page(listing.fetch)
    assert [s.id for s in got] == [s.id for s in items]
    assert sorted(listing.asked) == list(range(1, max(1, -(-count // 10)) + 1))
    assert listing.most_in_flight <= PAGES_IN_FLIGHT


async def test_pages_are_fetched_concurrently_within_the_bound() -> None:
    listing = FakeListing([_snap(n) for n in range(200)], per_page=10)
    await _every_page(listing.fetch)
    assert listing.most_in_flight == PAGES_IN_FLIGHT


async def test_a_listing_that_grows_while_read_is_read_to_its_end() -> None:
    items = [_snap(n) for n in range(30)]
    listing = FakeListing(items, per_page=10)
    original_fetch = listing.fetch

    async def fetch(number: int) -> Page[Snapshot]:
        if number == 2 and len(listing.items) == 30:
            # Five new snapshots arrive (newest first): everything shifts down.
            listing.items = [_snap(1000 + n) for n in range(5)] + listing.items
        return await original_fetch(number)

    got = await _every_page(fetch)
    ids = [s.id for s in got]
    assert len(ids) == len(set(ids)), "a snapshot shifted onto the next page is kept once"
    assert {s.id for s in items} <= set(ids), "nothing that existed throughout is missed"
    assert 4 in listing.asked, "the page the shift created was read as well"


async def test_list_snapshots_matches_a_plain_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    with running_simulator("empty", seed=1, start=START) as sim:
        sim.load_scenario("fleet", instances=30, snapshots_per_instance=9)
        monkeypatch.setenv("BARRACK_API_KEY", sim.api_key)
        async with AsyncBarrack(api_key=sim.api_key, base_url=sim.base_url) as client:
            walked = await client.snapshots.list().to_list()
        got = await list_snapshots.fn(BarrackConnection(base_url=sim.base_url))
    assert len(walked) == 270
    assert [s.id for s in got] == [s.id for s in walked]


async def test_without_concurrency_pages_are_read_one_after_another() -> None:
    listing = FakeListing([_snap(n) for n in range(45)], per_page=10)
    got = await AsyncPaginator(listing.fetch).to_list()
    assert len(got) == 45
    assert listing.asked == [1, 2, 3, 4, 5]
    assert listing.most_in_flight == 1


async def test_concurrency_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        await AsyncPaginator(FakeListing([], per_page=10).fetch).to_list(concurrency=0)


async def test_list_instances_matches_a_plain_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    with running_simulator("empty", seed=1, start=START) as sim:
        sim.load_scenario("fleet", instances=250, snapshots_per_instance=0)
        monkeypatch.setenv("BARRACK_API_KEY", sim.api_key)
        async with AsyncBarrack(api_key=sim.api_key, base_url=sim.base_url) as client:
            walked = await client.instances.list(per_page=100).to_list()
        got = await list_instances.fn(BarrackConnection(base_url=sim.base_url))
    assert len(walked) == 250
    assert [vm.id for vm in got] == [vm.id for vm in walked]
