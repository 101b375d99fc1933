"""Which instances a recipe looks at: name globs, ids, regions and exclusions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from pydantic import Field, field_validator

from barrack.models import RequestModel, VMInstance

__all__ = ["InstanceSelection", "Selected", "select_instances"]


class InstanceSelection(RequestModel):
    """Which instances a recipe applies to.

    An instance is selected when its name matches one of ``name_globs`` or its id is in
    ``instance_ids``, its region is in ``regions`` (when given), and neither its name
    matches ``exclude_name_globs`` nor its id is in ``exclude_ids``. Globs are
    case-sensitive shell patterns (``train-*``, ``*-prod``).
    """

    name_globs: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Instance name patterns to include, e.g. 'train-*'. '*' means all.",
    )
    instance_ids: list[str] = Field(
        default_factory=list, description="Instance ids to include in addition to the globs."
    )
    regions: list[str] = Field(
        default_factory=list, description="Only these regions; empty means every region."
    )
    exclude_name_globs: list[str] = Field(
        default_factory=list, description="Instance name patterns to leave out."
    )
    exclude_ids: list[str] = Field(default_factory=list, description="Instance ids to leave out.")

    @field_validator("name_globs", "exclude_name_globs", "instance_ids", "exclude_ids", "regions")
    @classmethod
    def _no_blank_entries(cls, values: list[str]) -> list[str]:
        cleaned = [v.strip() for v in values]
        if any(not v for v in cleaned):
            raise ValueError("entries must not be empty")
        return cleaned

    def describe(self) -> str:
        """The selection in one line, for reports."""
        parts = [f"names {', '.join(self.name_globs)}" if self.name_globs else "no name globs"]
        if self.instance_ids:
            parts.append(f"ids {', '.join(self.instance_ids)}")
        if self.regions:
            parts.append(f"regions {', '.join(self.regions)}")
        if self.exclude_name_globs or self.exclude_ids:
            parts.append(f"excluding {', '.join(self.exclude_name_globs + self.exclude_ids)}")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Selected:
    """The outcome of a selection: the chosen instances, and the reason for each left out."""

    chosen: tuple[VMInstance, ...]
    excluded: tuple[tuple[VMInstance, str], ...]


def _why_left_out(instance: VMInstance, selection: InstanceSelection) -> str | None:
    name_hit = any(fnmatchcase(instance.name, glob) for glob in selection.name_globs)
    if not name_hit and instance.id not in selection.instance_ids:
        return None  # not a candidate at all: not reported as an exclusion
    if selection.regions and str(instance.region) not in selection.regions:
        return f"region {instance.region} not selected"
    if instance.id in selection.exclude_ids:
        return "excluded by id"
    for glob in selection.exclude_name_globs:
        if fnmatchcase(instance.name, glob):
            return f"excluded by pattern {glob!r}"
    return ""


def select_instances(instances: Iterable[VMInstance], selection: InstanceSelection) -> Selected:
    """Apply a selection; deleted instances are never chosen.

    Instances that match no glob and no id are simply not part of the run; those that
    match but are excluded (by region, id or pattern) come back with the reason.
    """
    chosen: list[VMInstance] = []
    excluded: list[tuple[VMInstance, str]] = []
    for instance in sorted(instances, key=lambda vm: (vm.name, vm.id)):
        if instance.status in ("DELETED", "DELETING"):
            continue
        why = _why_left_out(instance, selection)
        if why is None:
            continue
        if why:
            excluded.append((instance, why))
        else:
            chosen.append(instance)
    return Selected(tuple(chosen), tuple(excluded))
