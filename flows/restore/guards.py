"""Checks made before a restore acts: the snapshot, the balance and the name.

Pure functions; each returns the problem in words (None when fine), so the report can
say exactly why a restore did not go ahead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

from barrack.models import Balance, Snapshot, VMInstance, VMStatus, VolumeResponse
from flows.common.burn import fleet_burn as shared_fleet_burn
from flows.common.pricing import PriceIndex
from flows.common.runway import compute_runway
from notifications.text import format_money

__all__ = [
    "MIN_BALANCE",
    "balance_problem",
    "find_adoptable",
    "fleet_burn",
    "name_holder",
    "runway_hours",
    "snapshot_problem",
]

MIN_BALANCE: Final[dict[str, Decimal]] = {
    "USD": Decimal("1.00"),
    "EUR": Decimal("1.00"),
    "INR": Decimal("100.00"),
}
"""A3 (documented): the balance needed to create or restore anything, per currency."""


def snapshot_problem(snapshot: Snapshot) -> str | None:
    """Why this snapshot cannot be restored, or None when it is ready."""
    if snapshot.status.is_ready:
        return None
    return (
        f"snapshot {snapshot.name} ({snapshot.id}) is {snapshot.status}; only SUCCESS "
        "(legacy: available) can be restored"
    )


def balance_problem(balance: Balance) -> str | None:
    """Why the balance does not allow a restore (below A3's minimum), or None."""
    currency = str(balance.currency)
    minimum = MIN_BALANCE.get(currency)
    if minimum is None:
        return None  # a currency the docs give no minimum for: let the API judge
    if balance.balance < minimum:
        return (
            f"balance {format_money(balance.balance, currency)} is below the "
            f"{format_money(minimum, currency)} needed to restore; top up first"
        )
    return None


def fleet_burn(
    index: PriceIndex,
    instances: Iterable[VMInstance],
    *,
    volumes: Iterable[VolumeResponse] = (),
    snapshots: Iterable[Snapshot] = (),
    leave_out: Iterable[str] = (),
) -> Decimal:
    """What the account costs per hour now, by the fleet model the low-balance alert uses.

    Instances in billed states, volumes and ready snapshots, priced by the shared index
    (:mod:`flows.common.burn`); ``leave_out`` names instances not to count (one this
    restore already made, which the new price replaces).
    """
    skipped = set(leave_out)
    return shared_fleet_burn(
        index=index,
        instances=[vm for vm in instances if vm.id not in skipped],
        volumes=volumes,
        snapshots=snapshots,
    ).total


def runway_hours(balance: Decimal, burn: Decimal, added: Decimal | None) -> float | None:
    """Hours the balance lasts at ``burn`` plus the new instance's ``added`` price.

    The low-balance alert's rule (:func:`flows.common.runway.compute_runway`). None when
    nothing bills (the runway is unbounded) or the new price is unknown.
    """
    if added is None:
        return None
    runway = compute_runway(balance, burn + added, datetime.now(UTC), "fleet model + restore")
    return float(runway.hours) if runway.hours is not None else None


def name_holder(instances: Sequence[VMInstance], name: str) -> VMInstance | None:
    """The instance that holds ``name`` now (deleted ones release it), if any."""
    for vm in instances:
        if vm.name == name and vm.status != VMStatus.DELETED:
            return vm
    return None


def find_adoptable(
    instances: Sequence[VMInstance], snapshot_id: str, names: Iterable[str]
) -> VMInstance | None:
    """An instance an earlier attempt of this request made: one of ``names``, restored
    from this snapshot, and not being deleted. Adopting it keeps a retry from making a
    second instance."""
    wanted = set(names)
    for vm in instances:
        if (
            vm.name in wanted
            and vm.status not in (VMStatus.DELETED, VMStatus.DELETING)
            and vm.restored_from(snapshot_id)
        ):
            return vm
    return None
