"""The parameters of the nightly-snapshots recipe (a form in the Prefect UI)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import AwareDatetime, Field, field_validator, model_validator

from barrack.models import RequestModel
from flows.common.selection import InstanceSelection
from flows.nightly_snapshots.ownership import validate_policy_name
from flows.nightly_snapshots.retention import PRESETS, RetentionPolicy
from flows.nightly_snapshots.schedule import DEFAULT_POLICY_NAME, load_timezone, validate_cron
from tasks.connection import BarrackConnection

__all__ = ["NightlySnapshotsParams"]


class NightlySnapshotsParams(RequestModel):
    """Snapshot the selected instances once per schedule slot, then prune by policy.

    Example:
        >>> NightlySnapshotsParams(preset="minimal", dry_run=True).retention_policy().keep_last
        3
    """

    selection: InstanceSelection = Field(
        default_factory=InstanceSelection, description="Which instances to snapshot."
    )
    policy_name: str = Field(
        default=DEFAULT_POLICY_NAME,
        description="This policy's identity: written into every snapshot's description "
        "(owner tag) and, unless it is 'nightly', into its name. Only snapshots carrying "
        "this exact tag are pruned or count for freshness. Give each deployment that "
        "covers the same instances its own name (e.g. 'daily' and 'weekly').",
    )
    preset: str | None = Field(
        default="standard",
        description=f"Retention preset: {', '.join(sorted(PRESETS))}. Ignored when "
        "'retention' is set.",
    )
    retention: RetentionPolicy | None = Field(
        default=None, description="Explicit retention rules (override the preset)."
    )
    cron: str = Field(
        default="0 2 * * *",
        description="The schedule this run belongs to (the deployment's cron): names the "
        "slot and sets how fresh snapshots must be.",
    )
    timezone: str = Field(default="UTC", description="IANA time zone of the cron.")
    now: AwareDatetime | None = Field(
        default=None,
        description="Evaluation time; empty means the run's scheduled start (or now).",
    )
    max_deletions: int = Field(
        default=50,
        ge=0,
        description="Safety valve: if pruning would delete more than this, delete nothing "
        "and raise a critical alert. In steady state a run prunes about one snapshot per "
        "instance, so set it above the number of instances the policy covers.",
    )
    dry_run: bool = Field(default=False, description="Plan and report, change nothing.")
    wait_timeout_minutes: float = Field(
        default=120, gt=0, description="How long to wait for new snapshots to be SUCCESS."
    )
    poll_seconds: float = Field(
        default=10, gt=0, description="First wait between status checks (it grows x1.5)."
    )
    max_poll_seconds: float = Field(
        default=120, gt=0, description="Longest wait between status checks."
    )
    max_concurrency: int = Field(
        default=8, ge=1, le=64, description="API actions in flight at once."
    )
    freshness_grace_hours: float = Field(
        default=6, ge=0, description="How late a snapshot may be before it counts as stale."
    )
    notify: bool = Field(default=True, description="Send notifications for this run.")
    connection: BarrackConnection = Field(
        default_factory=BarrackConnection, description="How to reach Barrack."
    )

    @field_validator("policy_name")
    @classmethod
    def _check_policy_name(cls, value: str) -> str:
        return validate_policy_name(value, field="policy_name")

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        return validate_cron(value, field="cron")

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        load_timezone(value, field="timezone")
        return value

    @model_validator(mode="after")
    def _retention_is_set(self) -> NightlySnapshotsParams:
        if self.retention is None and self.preset is None:
            raise ValueError("set a retention preset or explicit retention rules")
        if self.retention is None and self.preset not in PRESETS:
            raise ValueError(
                f"preset: {self.preset!r} is not a preset; choose one of "
                f"{', '.join(sorted(PRESETS))}"
            )
        return self

    def retention_policy(self) -> RetentionPolicy:
        """The rules in force: the explicit ones, else the preset's."""
        if self.retention is not None:
            return self.retention
        assert self.preset is not None  # guaranteed by the validator
        return RetentionPolicy.from_preset(self.preset)

    @property
    def freshness_grace(self) -> timedelta:
        """The freshness grace as a duration."""
        return timedelta(hours=self.freshness_grace_hours)

    def evaluation_time(self, scheduled: datetime | None, current: datetime) -> datetime:
        """The time this run judges by: ``now``, else the scheduled start, else ``current``."""
        return self.now or scheduled or current
