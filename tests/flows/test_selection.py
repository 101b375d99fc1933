"""Instance selection: globs, ids, regions, exclusions, as a table."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from barrack.models import VMInstance
from flows.common.selection import InstanceSelection, select_instances


def vm(
    name: str, region: str = "US-1", status: str = "ACTIVE", id_: str | None = None
) -> VMInstance:
    return VMInstance.model_validate(
        {
            "id": id_ or f"BRK-{name[:7].upper():0<7}",
            "name": name,
            "status": status,
            "region": region,
            "flavor": {
                "name": "f",
                "gpu_model": "A40",
                "gpu_count": 1,
                "vcpus": 8,
                "ram_gb": 64,
                "disk_gb": 100,
            },
            "created_at": "2026-11-01T00:00:00Z",
        }
    )


FLEET = [
    vm("train-1", "US-1"),
    vm("train-2", "CANADA-1"),
    vm("infer-1", "NORWAY-1"),
    vm("scratch", "US-1", id_="BRK-SCRATCH"),
    vm("old", "US-1", status="DELETED"),
]


@pytest.mark.parametrize(
    ("selection", "chosen", "excluded"),
    [
        ({}, ["infer-1", "scratch", "train-1", "train-2"], []),
        ({"name_globs": ["train-*"]}, ["train-1", "train-2"], []),
        ({"name_globs": [], "instance_ids": ["BRK-SCRATCH"]}, ["scratch"], []),
        (
            {"name_globs": ["train-*"], "instance_ids": ["BRK-SCRATCH"]},
            ["scratch", "train-1", "train-2"],
            [],
        ),
        (
            {"regions": ["US-1"]},
            ["scratch", "train-1"],
            ["infer-1: region NORWAY-1 not selected", "train-2: region CANADA-1 not selected"],
        ),
        (
            {"exclude_name_globs": ["*-2"]},
            ["infer-1", "scratch", "train-1"],
            ["train-2: excluded by pattern '*-2'"],
        ),
        (
            {"exclude_ids": ["BRK-SCRATCH"]},
            ["infer-1", "train-1", "train-2"],
            ["scratch: excluded by id"],
        ),
        ({"name_globs": ["TRAIN-*"]}, [], []),
        ({"name_globs": ["old"]}, [], []),
    ],
)
def test_selection(selection: dict[str, list[str]], chosen: list[str], excluded: list[str]) -> None:
    result = select_instances(FLEET, InstanceSelection(**selection))
    assert [v.name for v in result.chosen] == chosen
    assert [f"{v.name}: {why}" for v, why in result.excluded] == excluded


@pytest.mark.parametrize("field", ["name_globs", "instance_ids", "regions", "exclude_ids"])
def test_blank_entries_are_refused_naming_the_field(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        InstanceSelection(**{field: ["ok", " "]})


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="name_glob"):
        InstanceSelection(name_glob=["x"])  # type: ignore[call-arg]
