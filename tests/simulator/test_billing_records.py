"""The account's billing records add up, exactly, to what the balance lost."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from simulator.testing import SimHandle
from tests.simulator.helpers import balance, payload


def all_pages(api: httpx.Client, path: str, **query: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        response = api.get(path, params={**query, "page": page, "per_page": 100})
        rows.extend(payload(response))
        if page >= response.json()["pagination"]["total_pages"]:
            return rows
        page += 1


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_records_of_every_kind_add_up_to_what_the_balance_lost(sim: SimHandle) -> None:
    sim.load_scenario("spend-week", seed=3)
    with sim.client(timeout=60) as api:
        start = sim.now()
        opening = balance(api)
        instances = {i["name"]: i for i in payload(api.get("instances/", params={"per_page": 100}))}
        # A day passes; an instance is deleted midway, credit is added, the AI is used.
        sim.advance("5h")
        payload(api.delete(f"instances/{instances['old-experiment']['id']}/"))
        sim.advance("7h")
        sim.top_up("250.00")
        payload(
            api.post(
                "ai/chat/completions/",
                json={
                    "model": "llama-3.3-70b-instruct",
                    "messages": [{"role": "user", "content": "hi"}],
                },
            ),
            200,
        )
        sim.advance(12 * 3600 + 17)  # ends off the minute: records stop where the balance posts
        end = sim.now().replace(second=0)
        closing = balance(api)
        records = all_pages(api, "billing/records/", start=iso(start), end=iso(end))
        topups = all_pages(api, "balance/transactions/", start=iso(start), end=iso(end))
        ai = all_pages(api, "ai/usage/history/", start=iso(start), end=iso(end))
    kinds = {r["resource_type"] for r in records}
    assert kinds == {"gpus", "volumes", "snapshots"}
    spent = sum((Decimal(r["amount"]) for r in records), Decimal(0))
    spent += sum((Decimal(t["cost"]) for t in ai), Decimal(0))
    added = sum((Decimal(t["amount"]) for t in topups), Decimal(0))
    assert added == Decimal("250.00")
    assert ai, "the chat call is billed"
    assert (opening + added - spent).quantize(Decimal("0.01")) == closing.quantize(Decimal("0.01"))
    assert opening + added - spent == closing  # exact, not only to the cent
    deleted = [r for r in records if r["resource_name"] == "old-experiment"]
    assert deleted, "a deleted instance's periods stay in the account's records"
    assert all(r["region"] == "US-1" and r["gpu_model"] == "A40" for r in deleted)
