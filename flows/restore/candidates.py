"""Where a snapshot can be restored: every candidate region, judged and ranked, with reasons.

Pure: the flow reads the region list, GPU stock and prices once and passes them in. A
candidate is *viable* when the region takes new instances, offers the snapshot's GPU
model (B5: that is what "compatible" means) and has stock for its GPU count. Viable
candidates are tried in order: the user's order for named regions, or for ``auto`` the
most stock first, then the lowest price, then the snapshot's own region (a restore in
place copies no data across regions, so it is faster), then the name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field

from barrack.models import GPUStockItem, Money, Region
from flows.common.pricing import PriceIndex
from notifications.text import format_money

__all__ = [
    "AUTO",
    "SOURCE",
    "Candidate",
    "CandidateVerdict",
    "assess_candidates",
    "deployable_count",
    "expand_targets",
    "hourly_price_for",
]

AUTO: Final = "auto"
"""Target token: every region, ranked by stock then price."""

SOURCE: Final = "source"
"""Target token: the snapshot's own region."""


class CandidateVerdict(StrEnum):
    """Why a candidate region is (or is not) tried."""

    VIABLE = "viable"
    EXCLUDED = "excluded"
    UNKNOWN_REGION = "unknown region"
    UNAVAILABLE = "unavailable"
    INCOMPATIBLE = "incompatible"
    OUT_OF_STOCK = "out of stock"
    NAME_TAKEN = "name taken"


class Candidate(BaseModel):
    """One region considered for the restore, and the verdict on it.

    Attributes:
        region: the region.
        verdict: viable, or why not.
        reason: the verdict in words, with the figures behind it.
        preference: 1 for the first region to try, 2 for the next...; None if not tried.
        deployable: instances of the snapshot's size deployable now (None: not listed).
        hourly_price: what the restored instance would cost per hour there.
        currency: the currency of ``hourly_price``.
        same_region: True for the snapshot's own region.
        name: the name the restored instance would get there.
        runway_hours: hours the balance lasts with the fleet plus this instance running.
    """

    model_config = ConfigDict(extra="forbid")

    region: str
    verdict: CandidateVerdict
    reason: str
    preference: int | None = None
    deployable: int | None = None
    hourly_price: Money | None = None
    currency: str | None = None
    same_region: bool = False
    name: str = ""
    runway_hours: float | None = Field(default=None, ge=0)

    @property
    def viable(self) -> bool:
        """True when the restore will be attempted here."""
        return self.verdict is CandidateVerdict.VIABLE


def deployable_count(
    stock: Sequence[GPUStockItem], region: str, gpu_model: str, gpu_count: int
) -> int | None:
    """Instances of ``gpu_count`` x ``gpu_model`` deployable in ``region`` now.

    The per-size configuration is preferred; without configurations, free GPUs divided
    by the count. None when the stock list has no entry for the model in that region.
    """
    for item in stock:
        if str(item.region) != region or str(item.gpu_model) != gpu_model:
            continue
        if item.configurations:
            for config in item.configurations:
                if int(config.gpu_count) == gpu_count:
                    return config.available
            return 0  # the region lists sizes, but not this one
        return item.available // gpu_count
    return None


def hourly_price_for(
    prices: PriceIndex, region: str, gpu_model: str, gpu_count: int, currency: str
) -> Decimal | None:
    """The hourly price of ``gpu_count`` x ``gpu_model``, from the shared price index.

    Barrack prices by model and tier, the same in every region, so ``region`` does not
    change the figure; None when the list has no row for the model, or is in another
    currency than ``currency``.
    """
    del region  # kept in the signature: a regional price list would need it
    if prices.currency != currency:
        return None
    return prices.gpu_rate(gpu_model, gpu_count)


def expand_targets(
    targets: Sequence[str], source_region: str, regions: Sequence[Region]
) -> list[str]:
    """The candidate regions in order: ``auto`` is every listed region (and the source's),
    by name; ``source`` is the snapshot's region; duplicates keep their first place."""
    if list(targets) == [AUTO]:
        return sorted({str(r.name) for r in regions} | {source_region})
    expanded = [source_region if t == SOURCE else t for t in targets]
    return list(dict.fromkeys(expanded))


def _gpus(gpu_model: str, gpu_count: int) -> str:
    return f"{gpu_count}x {gpu_model}"


def _judge(
    region: str,
    *,
    known: dict[str, Region],
    source_region: str,
    gpu_model: str,
    gpu_count: int,
    exclude_source_region: bool,
    stock: Sequence[GPUStockItem],
    prices: PriceIndex,
    currency: str,
    name: str,
    name_conflict: str | None,
) -> Candidate:
    same = region == source_region
    deployable = deployable_count(stock, region, gpu_model, gpu_count)
    price = hourly_price_for(prices, region, gpu_model, gpu_count, currency)
    base = Candidate(
        region=region,
        verdict=CandidateVerdict.VIABLE,
        reason="",
        deployable=deployable,
        hourly_price=price,
        currency=currency if price is not None else None,
        same_region=same,
        name=name,
    )
    listing = known.get(region)
    # Prices are the same everywhere, so only the stock says what a region offers; a
    # region whose stock is not listed at all is judged by the price list alone.
    offered = deployable is not None or (
        price is not None and not any(str(item.region) == region for item in stock)
    )
    if same and exclude_source_region:
        return _refused(
            base,
            CandidateVerdict.EXCLUDED,
            "the snapshot's own region, excluded by exclude_source_region",
        )
    if listing is None and deployable is None:
        names = ", ".join(sorted(known)) or "none listed"
        return _refused(
            base, CandidateVerdict.UNKNOWN_REGION, f"not a Barrack region (known: {names})"
        )
    if listing is not None and not listing.available:
        return _refused(
            base, CandidateVerdict.UNAVAILABLE, "not accepting new instances (region list)"
        )
    if not offered:
        return _refused(base, CandidateVerdict.INCOMPATIBLE, f"does not offer {gpu_model}")
    if deployable == 0:
        return _refused(
            base,
            CandidateVerdict.OUT_OF_STOCK,
            f"no {_gpus(gpu_model, gpu_count)} free now (GPU stock)",
        )
    if name_conflict is not None:
        return _refused(base, CandidateVerdict.NAME_TAKEN, name_conflict)
    return base


def _refused(candidate: Candidate, verdict: CandidateVerdict, reason: str) -> Candidate:
    return candidate.model_copy(update={"verdict": verdict, "reason": reason})


def _rank_key(candidate: Candidate) -> tuple[bool, int, bool, Decimal, bool, str]:
    """Most stock first (unlisted stock last), then price, then in place, then name."""
    return (
        candidate.deployable is None,
        -(candidate.deployable or 0),
        candidate.hourly_price is None,
        candidate.hourly_price if candidate.hourly_price is not None else Decimal(0),
        not candidate.same_region,
        candidate.region,
    )


def _viable_reason(candidate: Candidate, auto: bool, gpus: str) -> str:
    stock = (
        "stock not listed"
        if candidate.deployable is None
        else f"{candidate.deployable} x {gpus} deployable"
    )
    price = (
        "no listed price"
        if candidate.hourly_price is None
        else f"{format_money(candidate.hourly_price, candidate.currency)}/h"
    )
    where = "the snapshot's region" if candidate.same_region else "cross-region"
    order = f"rank {candidate.preference}" if auto else f"preference {candidate.preference}"
    return f"{order}: {stock}, {price}, {where}"


def assess_candidates(
    *,
    targets: Sequence[str],
    source_region: str,
    gpu_model: str,
    gpu_count: int,
    exclude_source_region: bool,
    regions: Sequence[Region],
    stock: Sequence[GPUStockItem],
    prices: PriceIndex,
    currency: str,
    names: Mapping[str, str] | None = None,
    name_conflicts: Mapping[str, str] | None = None,
) -> list[Candidate]:
    """Judge every target region and put the viable ones in the order they are tried.

    Args:
        targets: ``["auto"]``, or region names and ``"source"`` in order of preference.
        source_region: the snapshot's region.
        gpu_model: the snapshot's GPU model.
        gpu_count: the snapshot's GPU count.
        exclude_source_region: never restore into the snapshot's own region.
        regions: the region list (``available`` says whether a region takes new instances).
        stock: the GPU stock list of every region.
        prices: the shared price index in the account currency.
        currency: the account currency (prices in other currencies are ignored).
        names: the restored instance's name in each region.
        name_conflicts: regions whose name is taken, with who holds it.

    Returns:
        Viable candidates first, numbered by ``preference``, then the others with reasons.

    Example:
        >>> assess_candidates(targets=["US-1"], source_region="US-1", gpu_model="L40",
        ...     gpu_count=1, exclude_source_region=False, regions=[], stock=[],
        ...     prices=PriceIndex("USD"), currency="USD")[0].verdict.value
        'unknown region'
    """
    auto = list(targets) == [AUTO]
    known = {str(r.name): r for r in regions}
    names = names or {}
    conflicts = name_conflicts or {}
    judged = [
        _judge(
            region,
            known=known,
            source_region=source_region,
            gpu_model=gpu_model,
            gpu_count=gpu_count,
            exclude_source_region=exclude_source_region,
            stock=stock,
            prices=prices,
            currency=currency,
            name=names.get(region, ""),
            name_conflict=conflicts.get(region),
        )
        for region in expand_targets(targets, source_region, regions)
    ]
    viable = [c for c in judged if c.viable]
    if auto:
        viable.sort(key=_rank_key)
    gpus = _gpus(gpu_model, gpu_count)
    ranked = []
    for position, candidate in enumerate(viable, start=1):
        numbered = candidate.model_copy(update={"preference": position})
        ranked.append(numbered.model_copy(update={"reason": _viable_reason(numbered, auto, gpus)}))
    return ranked + [c for c in judged if not c.viable]
