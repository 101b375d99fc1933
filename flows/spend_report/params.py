"""The parameters of the spend-report recipe (a form in the Prefect UI)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator

from flows.common.params import RecipeParams
from flows.hibernate_idle.state import StateMode
from flows.spend_report.periods import PeriodError, parse_period, zone

__all__ = ["SpendReportParams"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,49}")
_PERIOD = re.compile(r"^\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2}$")


class SpendReportParams(RecipeParams):
    """Where the money went over a period, what was wasted, and which days spent too much.

    Example:
        >>> SpendReportParams(period="2026-11-01..2026-11-30").timezone
        'UTC'
    """

    JUDGES_AT_SCHEDULED_START: ClassVar[bool] = True
    """A late Monday run still reports the week its schedule meant ("last week")."""

    account_name: str = Field(
        default="barrack",
        description="A name for the account: the digest's subject, the alert key and the "
        "artifact key (letters, digits, '_', '.', '-').",
    )
    period: str | None = Field(
        default=None,
        description="FIRST..LAST (ISO dates, both included), e.g. 2026-11-01..2026-11-30; "
        "empty means last week, Monday to Sunday.",
    )
    timezone: str = Field(
        default="UTC", description="The IANA timezone days and weeks are counted in."
    )
    baseline_weeks: int = Field(
        default=4, ge=1, le=26, description="Weeks of history the anomaly baseline looks at."
    )
    margin_pct: Decimal = Field(
        default=Decimal(25), ge=0, description="A day is anomalous above median + this %."
    )
    margin_amount: Decimal = Field(
        default=Decimal(0), ge=0, description="... plus this amount (account currency)."
    )
    fixed_daily_limit: Decimal | None = Field(
        default=None,
        gt=0,
        description="A fixed daily limit instead of the median baseline (account currency).",
    )
    idle_policy_name: str = Field(
        default="default", description="The hibernate-idle policy whose idle evidence to read."
    )
    idle_state_store: StateMode = Field(
        default="auto", description="Where that policy keeps its state: auto, prefect, file."
    )
    idle_state_file: Path | None = Field(
        default=None, description="Its state file (file store); empty means its default."
    )
    output_dir: Path | None = Field(
        default=None,
        description="Where the chart PNG is written; empty means "
        "$BARRACK_OPS_STATE_DIR/spend-report.",
    )
    repeat_hours: float | None = Field(
        default=None,
        gt=0,
        description="Repeat an open anomaly alert after this many hours; empty means "
        "BARRACK_NOTIFY_REPEAT_INTERVAL.",
    )

    @field_validator("account_name")
    @classmethod
    def _check_account_name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(
                f"account_name: {value!r} must be 1-50 letters, digits, '_', '.' or '-'"
            )
        return value

    @field_validator("period")
    @classmethod
    def _check_period(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _PERIOD.fullmatch(value.strip()):
            raise ValueError(f"period: {value!r} is not FIRST..LAST, e.g. 2026-11-01..2026-11-30")
        try:
            parse_period(value, zone("UTC"))  # real dates, in order (any timezone will do)
        except PeriodError as error:
            raise ValueError(str(error)) from None
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            zone(value)
        except PeriodError as error:
            raise ValueError(str(error)) from None
        return value
