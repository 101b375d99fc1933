"""Does a Prefect API answer? Asked once per run, without blocking the event loop.

``auto`` stores and the run guard all need the answer at the start of a run. It used to
be a synchronous health check on the event loop, repeated by each of them; now the first
caller of a run awaits one async health check (Prefect's async client, so Prefect
Cloud's API key and a server's basic auth are sent as the recipes send them) and every
later caller of the same run gets the cached answer.

"The same run" is the Prefect flow run (its id), or, outside any flow run, the process;
the API URL is part of the key, so pointing at another server asks again.
"""

from __future__ import annotations

import logging
from typing import Final

__all__ = ["forget_reachability", "prefect_api_reachable"]

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS: Final = 2.0

_answers: dict[tuple[str, str | None], bool] = {}


def _run_key() -> tuple[str, str | None] | None:
    from prefect.runtime import flow_run
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        return None
    run_id = flow_run.id
    return (str(url), str(run_id) if run_id else None)


async def prefect_api_reachable(wait: float = HEALTH_TIMEOUT_SECONDS) -> bool:
    """True when ``PREFECT_API_URL`` is set and the API answers its health check.

    Args:
        wait: Seconds to wait for the health check's answer.

    Without ``PREFECT_API_URL`` Prefect would start a temporary server (several seconds)
    just to answer, and forget its Variables when the run ends: that is not "reachable",
    and files are used instead.
    """
    key = _run_key()
    if key is None:
        return False
    if key in _answers:
        return _answers[key]
    answer = await _health_check(wait)
    if not answer:
        logger.info("the Prefect API at %s does not answer; state is kept in files", key[0])
    _answers[key] = answer
    return answer


async def _health_check(wait: float) -> bool:
    from prefect import get_client

    try:
        async with get_client(httpx_settings={"timeout": wait}) as client:
            return await client.api_healthcheck() is None
    except Exception:  # any failure to connect means "not reachable"
        return False


def forget_reachability() -> None:
    """Drop the cached answers (the next caller asks the API again)."""
    _answers.clear()
