"""Billing tasks: the account's billing records, top-ups and AI usage over a window.

Each listing reads every page it can; a page that still fails after the task's retries is
named in the answer's ``missing`` instead of failing the whole report, so a spend report
over a flaky API says which part it could not read (its totals are then a lower bound).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from prefect import task

from barrack import AsyncPaginator, BarrackError
from barrack.models import AccountBillingRecord, AITransaction, CreditTransaction
from tasks._options import API_TASK
from tasks.connection import BarrackConnection, borrow_client

__all__ = ["Listing", "list_ai_usage", "list_billing_records", "list_top_ups", "read_all_pages"]

T = TypeVar("T")


@dataclass
class Listing(Generic[T]):
    """Items of a paginated listing, and the pages that could not be read."""

    items: list[T] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


async def read_all_pages(what: str, make: Callable[[], AsyncPaginator[T]]) -> Listing[T]:
    """Every page of a listing; a later page that fails is named in ``missing``.

    Raises:
        BarrackError: the first page failed (nothing to report on).
    """
    paginator = make()
    first = await paginator.get_page(1)  # no first page: nothing to report on; raise
    listing = Listing(items=list(first.items))
    total = first.pagination.total_pages if first.pagination is not None else 1
    for number in range(2, total + 1):
        try:
            page = await paginator.get_page(number)  # the client retries transient errors
        except BarrackError as error:
            listing.missing.append(f"{what} page {number} of {total} ({type(error).__name__})")
            continue
        listing.items.extend(page.items)
    return listing


@task(name="list-billing-records", **API_TASK)
async def list_billing_records(
    connection: BarrackConnection, *, start: datetime, end: datetime
) -> Listing[AccountBillingRecord]:
    """Every billed period of instances, volumes and snapshots in ``[start, end]``."""
    client = await borrow_client(connection)
    return await read_all_pages(
        "billing records", lambda: client.billing.records(start=start, end=end, per_page=100)
    )


@task(name="list-top-ups", **API_TASK)
async def list_top_ups(
    connection: BarrackConnection, *, start: datetime, end: datetime
) -> Listing[CreditTransaction]:
    """Credit added in ``[start, end)``."""
    client = await borrow_client(connection)
    return await read_all_pages(
        "top-ups", lambda: client.balance.transactions(start=start, end=end, per_page=100)
    )


@task(name="list-ai-usage", **API_TASK)
async def list_ai_usage(
    connection: BarrackConnection, *, start: datetime, end: datetime
) -> Listing[AITransaction]:
    """AI requests billed in ``[start, end)``."""
    client = await borrow_client(connection)
    return await read_all_pages(
        "AI usage", lambda: client.ai.usage_history(start=start, end=end, per_page=100)
    )
