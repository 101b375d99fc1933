"""Words for people: the one place that writes money, durations and errors, makes slugs,
and escapes text for Markdown and for rich console markup.

Every report, alert, artifact, command-line output and the demo goes through these
functions, so a figure reads the same wherever it is shown. They live here, at the
bottom of the import graph (``flows`` and ``barrack_ops`` import ``notifications``;
``notifications`` imports nothing of theirs, only the client's exception tree), because
alert rendering needs them too.

Money is exact: ``format_money(Decimal("1241"), "USD") == "USD 1,241.00"``. Two decimals
at least, more only when the amount carries them (an hourly price of ``0.0425`` stays
``0.0425``: rounding it to ``0.04`` would be a different price). Where a figure is a
computed quotient (a burn rate, a saving per day) the caller asks for ``places``; that
rounding is half-even, :mod:`decimal`'s default, so that many rounded figures do not
drift upwards the way half-up does. Arithmetic is never done on the rounded value.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

__all__ = [
    "describe_duration",
    "describe_error",
    "escape_markdown",
    "escape_markup",
    "format_decimal",
    "format_money",
    "slug",
]

_CENTS: Final = Decimal("0.01")


def format_decimal(value: Decimal, *, places: int | None = None) -> str:
    """A decimal with thousands separators: two decimals at least, exact unless ``places``.

    Example:
        >>> format_decimal(Decimal("1241")), format_decimal(Decimal("0.0425"))
        ('1,241.00', '0.0425')
        >>> format_decimal(Decimal("2.345"), places=2)
        '2.34'
    """
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    cents = value.quantize(_CENTS, rounding=ROUND_HALF_EVEN)
    if cents == value:
        return f"{cents:,}"
    return f"{value.normalize():,f}"


def format_money(amount: Decimal, currency: str | None, *, places: int | None = None) -> str:
    """``USD 1,241.00``: the currency code, then the exact amount (see the module docstring).

    Args:
        amount: The amount; exact, never a float.
        currency: The ISO 4217 code; None (unknown) writes the amount alone.
        places: Round (half-even) to this many decimals for display, for computed figures.

    Example:
        >>> format_money(Decimal("-1234567.5"), "EUR")
        'EUR -1,234,567.50'
    """
    figure = format_decimal(amount, places=places)
    return f"{currency} {figure}" if currency else figure


def describe_duration(value: timedelta) -> str:
    """A duration for people: ``45s``, ``3m 12s``, ``2h 5m``, ``1d 2h 5m``, ``-5m``.

    Seconds (rounded) are shown under an hour; past an hour the duration is written to
    the minute, rounded down, so it never claims more time than there was.
    """
    seconds = round(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds >= 3600:
        seconds -= seconds % 60
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    units = ((days, "d"), (hours, "h"), (minutes, "m"), (secs, "s"))
    parts = [f"{n}{unit}" for n, unit in units if n]
    return sign + " ".join(parts) if parts else "0s"


def describe_error(error: BaseException, *, quote_message: bool = True) -> str:
    """An error in one line, for a reason in a report, an alert or a log line.

    * a Barrack API answer: ``OUT_OF_STOCK: no free 8x H100 in US-1 (request req-1)``;
    * another Barrack client error (connection, timeout, validation): its own text, which
      already says what and where;
    * anything else: ``TypeName: message``, or ``TypeName`` when it has no message.

    Args:
        error: The error.
        quote_message: False where the message may hold a secret nobody has masked (a
            third-party error's text): then only the type is written.
    """
    name = type(error).__name__
    if not quote_message:
        return name
    text = " ".join(str(error).split())
    # Errors that describe themselves (the Barrack client's: ``BarrackError.describe``)
    # know best what a person needs; duck-typed, so notifications import no client.
    describe = getattr(error, "describe", None)
    if callable(describe):
        described = describe()
        if isinstance(described, str) and described:
            return described
    return f"{name}: {text}" if text else name


def slug(text: str, *, fallback: str = "") -> str:
    """``text`` lowercased, every run of characters other than ``a-z0-9`` made one ``-``.

    Prefect artifact keys and Variable names accept exactly this alphabet.

    Example:
        >>> slug("My Snap #1"), slug("--", fallback="source")
        ('my-snap-1', 'source')
    """
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or fallback


# Characters that change the meaning of inline Markdown (CommonMark and GitHub's tables).
_MARKDOWN_SPECIAL: Final = re.compile(r"([\\`*_\[\]<>|~#])")


def escape_markdown(text: object) -> str:
    """``text`` as literal inline Markdown: specials backslash-escaped, on one line.

    Safe in a paragraph, a list item and a table cell (``|`` is escaped, newlines become
    spaces).

    Example:
        >>> escape_markdown("gpu_box *1* | `x`")
        'gpu\\\\_box \\\\*1\\\\* \\\\| \\\\`x\\\\`'
    """
    flat = " ".join(str(text).splitlines())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def escape_markup(text: object) -> str:
    """``text`` as literal rich console markup (``[warning]`` stays visible text)."""
    # rich's own escaper; imported here, as only console output needs it and importing
    # rich would slow every process that sends a notification.
    from rich.markup import escape

    return escape(str(text))
