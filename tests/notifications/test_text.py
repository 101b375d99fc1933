"""The one place that writes money, durations, errors and slugs, and escapes user text."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from barrack import APIConnectionError, OutOfStockError
from notifications.text import (
    describe_duration,
    describe_error,
    escape_markdown,
    escape_markup,
    format_money,
    slug,
)


@pytest.mark.parametrize(
    ("amount", "currency", "places", "text"),
    [
        (Decimal("1241"), "USD", None, "USD 1,241.00"),
        (Decimal("1241.5"), "EUR", None, "EUR 1,241.50"),
        (Decimal("0"), "INR", None, "INR 0.00"),
        (Decimal("-12.3"), "USD", None, "USD -12.30"),
        (Decimal("-1234567.891"), "USD", None, "USD -1,234,567.891"),
        (Decimal("123456789012.00"), "JPY", None, "JPY 123,456,789,012.00"),
        # exact by default: a sub-cent hourly price is a different price when rounded
        (Decimal("0.0425"), "USD", None, "USD 0.0425"),
        (Decimal("4.2000"), "USD", None, "USD 4.20"),
        # rounded on request, half-even: ties go to the even cent
        (Decimal("2.345"), "USD", 2, "USD 2.34"),
        (Decimal("2.355"), "USD", 2, "USD 2.36"),
        (Decimal("-2.345"), "USD", 2, "USD -2.34"),
        (Decimal("0.00005"), "USD", 4, "USD 0.00"),
        (Decimal("0.00015"), "USD", 4, "USD 0.0002"),
        (Decimal("1999999.995"), "USD", 2, "USD 2,000,000.00"),
        (Decimal("60.5234"), "USD", 4, "USD 60.5234"),
    ],
)
def test_money_is_the_currency_and_the_exact_amount(
    amount: Decimal, currency: str, places: int | None, text: str
) -> None:
    assert format_money(amount, currency, places=places) == text


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=6, allow_nan=False))
def test_money_read_back_is_the_amount(amount: Decimal) -> None:
    code, _, figure = format_money(amount, "USD").partition(" ")
    assert code == "USD"
    assert Decimal(figure.replace(",", "")) == amount


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=0.4), "0s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(seconds=59.6), "1m"),
        (timedelta(seconds=192), "3m 12s"),
        (timedelta(minutes=45), "45m"),
        (timedelta(hours=1, seconds=59), "1h"),  # past an hour: to the minute, rounded down
        (timedelta(hours=7, minutes=30), "7h 30m"),
        (timedelta(days=1, hours=2, minutes=5, seconds=59), "1d 2h 5m"),
        (timedelta(days=3), "3d"),
        (timedelta(hours=232, minutes=20), "9d 16h 20m"),
        (timedelta(minutes=-5), "-5m"),
        (timedelta(seconds=-3), "-3s"),
    ],
)
def test_describe_duration(value: timedelta, text: str) -> None:
    assert describe_duration(value) == text


def _status_error() -> OutOfStockError:
    return OutOfStockError(
        "no free 8x H100 in US-1",
        status=409,
        code="OUT_OF_STOCK",
        request_id="req-7",
        method="POST",
        path="/v1/instances",
    )


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (_status_error(), "OUT_OF_STOCK: no free 8x H100 in US-1 (request req-7)"),
        (
            APIConnectionError("connection refused", method="GET", path="/v1/balance"),
            "GET /v1/balance: connection refused",
        ),
        (ValueError("bad\n  value"), "ValueError: bad value"),
        (TimeoutError(), "TimeoutError"),
        (httpx.ReadTimeout("timed out"), "ReadTimeout: timed out"),
    ],
)
def test_describe_error(error: BaseException, text: str) -> None:
    assert describe_error(error) == text


def test_describe_error_can_leave_the_message_out() -> None:
    error = RuntimeError("token=hunter2hunter2")
    assert describe_error(error, quote_message=False) == "RuntimeError"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("train-h100", "train-h100"),
        ("My Snap #1", "my-snap-1"),
        ("Acme_Corp.EU", "acme-corp-eu"),
        ("--", ""),
        ("Zürich GPU", "z-rich-gpu"),
    ],
)
def test_slug(text: str, expected: str) -> None:
    assert slug(text) == expected


@given(st.text())
def test_a_slug_is_a_prefect_key(text: str) -> None:
    made = slug(text, fallback="x")
    assert made
    assert set(made) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert not made.startswith("-")
    assert not made.endswith("-")


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("gpu_box", r"gpu\_box"),
        ("*bold*", r"\*bold\*"),
        ("a | b", r"a \| b"),
        ("`code`", r"\`code\`"),
        ("[x](http://evil)", r"\[x\](http://evil)"),
        ("<b>", r"\<b\>"),
        ("# not a heading", r"\# not a heading"),
        ("back\\slash", r"back\\slash"),
        ("two\nlines", "two lines"),
        ("plain text, 1.5 h", "plain text, 1.5 h"),
    ],
)
def test_escape_markdown(text: str, escaped: str) -> None:
    assert escape_markdown(text) == escaped


def test_markup_escaping_keeps_labels_visible() -> None:
    console = Console(record=True, width=120, color_system=None)
    console.print(escape_markup("[warning] disk [bold]full[/bold] [x]"))
    assert console.export_text().strip() == "[warning] disk [bold]full[/bold] [x]"
    # unescaped, rich eats the tags: the bug the demo had
    assert Text.from_markup("[bold]full[/bold]").plain == "full"
