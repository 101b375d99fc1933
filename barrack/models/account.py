"""Account credit: the prepaid balance every charge is deducted from."""

from __future__ import annotations

from barrack.models._base import BarrackModel, Envelope, Money, UTCDateTime
from barrack.models.enums import CurrencyEnum

__all__ = ["Balance", "CreditBalanceResponse"]


class Balance(BarrackModel):
    """The prepaid credit balance (B3a).

    Attributes:
        balance: credit left, in ``currency``; zero or below stops instances (B6).
        currency: the account currency, fixed by the account's country.
        updated_at: when the balance last changed.
    """

    balance: Money
    currency: CurrencyEnum
    updated_at: UTCDateTime | None = None


class CreditBalanceResponse(Envelope[Balance]):
    """``GET /balance``."""
