"""The stack's simulator as the e2e tests see it: its API and its control routes over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from barrack.wire import payload_key
from deployments.stack import RunningStack


class SimControl:
    """The stack's simulator: its API (as the flow runs see it) and its control routes."""

    def __init__(self, stack: RunningStack) -> None:
        assert stack.sim_api_key, "started by this session"
        assert stack.sim_admin_token, "started by this session"
        self.api = httpx.Client(
            base_url=stack.state.sim_base_url,
            headers={"Authorization": f"Bearer {stack.sim_api_key}"},
            timeout=10,
        )
        self.control = httpx.Client(
            base_url=f"{stack.state.sim_root_url}/_sim",
            headers={"Authorization": f"Bearer {stack.sim_admin_token}"},
            timeout=10,
        )

    def data(self, response: httpx.Response) -> Any:
        response.raise_for_status()
        return response.json()["data"]

    def clock(self) -> dict[str, Any]:
        return dict(self.data(self.control.get("/clock")))

    def requests(self) -> list[dict[str, Any]]:
        return list(self.data(self.control.get("/requests")))

    def clear_requests(self) -> None:
        self.control.delete("/requests").raise_for_status()

    def top_up(self, amount: str) -> None:
        self.data(self.control.post("/balance/top-up", json={"amount": amount}))

    @staticmethod
    def payload(response: httpx.Response, key: str) -> Any:
        """An API answer's payload, under its key (``barrack._wire``)."""
        response.raise_for_status()
        return response.json()[key]

    def instances(self) -> list[dict[str, Any]]:
        listing = self.api.get("/instances/", params={"per_page": 100})
        return list(self.payload(listing, payload_key("ListVMsResponse") or "instances"))

    def snapshots(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            listing = self.api.get("/snapshots/", params={"per_page": 100, "page": page})
            batch = self.payload(listing, payload_key("SnapshotListResponse") or "snapshots")
            found += batch
            if len(batch) < 100:
                return found
            page += 1

    def close(self) -> None:
        self.api.close()
        self.control.close()
