"""Checks made before a restore acts: the snapshot, the balance and the name.

Pure functions; each returns the problem in words (None when fine), so the report can
say exactly why a restore did not go ahead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Final

from barrack.models import Balance, Snapshot, VMInstance, VMStatus
from tasks.restore import restored_from

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

_BILLED: Final = frozenset({VMStatus.ACTIVE, VMStatus.SHUTOFF, VMStatus.HIBERNATED})


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
            f"balance {currency} {balance.balance:.2f} is below the {currency} "
            f"{minimum:.2f} needed to restore; top up first"
        )
    return None


def fleet_burn(instances: Iterable[VMInstance], *, leave_out: Iterable[str] = ()) -> Decimal:
    """What the account's instances cost per hour now (settled, billed states only)."""
    skipped = set(leave_out)
    return sum(
        (
            vm.hourly_price
            for vm in instances
            if vm.status in _BILLED and vm.hourly_price is not None and vm.id not in skipped
        ),
        Decimal(0),
    )


def runway_hours(balance: Decimal, burn: Decimal, added: Decimal | None) -> float | None:
    """Hours the balance lasts at ``burn`` plus the new instance's ``added`` price.

    None when nothing bills (the runway is unbounded) or the new price is unknown.
    """
    if added is None:
        return None
    total = burn + added
    if total <= 0:
        return None
    return max(0.0, float(balance / total))


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
            and restored_from(vm, snapshot_id)
        ):
            return vm
    return None
