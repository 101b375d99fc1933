"""Every recipe against answers that break the contract: each run spoils one answer.

A malformed answer to a read must end the run with a clear error (or be tolerated, as an
unknown status is: such an instance is left alone); one to a write comes after the change
was made, and the change must still be accounted for. The long variant
(``python -m tests.chaos.long``) tries every kind on every route.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.chaos.faults import malformed_profile
from tests.chaos.recipes import CASES
from tests.chaos.session import ChaosSession

SEED = 5

SPOILED: dict[str, list[tuple[str, str, str, dict[str, Any]]]] = {
    "nightly-snapshots": [
        ("html-page", "GET", "/api/instances/", {}),
        ("empty-body", "POST", "/api/snapshots/", {}),
    ],
    "hibernate-idle": [
        ("unknown-enum", "GET", "/api/instances/", {}),
        ("empty-body", "POST", "/api/instances/*/hibernate/", {}),
    ],
    "low-balance": [
        ("html-502", "GET", "/api/instances/", {}),
        ("empty-body", "POST", "/api/snapshots/", {}),
    ],
    "restore-to-region": [
        ("missing-field", "GET", "/api/snapshots/", {}),
        (
            "wrong-type",
            "GET",
            "/api/instances/BRK-*",
            {"field": "created_at", "value": "yesterday"},
        ),
        ("empty-body", "POST", "/api/snapshots/*/restore/", {}),
    ],
}
"""Per recipe, a spoiled answer to a read and one to a write (after its change was made),
each on a fresh world. Every kind appears."""


CASES_SPOILED = [
    pytest.param(recipe, *entry, id=f"{recipe}-{entry[0]}-{entry[1]}")
    for recipe, entries in SPOILED.items()
    for entry in entries
]


@pytest.mark.parametrize(("recipe", "kind", "method", "path", "override"), CASES_SPOILED)
def test_a_malformed_answer_ends_in_a_clear_error_or_a_correct_run(
    chaos: ChaosSession, recipe: str, kind: str, method: str, path: str, override: dict[str, Any]
) -> None:
    profile = malformed_profile(kind, method, path, **override)
    result = chaos.scenario(CASES[recipe], profile.name, [profile], seed=SEED)
    assert result.violations == [], result.describe()
    assert [r.spoiled for r in result.proxied if r.spoiled], "the run met the malformed answer"
