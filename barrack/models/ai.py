"""AI chat: hosted models, chat completions, and their usage and cost."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from barrack.models._base import BarrackModel, Envelope, Money, RequestModel, UTCDateTime
from barrack.models.enums import CurrencyEnum, TierEnum

__all__ = [
    "AIModel",
    "AITransaction",
    "ChatChoice",
    "ChatCompletion",
    "ChatCompletionsRequest",
    "ChatCompletionsResponse",
    "ChatMessage",
    "ChatMessageRequest",
    "ChatUsage",
    "ModelsResponse",
    "UsageHistoryResponse",
    "UsageSummary",
    "UsageSummaryResponse",
]


class AIModel(BarrackModel):
    """A hosted model.

    Attributes:
        id: model id, used as ``model`` in a chat request.
        name: display name.
        tier: its service tier.
        context_length: longest prompt plus answer, in tokens.
        input_price_per_million: price per million prompt tokens.
        output_price_per_million: price per million completion tokens.
        currency: the account currency.
    """

    id: str
    name: str | None = None
    tier: TierEnum | None = None
    context_length: int | None = None
    input_price_per_million: Money | None = None
    output_price_per_million: Money | None = None
    currency: CurrencyEnum | None = None


class ModelsResponse(Envelope[list[AIModel]]):
    """``GET /ai/models``."""


class ChatMessageRequest(RequestModel):
    """One message of a conversation sent to a model."""

    role: Literal["system", "user", "assistant"] = Field(description="Who speaks.")
    content: str = Field(min_length=1, description="What is said.")


class ChatCompletionsRequest(RequestModel):
    """Ask a model to continue a conversation (``POST /ai/chat/completions``)."""

    model: str = Field(min_length=1, description="Model id from GET /ai/models.")
    messages: list[ChatMessageRequest] = Field(min_length=1, description="The conversation.")
    temperature: float | None = Field(
        default=None, ge=0, le=2, description="Sampling temperature, 0-2."
    )
    max_tokens: int | None = Field(default=None, ge=1, description="Longest answer, in tokens.")


class ChatMessage(BarrackModel):
    """One message of a model's answer.

    Attributes:
        role: who speaks (``assistant``).
        content: what is said.
    """

    role: str
    content: str | None = None


class ChatChoice(BarrackModel):
    """One candidate answer.

    Attributes:
        index: its position.
        message: the answer.
        finish_reason: why generation stopped (``stop``, ``length``).
    """

    index: int = 0
    message: ChatMessage
    finish_reason: str | None = None


class ChatUsage(BarrackModel):
    """Tokens a completion used.

    Attributes:
        prompt_tokens: tokens read.
        completion_tokens: tokens written.
        total_tokens: both.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletion(BarrackModel):
    """The ``data`` of :class:`ChatCompletionsResponse`.

    Attributes:
        id: completion id.
        model: the model that answered.
        created_at: when.
        choices: the answers.
        usage: tokens used.
        cost: what it cost.
        currency: the account currency.
    """

    id: str
    model: str
    created_at: UTCDateTime | None = None
    choices: list[ChatChoice] = Field(default_factory=list)
    usage: ChatUsage | None = None
    cost: Money | None = None
    currency: CurrencyEnum | None = None


class ChatCompletionsResponse(Envelope[ChatCompletion]):
    """``POST /ai/chat/completions``."""


class UsageSummary(BarrackModel):
    """AI usage totals over a time window.

    Attributes:
        start: window start.
        end: window end.
        total_requests: completions made.
        total_input_tokens: prompt tokens.
        total_output_tokens: completion tokens.
        total_cost: what they cost.
        currency: the account currency.
        cost_by_model: cost per model id.
    """

    start: UTCDateTime | None = None
    end: UTCDateTime | None = None
    total_requests: int = 0
    total_input_tokens: int = 0
    total_output_tokens: int = 0
    total_cost: Money
    currency: CurrencyEnum
    cost_by_model: dict[str, Money] = Field(default_factory=dict)


class UsageSummaryResponse(Envelope[UsageSummary]):
    """``GET /ai/usage/summary?start=&end=``."""


class AITransaction(BarrackModel):
    """One billed AI request.

    Attributes:
        id: transaction id.
        model: the model used.
        created_at: when.
        input_tokens: prompt tokens.
        output_tokens: completion tokens.
        cost: what it cost.
        currency: the account currency.
    """

    id: str
    model: str
    created_at: UTCDateTime
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Money
    currency: CurrencyEnum | None = None


class UsageHistoryResponse(Envelope[list[AITransaction]]):
    """``GET /ai/usage/history?start=&end=`` (paginated)."""
