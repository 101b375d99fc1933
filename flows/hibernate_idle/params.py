"""The parameters of the hibernate-idle recipe (a form in the Prefect UI)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

from pydantic import AwareDatetime, Field, field_validator, model_validator

from flows.common.params import ConcurrentRecipeParams
from flows.common.selection import InstanceSelection
from flows.hibernate_idle.rules import IdleRules, Snooze
from flows.hibernate_idle.state import StateMode
from tasks.probes import ProbeKind, PrometheusProbeSettings, SSHSettings
from tasks.probes.prometheus import check_resolution

__all__ = ["DUE_WAIT", "HibernateIdleParams"]

DUE_WAIT = timedelta(minutes=2)
"""A hibernation due within this of a run's start waits for it in that run. The grace counts
from when the warning was sent, seconds after its run began; without the wait, the run
two 15-minute slots later would find it seconds short and leave it a whole slot more."""

_POLICY_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


class HibernateIdleParams(ConcurrentRecipeParams):
    """Warn about, then hibernate, instances whose GPUs have been idle for a whole window.

    Example:
        >>> HibernateIdleParams(window_minutes=90, dry_run=True).rules().window
        datetime.timedelta(seconds=5400)
    """

    JUDGES_AT_SCHEDULED_START: ClassVar[bool] = False
    """A run judges by the moment it really starts, never its scheduled time: one that
    starts 10 minutes late must judge the last 10 minutes too (issue #16, 1), and a
    backlog of late runs must not squeeze the grace between a warning and the
    hibernation."""

    selection: InstanceSelection = Field(
        default_factory=InstanceSelection, description="Which instances to watch."
    )
    policy_name: str = Field(
        default="default",
        description="Names this policy's memory (warnings, idle streaks) and artifacts: "
        "lowercase letters, digits and dashes.",
    )
    probe: ProbeKind = Field(
        default="prometheus", description="Where utilisation comes from: prometheus or ssh."
    )
    prometheus: PrometheusProbeSettings = Field(
        default_factory=PrometheusProbeSettings, description="The prometheus probe."
    )
    ssh: SSHSettings = Field(
        default_factory=SSHSettings,
        description="SSH access: the ssh probe and the pre-hibernate command.",
    )
    util_threshold_pct: float = Field(
        default=5, gt=0, le=100, description="Idle means peak GPU utilisation below this (%)."
    )
    memory_threshold_mib: float = Field(
        default=1024,
        gt=0,
        description="Idle also means GPU memory used below this (MiB per GPU): above the "
        "few hundred MiB a driver and an empty CUDA context hold, below any loaded model.",
    )
    window_minutes: float = Field(
        default=60, ge=5, le=24 * 60, description="Idle for the whole of this window."
    )
    min_uptime_minutes: float = Field(
        default=120,
        ge=0,
        description="Leave instances alone until they have been up this long (since their "
        "last start or restore).",
    )
    grace_minutes: float = Field(
        default=30,
        ge=0,
        description="After the warning, hibernate only if still idle this much later, on a "
        "later run.",
    )
    exempt_name_globs: list[str] = Field(
        default_factory=list, description="Never hibernate instances whose names match."
    )
    exempt_ids: list[str] = Field(default_factory=list, description="Never hibernate these.")
    snoozes: list[Snooze] = Field(
        default_factory=list, description="Keep these awake until a time (id or name pattern)."
    )
    max_actions: int = Field(
        default=10, ge=0, description="At most this many hibernations per run; the rest wait."
    )
    pre_hibernate_command: str | None = Field(
        default=None,
        description="Run this over SSH first (e.g. a checkpoint); a failure or timeout "
        "cancels that instance's hibernation and alerts.",
    )
    pre_hibernate_timeout_seconds: float = Field(
        default=300, gt=0, le=3600, description="Time allowed for the pre-hibernate command."
    )
    dry_run: bool = Field(
        default=False, description="Probe, decide and report; warn, hibernate and remember nothing."
    )
    now: AwareDatetime | None = Field(
        default=None,
        description="Evaluation time (replays and tests); empty means the moment the run "
        "actually starts, never its scheduled time: a late run judges fresh evidence.",
    )
    recheck_minutes: float = Field(
        default=5,
        ge=1,
        le=60,
        description="Right before hibernating, utilisation is read again over this many "
        "minutes up to that moment; busy (or unreadable) then means it is not hibernated.",
    )
    state_store: StateMode = Field(
        default="auto",
        description="Where warnings and streaks persist: auto (Prefect Variables when an "
        "API is reachable, else a file), prefect or file.",
    )
    state_file: str | None = Field(
        default=None,
        description="The file of the file store; empty means "
        "$BARRACK_OPS_STATE_DIR/hibernate-idle-<policy>.json.",
    )

    @field_validator("policy_name")
    @classmethod
    def _check_policy_name(cls, value: str) -> str:
        if not _POLICY_NAME.fullmatch(value):
            raise ValueError(
                f"{value!r}: use 1-40 lowercase letters, digits and dashes, starting with a "
                "letter or digit"
            )
        return value

    @field_validator("exempt_name_globs", "exempt_ids")
    @classmethod
    def _no_blank_entries(cls, values: list[str]) -> list[str]:
        cleaned = [v.strip() for v in values]
        if any(not v for v in cleaned):
            raise ValueError("entries must not be empty")
        return cleaned

    @field_validator("pre_hibernate_command")
    @classmethod
    def _check_command(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank (leave it out for no command)")
        return value

    @model_validator(mode="after")
    def _fits_prometheus_resolution(self) -> HibernateIdleParams:
        if self.probe == "prometheus":
            check_resolution(
                timedelta(minutes=self.window_minutes),
                self.prometheus.step_seconds,
                fields="window_minutes / prometheus.step_seconds",
            )
        return self

    def rules(self) -> IdleRules:
        """The decision rules these parameters set."""
        return IdleRules(
            util_threshold_pct=self.util_threshold_pct,
            memory_threshold_mib=self.memory_threshold_mib,
            window=timedelta(minutes=self.window_minutes),
            min_uptime=timedelta(minutes=self.min_uptime_minutes),
            grace=timedelta(minutes=self.grace_minutes),
            # a fixed `now` (replays, simulated time) has no clock to wait on
            due_wait=DUE_WAIT if self.now is None else timedelta(0),
            exempt_name_globs=tuple(self.exempt_name_globs),
            exempt_ids=tuple(self.exempt_ids),
            snoozes=tuple(self.snoozes),
        )

    def state_path(self) -> Path | None:
        """The file store's path, when one is set."""
        return Path(self.state_file).expanduser() if self.state_file else None
