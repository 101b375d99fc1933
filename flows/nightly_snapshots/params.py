"""The parameters of the nightly-snapshots recipe (a form in the Prefect UI)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator, model_validator

from flows.common.params import ConcurrentRecipeParams
from flows.common.selection import InstanceSelection
from flows.nightly_snapshots.ownership import validate_policy_name
from flows.nightly_snapshots.retention import PRESETS, RetentionPolicy
from flows.nightly_snapshots.schedule import DEFAULT_POLICY_NAME, load_timezone, validate_cron

__all__ = ["DEFAULT_PRESET", "NightlySnapshotsParams"]

DEFAULT_PRESET = "standard"
"""The retention preset of a run that names neither a preset nor rules."""


class NightlySnapshotsParams(ConcurrentRecipeParams):
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
        default=None,
        description=f"Retention preset: {', '.join(sorted(PRESETS))}; empty means "
        f"{DEFAULT_PRESET!r} when 'retention' is empty too. Give a preset or retention "
        "rules, not both.",
    )
    retention: RetentionPolicy | None = Field(
        default=None, description="Explicit retention rules (instead of a preset)."
    )
    cron: str = Field(
        default="0 2 * * *",
        description="The schedule this run belongs to: names the slot and sets how fresh "
        "snapshots must be. A run of a deployment with a cron schedule uses that "
        "schedule instead; this is for command-line runs and runs with no schedule.",
    )
    timezone: str = Field(
        default="UTC",
        description="IANA time zone of the cron (a deployment's schedule brings its own).",
    )
    max_deletions: int = Field(
        default=50,
        ge=0,
        description="Safety valve: if pruning would delete more than this, delete nothing "
        "and raise a critical alert. In steady state a run prunes about one snapshot per "
        "instance, so set it above the number of instances the policy covers.",
    )
    wait_timeout_minutes: float = Field(
        default=120, gt=0, description="How long to wait for new snapshots to be SUCCESS."
    )
    poll_seconds: float = Field(
        default=10, gt=0, description="First wait between status checks (it grows x1.5)."
    )
    max_poll_seconds: float = Field(
        default=120, gt=0, description="Longest wait between status checks."
    )
    freshness_grace_hours: float = Field(
        default=6, ge=0, description="How late a snapshot may be before it counts as stale."
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
    def _one_retention(self) -> NightlySnapshotsParams:
        if self.retention is not None and self.preset is not None:
            raise ValueError(
                f"preset ({self.preset!r}) and retention are both set: give one, the "
                "preset's name or the retention rules (the rules do not amend a preset)"
            )
        if self.preset is not None and self.preset not in PRESETS:
            raise ValueError(
                f"preset: {self.preset!r} is not a preset; choose one of "
                f"{', '.join(sorted(PRESETS))}"
            )
        return self

    def retention_policy(self) -> RetentionPolicy:
        """The rules in force: the explicit ones, else the preset's (``standard`` unset)."""
        if self.retention is not None:
            return self.retention
        return RetentionPolicy.from_preset(self.preset or DEFAULT_PRESET)

    @property
    def freshness_grace(self) -> timedelta:
        """The freshness grace as a duration."""
        return timedelta(hours=self.freshness_grace_hours)
