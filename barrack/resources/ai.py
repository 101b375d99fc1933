"""Barrack's AI chat service."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from barrack._pagination import AsyncPaginator
from barrack.models import (
    AIModel,
    AITransaction,
    ChatCompletion,
    ChatCompletionsRequest,
    ChatCompletionsResponse,
    ChatMessageRequest,
    ModelsResponse,
    UsageHistoryResponse,
    UsageSummary,
    UsageSummaryResponse,
)
from barrack.resources._base import AsyncResource, timestamp_param

__all__ = ["AsyncAI"]


class AsyncAI(AsyncResource):
    """AI chat (``client.ai``): models, chat completions and usage."""

    async def models(self) -> builtins.list[AIModel]:
        """The available chat models, with their prices."""
        return (await self._client.request("ai.models", ModelsResponse)).payload

    async def chat(
        self,
        *,
        model: str,
        messages: Sequence[ChatMessageRequest | dict[str, Any]],
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> ChatCompletion:
        """A chat completion (billed per token from the prepaid balance)."""
        body = self._client.build(
            ChatCompletionsRequest,
            "ai.chat",
            model=model,
            messages=list(messages),
            temperature=temperature,
            max_tokens=max_tokens,
        )
        return (await self._client.request("ai.chat", ChatCompletionsResponse, body=body)).payload

    async def usage_summary(
        self, *, start: datetime | None = None, end: datetime | None = None
    ) -> UsageSummary:
        """Totals of AI usage between ``start`` and ``end``."""
        envelope = await self._client.request(
            "ai.usage_summary",
            UsageSummaryResponse,
            query={"start": timestamp_param(start), "end": timestamp_param(end)},
        )
        return envelope.payload

    def usage_history(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        per_page: int = 100,
    ) -> AsyncPaginator[AITransaction]:
        """Every AI transaction (lazily, page by page)."""
        return self._paginate(
            "ai.usage_history",
            UsageHistoryResponse,
            query={"start": timestamp_param(start), "end": timestamp_param(end)},
            per_page=per_page,
        )
