"""The recipe's one money format (the lead can point it at the shared one in one line).

Amounts stay exact ``Decimal`` everywhere (tables, JSON, CSV carry every digit); only what
people read is rounded, half up to the cent, with the currency code in front.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Final

__all__ = ["CENT", "cents", "format_money"]

CENT: Final = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    """``amount`` rounded half up to the cent (for people; sums use the exact amounts)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal, currency: str) -> str:
    """``USD 1,234.57`` (negative: ``USD -3.10``)."""
    return f"{currency} {cents(amount):,}"
