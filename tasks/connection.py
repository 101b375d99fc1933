"""How tasks reach Barrack: connection settings that never hold the key, and a shared client.

Flows pass a :class:`BarrackConnection` to tasks, never a client (Prefect records task
inputs) and never the API key: the key comes from ``BARRACK_API_KEY`` or from a Prefect
Secret block named in the connection. Tasks borrow one :class:`~barrack.AsyncBarrack` per
event loop and connection, so a flow that gathers a thousand task runs shares one
connection pool and one rate limiter. With no rate limit set, that limiter follows the
limit the API announces, so the tasks of a fleet-wide run queue at the API's pace instead
of bouncing off 429s.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from pydantic import Field, SecretStr

from barrack import AsyncBarrack, BarrackSettings, ConfigurationError
from barrack.models import RequestModel

__all__ = ["BarrackConnection", "borrow_client", "resolve_settings"]


class BarrackConnection(RequestModel):
    """Where and how the recipes reach Barrack. Empty fields fall back to ``BARRACK_*``.

    The API key is never a parameter: set ``BARRACK_API_KEY`` on the worker, or name a
    Prefect Secret block that holds it.
    """

    base_url: str | None = Field(
        default=None, description="API base URL; empty means BARRACK_BASE_URL or Barrack's."
    )
    api_key_secret_block: str | None = Field(
        default=None,
        description="Name of a Prefect Secret block holding the API key; empty means "
        "the BARRACK_API_KEY environment variable.",
    )
    rate_limit: float | None = Field(
        default=None,
        gt=0,
        description="Client-side requests per second for this process; empty means "
        "BARRACK_RATE_LIMIT, else the limit the API announces (see follow_api_rate_limit).",
    )
    follow_api_rate_limit: bool = Field(
        default=True,
        description="With no rate_limit, pace requests at the limit the API announces "
        "(X-RateLimit-Limit) instead of sending freely and retrying 429s.",
    )
    timeout: float | None = Field(default=None, gt=0, description="HTTP timeout in seconds.")


async def _secret_from_block(name: str) -> SecretStr:
    from prefect.blocks.system import Secret

    try:
        block = await Secret.aload(name)
    except (ValueError, RuntimeError) as exc:
        raise ConfigurationError(
            f"api_key_secret_block: cannot load the Prefect Secret block {name!r} "
            f"({type(exc).__name__})"
        ) from None
    value: object = block.get()  # type: ignore[attr-defined]
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            f"api_key_secret_block: the Secret block {name!r} holds no API key string"
        )
    return SecretStr(value.strip())


async def resolve_settings(connection: BarrackConnection) -> BarrackSettings:
    """The client settings for a connection: the environment, with the connection on top."""
    overrides: dict[str, Any] = {
        "base_url": connection.base_url,
        "rate_limit": connection.rate_limit,
        "timeout": connection.timeout,
    }
    if connection.api_key_secret_block:
        overrides["api_key"] = await _secret_from_block(connection.api_key_secret_block)
    return BarrackSettings.load(**overrides)


_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, AsyncBarrack]] = (
    weakref.WeakKeyDictionary()
)


async def borrow_client(connection: BarrackConnection) -> AsyncBarrack:
    """The client for this connection on the running event loop, made on first use.

    httpx connection pools belong to one event loop, hence one client per loop. The
    client lives as long as the loop does.
    """
    loop = asyncio.get_running_loop()
    per_loop = _CLIENTS.setdefault(loop, {})
    key = connection.model_dump_json()
    client = per_loop.get(key)
    if client is None:
        client = AsyncBarrack(
            settings=await resolve_settings(connection),
            follow_rate_limit=connection.follow_api_rate_limit,
        )
        per_loop[key] = client
    return client
