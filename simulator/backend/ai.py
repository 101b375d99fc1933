"""AI chat: a deterministic stand-in model whose usage is billed to the balance."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Final

from barrack.models.ai import ChatCompletionsRequest
from simulator.backend._service import Service
from simulator.errors import NotFound
from simulator.records import AIUsageRec
from simulator.seed_data import AI_MODELS, AIModelSeed

__all__ = ["AIService", "ChatResult"]

_MILLION: Final = Decimal(1_000_000)
_CURRENCY_FACTOR: Final[dict[str, Decimal]] = {
    "USD": Decimal(1),
    "EUR": Decimal(1),
    "INR": Decimal(100),
}
"""Token prices are seeded in USD; EUR uses the same figures, INR 100 times them (the
ratio A3 gives for the hibernation rate)."""

ChatResult = tuple[AIUsageRec, str]


class AIService(Service):
    """Models, chat completions and their usage."""

    def models(self) -> list[tuple[AIModelSeed, Decimal, Decimal]]:
        """Every model with its prices per million input and output tokens."""
        factor = _CURRENCY_FACTOR.get(self.w.currency, Decimal(1))
        return [(m, m.input_per_million * factor, m.output_per_million * factor) for m in AI_MODELS]

    def chat(self, request: ChatCompletionsRequest) -> ChatResult:
        """Answer with a short, deterministic echo; bill its tokens.

        Raises:
            NotFound: no such model.
            ProfileIncomplete, InsufficientCredits: as for creating resources.
        """
        model = next((m for m in AI_MODELS if m.id == request.model), None)
        if model is None:
            raise NotFound("ai_model", request.model)
        self.require_can_create()
        prompt_tokens = sum(len(m.content.split()) + 4 for m in request.messages)
        last = request.messages[-1].content
        words = f"(simulated {model.name}) You said: {last}".split()
        if request.max_tokens is not None:
            words = words[: request.max_tokens]
        answer = " ".join(words)
        factor = _CURRENCY_FACTOR.get(self.w.currency, Decimal(1))
        cost = (
            (model.input_per_million * prompt_tokens + model.output_per_million * len(words))
            * factor
            / _MILLION
        )
        now = self.w.now
        usage = AIUsageRec(
            id=self.w.ids.new("ai_usage"),
            created_at=now,
            updated_at=now,
            model=model.id,
            prompt_tokens=prompt_tokens,
            completion_tokens=len(words),
            cost=cost,
        )
        self.w.state.ai_usage.add(usage)
        self.w.ledger.charge(cost, now)
        self.backend.depletion.rates_changed()
        return usage, answer

    def history(self, start: datetime | None, end: datetime | None) -> list[AIUsageRec]:
        """Usage records in ``[start, end)``, newest first."""
        return [
            u
            for u in self.w.state.ai_usage.select()
            if (start is None or u.created_at >= start) and (end is None or u.created_at < end)
        ]
