"""What the recipe remembers about one instance between runs (pure data, no I/O).

Where it is kept is :mod:`flows.hibernate_idle.state`; the rules read these models only.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import AwareDatetime, BaseModel, ConfigDict

from flows.hibernate_idle.streaks import IdleStreak

__all__ = ["InstanceState", "changed_states"]


class InstanceState(BaseModel):
    """What the recipe remembers about one instance.

    Attributes:
        warned_at: when the idle warning went out (None: not warned).
        last_idle_at: the last run that judged it idle.
        streak: consecutive idle observations (ssh probe only).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    warned_at: AwareDatetime | None = None
    last_idle_at: AwareDatetime | None = None
    streak: IdleStreak | None = None

    @property
    def empty(self) -> bool:
        """True when there is nothing to remember (the store forgets the instance)."""
        return self.warned_at is None and self.last_idle_at is None and self.streak is None


def changed_states(
    remembered: Mapping[str, InstanceState], wanted: Mapping[str, InstanceState | None]
) -> dict[str, InstanceState | None]:
    """What a save must write: ``wanted`` without the entries that are already so.

    An empty state and no state are the same (nothing to remember), so an instance with
    neither before nor after costs no write: at 5,000 instances, saving every instance
    took a minute of Prefect API calls after the run's last action.
    """
    changes: dict[str, InstanceState | None] = {}
    for instance_id, state in wanted.items():
        after = None if state is None or state.empty else state
        if after != remembered.get(instance_id):
            changes[instance_id] = after
    return changes
