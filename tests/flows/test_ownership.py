"""The ownership marker: writing it, reading it back, and refusing look-alikes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from flows.nightly_snapshots.ownership import (
    DESCRIPTION_MAX_LENGTH,
    Ownership,
    is_owned_by,
    ownership_description,
    parse_ownership,
    validate_policy_name,
)

SLOT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
MARKER = "managed-by=barrack-ops policy=nightly slot=2026-11-20T02:00Z"


def test_the_description_is_exactly_the_marker() -> None:
    assert ownership_description("nightly", SLOT) == MARKER


def test_the_slot_is_written_in_utc_to_the_minute() -> None:
    oslo = datetime(2026, 11, 20, 3, 0, 42, tzinfo=ZoneInfo("Europe/Oslo"))

    assert ownership_description("nightly", oslo) == MARKER


def test_extra_text_follows_the_marker_and_round_trips() -> None:
    description = ownership_description("nightly", SLOT, extra="run 42 of flow nightly")

    assert description == f"{MARKER} run 42 of flow nightly"
    assert parse_ownership(description) == Ownership(policy="nightly", slot=SLOT)


def test_long_extra_text_is_cut_so_the_marker_survives() -> None:
    description = ownership_description("p" * 40, SLOT, extra="x" * 500)

    assert len(description) == DESCRIPTION_MAX_LENGTH
    assert description.endswith("x...")
    assert is_owned_by(description, "p" * 40)


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        (lambda: ownership_description("", SLOT), r"^policy: '' must be 1-40 characters"),
        (lambda: ownership_description("a" * 41, SLOT), r"^policy: "),
        (lambda: ownership_description("night ly", SLOT), r"^policy: "),
        (lambda: ownership_description("nightly", datetime(2026, 11, 20)), r"^slot: must be time"),
        (
            lambda: ownership_description("a", SLOT, extra="managed-by=barrack-ops policy=b"),
            "^extra: must not contain",
        ),
    ],
)
def test_ownership_description_errors(call: Callable[[], object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        call()


@pytest.mark.parametrize(
    "description",
    [
        MARKER,
        f"Nightly backup. {MARKER}",
        f"{MARKER} (kept for audit)",
        f"first line\n{MARKER}\nlast line",
        f"\t{MARKER}\t",
    ],
)
def test_the_marker_is_found_amid_other_text(description: str) -> None:
    assert parse_ownership(description) == Ownership(policy="nightly", slot=SLOT)
    assert is_owned_by(description, "nightly")


@pytest.mark.parametrize(
    "description",
    [
        None,
        "",
        "made by barrack-ops",
        "managed-by=barrack-ops",
        "managed-by=barrack-ops policy=nightly",
        "managed-by=barrack-ops slot=2026-11-20T02:00Z",
        "managed-by=barrack-ops policy=nightly slot=2026-11-20",
        "managed-by=barrack-ops policy=nightly slot=2026-11-20T02:00",
        "managed-by=barrack-ops policy=nightly slot=2026-11-20T02:00:00Z",
        "managed-by=barrack-ops  policy=nightly slot=2026-11-20T02:00Z",
        "managed-by=other-tool policy=nightly slot=2026-11-20T02:00Z",
        "Managed-By=barrack-ops policy=nightly slot=2026-11-20T02:00Z",
        f"x{MARKER}",
        f"{MARKER}junk",
        # An impossible date is not a slot.
        "managed-by=barrack-ops policy=nightly slot=2026-02-30T02:00Z",
        "managed-by=barrack-ops policy=nightly slot=2026-11-20T25:00Z",
        # Two markers, even identical ones: someone edited the text, trust neither.
        f"{MARKER} {MARKER}",
        f"{MARKER} managed-by=barrack-ops policy=weekly slot=2026-11-20T02:00Z",
    ],
)
def test_look_alikes_are_owned_by_nobody(description: str | None) -> None:
    assert parse_ownership(description) is None
    assert not is_owned_by(description, "nightly")


def test_ownership_is_per_policy_and_case_sensitive() -> None:
    assert not is_owned_by(MARKER, "weekly")
    assert not is_owned_by(MARKER, "Nightly")
    assert is_owned_by(ownership_description("Nightly", SLOT), "Nightly")


def test_is_owned_by_refuses_a_bad_policy_name() -> None:
    with pytest.raises(ValueError, match=r"^policy: "):
        is_owned_by(MARKER, "")


@pytest.mark.parametrize("name", ["nightly", "a", "A.b_c-9", "x" * 40])
def test_valid_policy_names(name: str) -> None:
    assert validate_policy_name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 41, "night ly", "nightly!", "nächtlich", "a\n"])
def test_invalid_policy_names(name: str) -> None:
    with pytest.raises(ValueError, match=r"^policy_name: .* must be 1-40 characters"):
        validate_policy_name(name, field="policy_name")
