"""The nightly snapshots recipe: snapshot every selected instance once per schedule slot,
then prune old snapshots by a restic-style retention policy with DLM-style safety.

The pure core lives here and is testable without Prefect:

* ``retention``: the policy (rules, presets) and the planner (keep/delete with reasons);
* ``schedule``: cron slots, their period, snapshot names and freshness;
* ``ownership``: the description marker that says which policy made a snapshot.
"""

from flows.nightly_snapshots.ownership import (
    Ownership,
    is_owned_by,
    ownership_description,
    parse_ownership,
    validate_policy_name,
)
from flows.nightly_snapshots.retention import (
    PRESETS,
    FleetPlan,
    InstancePlan,
    RetentionAction,
    RetentionDecision,
    RetentionPolicy,
    SnapshotRecord,
    plan_fleet,
    plan_instance,
)
from flows.nightly_snapshots.schedule import (
    Freshness,
    FreshnessLevel,
    freshness,
    period_of,
    slot_for,
    snapshot_name,
    validate_cron,
)

__all__ = [
    "PRESETS",
    "FleetPlan",
    "Freshness",
    "FreshnessLevel",
    "InstancePlan",
    "Ownership",
    "RetentionAction",
    "RetentionDecision",
    "RetentionPolicy",
    "SnapshotRecord",
    "freshness",
    "is_owned_by",
    "ownership_description",
    "parse_ownership",
    "period_of",
    "plan_fleet",
    "plan_instance",
    "slot_for",
    "snapshot_name",
    "validate_cron",
    "validate_policy_name",
]
