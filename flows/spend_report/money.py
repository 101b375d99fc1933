"""Money in the spend report: exact ``Decimal`` everywhere, the project's one format for people.

Amounts stay exact in tables, JSON and CSV (every digit); what people read goes through
:func:`notifications.text.format_money`, rounded half-even to the cent, currency first.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

from notifications.text import format_money as _format_money

__all__ = ["CENT", "cents", "format_money"]

CENT: Final = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    """``amount`` rounded half-even to the cent, as the shared money format rounds."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def format_money(amount: Decimal, currency: str) -> str:
    """``USD 1,234.57`` (negative: ``USD -3.10``): the shared format, to the cent."""
    return _format_money(amount, currency, places=2)
