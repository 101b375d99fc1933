"""Links into the Prefect UI: ``PREFECT_UI_URL`` + ``/runs/flow-run/<id>``."""

from __future__ import annotations

import sys
from uuid import UUID

__all__ = ["current_flow_run_url", "flow_run_ui_url"]


def flow_run_ui_url(flow_run_id: UUID | str) -> str | None:
    """The UI page of a flow run, or None when no UI URL is configured.

    Example:
        >>> from prefect.settings import PREFECT_UI_URL, temporary_settings
        >>> with temporary_settings({PREFECT_UI_URL: "http://127.0.0.1:4200"}):
        ...     flow_run_ui_url("0b4e7c2a-0000-0000-0000-000000000000")
        'http://127.0.0.1:4200/runs/flow-run/0b4e7c2a-0000-0000-0000-000000000000'
    """
    from prefect.settings import PREFECT_UI_URL

    base = PREFECT_UI_URL.value()
    if not base:
        return None
    return f"{str(base).rstrip('/')}/runs/flow-run/{flow_run_id}"


def current_flow_run_url() -> str | None:
    """The UI page of the flow run this code runs in, or None outside a flow run."""
    if "prefect.context" not in sys.modules:
        # Code running in a flow run has imported Prefect already; importing it here just
        # to learn that there is no run would cost seconds.
        return None
    from prefect.runtime import flow_run

    run_id = flow_run.id
    return flow_run_ui_url(run_id) if run_id else None
