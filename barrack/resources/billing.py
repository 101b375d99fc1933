"""Account-wide billing: every billed period of every instance, volume and snapshot."""

from __future__ import annotations

from datetime import datetime

from barrack._pagination import AsyncPaginator
from barrack.models import AccountBillingRecord, BillingRecordsResponse
from barrack.resources._base import AsyncResource, timestamp_param

__all__ = ["AsyncBilling"]


class AsyncBilling(AsyncResource):
    """Billing records of the whole account (``client.billing``)."""

    def records(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        resource_type: str | None = None,
        per_page: int = 100,
    ) -> AsyncPaginator[AccountBillingRecord]:
        """Billed periods overlapping ``[start, end]``, clipped to it, lazily page by page.

        Deleted resources' periods are included. ``resource_type`` (``gpus``,
        ``volumes``, ``snapshots``) narrows the list; AI usage is ``client.ai``'s.
        """
        return self._paginate(
            "billing.records",
            BillingRecordsResponse,
            query={
                "start": timestamp_param(start),
                "end": timestamp_param(end),
                "resource_type": resource_type,
            },
            per_page=per_page,
        )
