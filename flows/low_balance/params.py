"""The parameters of the low-balance recipe (a form in the Prefect UI)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from pydantic import AwareDatetime, Field, field_validator, model_validator

from flows.common.params import ConcurrentRecipeParams
from flows.low_balance.history_store import HistoryMode
from flows.low_balance.protection import ProtectionPolicy
from flows.low_balance.thresholds import Thresholds

__all__ = ["LowBalanceParams"]

_ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,49}")


class LowBalanceParams(ConcurrentRecipeParams):
    """Forecast the prepaid runway, alert on thresholds, optionally protect the fleet.

    Example:
        >>> LowBalanceParams(dry_run=True).protection.enabled
        False
    """

    JUDGES_AT_SCHEDULED_START: ClassVar[bool] = False
    """A run judges by the moment it really starts: the balance it reads is the balance
    then. Stamped with the scheduled start, a backlog of late runs (a worker back after
    an outage) would record one balance at several slot times, measure no burn over
    them and report a longer runway than the account has; the depletion time would be
    early by the delay. A late run says so in its log."""

    account_name: str = Field(
        default="barrack",
        description="A name for the account: the alert subject, the history key and the "
        "artifact key (letters, digits, '_', '.', '-').",
    )
    thresholds: Thresholds = Field(
        default_factory=Thresholds,
        description="Balance and runway thresholds; empty lists take the currency defaults.",
    )
    snapshot_rate_per_hour: Decimal | None = Field(
        default=None,
        ge=0,
        description="What one ready snapshot costs per hour; empty means the price list's "
        "fixed rate (Barrack bills every snapshot as a fixed 100 GB).",
    )
    measured_window_hours: float = Field(
        default=6, gt=0, le=168, description="How far back the measured burn looks."
    )
    measured_min_span_minutes: float = Field(
        default=30,
        gt=0,
        description="The least history (between top-ups) a measured burn needs.",
    )
    history_hours: float = Field(
        default=48,
        gt=0,
        le=720,
        description="How long balance samples are kept (at least the measurement window).",
    )
    history_store: HistoryMode = Field(
        default="auto",
        description="Where samples are kept: auto (a Prefect Variable when the API answers, "
        "else a file), prefect, file or memory.",
    )
    history_file: Path | None = Field(
        default=None,
        description="The file of the file store; empty means "
        "$BARRACK_OPS_STATE_DIR/low-balance-<account>.json.",
    )
    repeat_hours: float | None = Field(
        default=None,
        gt=0,
        description="Repeat an open alert after this many hours; empty means "
        "BARRACK_NOTIFY_REPEAT_INTERVAL (6 h by default).",
    )
    protection: ProtectionPolicy = Field(
        default_factory=ProtectionPolicy,
        description="What to hibernate when the runway is critical (off by default).",
    )
    now: AwareDatetime | None = Field(
        default=None,
        description="Evaluation time (the demo and tests pass the simulator's clock); "
        "empty means the moment the run starts, never its scheduled time: the balance "
        "read is the balance then.",
    )
    max_concurrency: int = Field(default=4, ge=1, le=64, description="API actions at once.")
    poll_seconds: float = Field(
        default=10, gt=0, description="First wait between snapshot status checks (grows x1.5)."
    )
    max_poll_seconds: float = Field(
        default=60, gt=0, description="Longest wait between snapshot status checks."
    )

    @field_validator("account_name")
    @classmethod
    def _check_account_name(cls, value: str) -> str:
        if not _ACCOUNT_NAME.fullmatch(value):
            raise ValueError(
                f"account_name: {value!r} must be 1-50 letters, digits, '_', '.' or '-', "
                "starting with a letter or digit"
            )
        return value

    @model_validator(mode="after")
    def _history_covers_window(self) -> LowBalanceParams:
        if self.history_hours < self.measured_window_hours:
            raise ValueError(
                f"history_hours: {self.history_hours:g} is shorter than "
                f"measured_window_hours ({self.measured_window_hours:g})"
            )
        if self.measured_min_span_minutes > self.measured_window_hours * 60:
            raise ValueError(
                "measured_min_span_minutes: longer than the measurement window "
                f"({self.measured_window_hours:g} h)"
            )
        return self

    @property
    def measured_window(self) -> timedelta:
        """The measurement window as a duration."""
        return timedelta(hours=self.measured_window_hours)

    @property
    def measured_min_span(self) -> timedelta:
        """The least history a measurement needs, as a duration."""
        return timedelta(minutes=self.measured_min_span_minutes)

    @property
    def history_keep(self) -> timedelta:
        """How long samples are kept."""
        return timedelta(hours=self.history_hours)

    @property
    def repeat_interval(self) -> timedelta | None:
        """The repeat interval override, or None."""
        return timedelta(hours=self.repeat_hours) if self.repeat_hours is not None else None
