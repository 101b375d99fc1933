"""A hibernate-idle save writes only what changed: table and property."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.hibernate_idle.state import InstanceState, changed_states

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
WARNED = InstanceState(warned_at=T0, last_idle_at=T0)
LATER = InstanceState(warned_at=T0, last_idle_at=T0 + timedelta(hours=1))
EMPTY = InstanceState()


@pytest.mark.parametrize(
    ("remembered", "wanted", "changes"),
    [
        ({}, {"a": None}, {}),  # nothing before, nothing after: no write
        ({}, {"a": EMPTY}, {}),  # an empty state is no state
        ({"a": EMPTY}, {"a": None}, {"a": None}),  # an empty one stored is cleared
        ({}, {"a": WARNED}, {"a": WARNED}),  # new
        ({"a": WARNED}, {"a": WARNED}, {}),  # unchanged
        ({"a": WARNED}, {"a": LATER}, {"a": LATER}),  # updated
        ({"a": WARNED}, {"a": None}, {"a": None}),  # forgotten
        ({"a": WARNED}, {"a": EMPTY}, {"a": None}),
        ({"a": WARNED, "b": WARNED}, {"b": LATER}, {"b": LATER}),  # absent from wanted: kept
    ],
)
def test_changed_states(
    remembered: dict[str, InstanceState],
    wanted: dict[str, InstanceState | None],
    changes: dict[str, InstanceState | None],
) -> None:
    assert changed_states(remembered, wanted) == changes


def _apply(
    store: dict[str, InstanceState], changes: dict[str, InstanceState | None]
) -> dict[str, InstanceState]:
    result = dict(store)
    for instance_id, state in changes.items():
        if state is None or state.empty:
            result.pop(instance_id, None)
        else:
            result[instance_id] = state
    return result


states = st.sampled_from([None, EMPTY, WARNED, LATER])
ids = st.sampled_from(["a", "b", "c", "d"])


@given(
    remembered=st.dictionaries(ids, st.sampled_from([EMPTY, WARNED, LATER])),
    wanted=st.dictionaries(ids, states),
)
def test_saving_the_changes_ends_where_saving_everything_would(
    remembered: dict[str, InstanceState], wanted: dict[str, InstanceState | None]
) -> None:
    changes = changed_states(remembered, wanted)
    assert _apply(remembered, changes) == _apply(remembered, wanted)
    assert set(changes) <= set(wanted)
