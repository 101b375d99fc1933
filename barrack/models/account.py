"""Account credit: the prepaid balance every charge is deducted from."""

from __future__ import annotations

from barrack.models._base import BarrackModel, Envelope, Money, UTCDateTime
from barrack.models.enums import CurrencyEnum

__all__ = [
    "Balance",
    "CreditBalanceResponse",
    "CreditTransaction",
    "CreditTransactionsResponse",
]


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


class CreditTransaction(BarrackModel):
    """Credit added to the balance (``GET /balance/transactions``, guessed).

    Charges are not transactions: they are the billing records, deducted per minute.

    Attributes:
        id: transaction id.
        type: ``top_up`` (other kinds, such as a refund, may come).
        amount: credit added, in ``currency``.
        currency: the account currency.
        created_at: when the credit was added.
    """

    id: str
    type: str = "top_up"
    amount: Money
    currency: CurrencyEnum
    created_at: UTCDateTime


class CreditTransactionsResponse(Envelope[list[CreditTransaction]]):
    """``GET /balance/transactions?start=&end=`` (paginated, guessed)."""
