"""The restore recipe's pure parts: names, candidate ranking, guards and the plan."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from barrack.models import check_name
from flows.common.pricing import PriceIndex
from flows.restore.candidates import (
    CandidateVerdict,
    assess_candidates,
    deployable_count,
    hourly_price_for,
)
from flows.restore.guards import balance_problem, fleet_burn, runway_hours, snapshot_problem
from flows.restore.naming import (
    derive_drill_name,
    derive_restore_name,
    region_short,
    sanitize_base,
    validate_instance_name,
)
from flows.restore.plan import Facts, plan_restore
from flows.restore.source import describe_unready, newest_ready_snapshot, snapshots_of
from tests.helpers.restore_models import (
    REGIONS,
    balance,
    instance,
    prices,
    region,
    snapshot,
    stock,
)

H100 = "H100-SXM5-80GB"

# -- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region_name", "short"),
    [("NORWAY-1", "no1"), ("CANADA-1", "ca1"), ("US-1", "us1"), ("EU-WEST-2", "ew2"), ("X", "x")],
)
def test_region_short(region_name: str, short: str) -> None:
    assert region_short(region_name) == short


@pytest.mark.parametrize(
    ("source", "region_name", "expected"),
    [
        ("llm-train-01", "US-1", "llm-train-01-us1"),
        ("abcdefghijklmnopqrstuvwxy", "NORWAY-1", "abcdefghijklmnopqrstuvwxy-no1"),  # 29
        # cut or cleaned: a short hash of the full source name keeps the name unique
        ("a" * 40, "CANADA-1", "a" * 19 + "-e33cdf-ca1"),
        ("train--", "US-1", "train-8367b2-us1"),
        ("my snapshot #3", "US-1", "my-snapshot-3-dddf77-us1"),
        (None, "US-1", "restore-us1"),
        ("__", "US-1", "restore-9911f4-us1"),
        ("llm-finetune-production-east-a", "US-1", "llm-finetune-produc-c8fd03-us1"),
        ("llm-finetune-production-east-b", "US-1", "llm-finetune-produc-b726d6-us1"),
    ],
)
def test_derive_restore_name(source: str | None, region_name: str, expected: str) -> None:
    assert derive_restore_name(source, region_name) == expected


def test_derive_drill_name_is_per_day() -> None:
    day = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
    assert derive_drill_name("llm-train-01", day) == "llm-train-01-drill-1129"
    assert derive_drill_name("x" * 40, day) == "x" * 12 + "-bd913f-drill-1129"


@given(
    st.text(min_size=1, max_size=60),
    st.text(min_size=1, max_size=60),
    st.sampled_from(["NORWAY-1", "US-1", "AP-SOUTH-12"]),
)
def test_derived_names_of_different_sources_differ(first: str, second: str, region: str) -> None:
    assume(first != second)
    day = datetime(2026, 1, 5, tzinfo=UTC)
    assert derive_restore_name(first, region) != derive_restore_name(second, region)
    assert derive_drill_name(first, day) != derive_drill_name(second, day)


def test_long_names_sharing_a_prefix_derive_different_names() -> None:
    day = datetime(2026, 11, 29, tzinfo=UTC)
    names = [f"llm-finetune-production-east-{c}" for c in "ab"]
    restores = {derive_restore_name(n, "US-1") for n in names}
    drills = {derive_drill_name(n, day) for n in names}
    assert len(restores) == len(drills) == 2
    assert all(len(n) == 30 and n.startswith("llm-finetune") for n in restores | drills)


@given(st.text(max_size=60), st.sampled_from(["NORWAY-1", "CANADA-1", "US-1", "AP-SOUTH-12"]))
def test_derived_names_are_always_valid(source: str, region_name: str) -> None:
    assert check_name("instance", derive_restore_name(source, region_name)) is None
    day = datetime(2026, 1, 5, tzinfo=UTC)
    assert check_name("instance", derive_drill_name(source, day)) is None


@given(st.text(max_size=60))
def test_sanitized_base_starts_with_letter_or_digit(text: str) -> None:
    assert sanitize_base(text)[0].isalnum()


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("x", "2-30 characters"),
        ("a" * 31, "2-30 characters"),
        ("-bad", "may only contain"),
        ("has space", "may only contain"),
        ("ok.name_1-2", None),
    ],
)
def test_validate_instance_name(name: str, problem: str | None) -> None:
    if problem is None:
        assert validate_instance_name(name) == name
        return
    with pytest.raises(ValueError, match=problem) as raised:
        validate_instance_name(name, field="name")
    assert str(raised.value).startswith("name: ")


# -- stock and prices -----------------------------------------------------------------------


def test_deployable_count_prefers_configurations() -> None:
    items = [stock("US-1", H100, 5)]
    assert deployable_count(items, "US-1", H100, 2) == 2
    assert deployable_count(items, "US-1", H100, 8) == 0
    assert deployable_count(items, "CANADA-1", H100, 2) is None


def test_deployable_count_without_configurations_divides_free_gpus() -> None:
    item = stock("US-1", H100, 9).model_copy(update={"configurations": []})
    assert deployable_count([item], "US-1", H100, 4) == 2


def test_hourly_price_scales_per_gpu_price_and_ignores_other_currencies() -> None:
    usd, eur = prices({H100: "2.49"}), prices({H100: "2.69"}, currency="EUR")
    assert hourly_price_for(usd, "US-1", H100, 2, "USD") == Decimal("4.98")
    assert hourly_price_for(eur, "US-1", H100, 2, "EUR") == Decimal("5.38")
    assert hourly_price_for(usd, "US-1", H100, 2, "INR") is None
    assert hourly_price_for(usd, "US-1", "L40", 2, "USD") is None
    # Barrack prices by model and tier, the same in every region.
    assert hourly_price_for(usd, "CANADA-1", H100, 2, "USD") == Decimal("4.98")


# -- candidates -----------------------------------------------------------------------------

PRICES = prices({H100: "2.49"})


def judge(targets: list[str], stocks: dict[str, int], **kwargs: object) -> list[tuple[str, str]]:
    options: dict[str, object] = {
        "source_region": "NORWAY-1",
        "gpu_model": H100,
        "gpu_count": 2,
        "exclude_source_region": False,
        "regions": REGIONS,
        "prices": PRICES,
        "currency": "USD",
        "stock": [stock(r, H100, n) for r, n in stocks.items()],
    }
    options.update(kwargs)
    candidates = assess_candidates(targets=targets, **options)  # type: ignore[arg-type]
    return [(c.region, c.verdict.value) for c in candidates]


@pytest.mark.parametrize(
    ("targets", "stocks", "kwargs", "expected"),
    [
        # auto: most deployable first
        (
            ["auto"],
            {"NORWAY-1": 4, "CANADA-1": 16, "US-1": 8},
            {},
            [("CANADA-1", "viable"), ("US-1", "viable"), ("NORWAY-1", "viable")],
        ),
        # auto: equal stock (and one price everywhere) -> the source region first
        (
            ["auto"],
            {"NORWAY-1": 8, "CANADA-1": 8, "US-1": 8},
            {},
            [("NORWAY-1", "viable"), ("CANADA-1", "viable"), ("US-1", "viable")],
        ),
        # auto without the source region
        (
            ["auto"],
            {"NORWAY-1": 64, "CANADA-1": 2, "US-1": 8},
            {"exclude_source_region": True},
            [("US-1", "viable"), ("CANADA-1", "viable"), ("NORWAY-1", "excluded")],
        ),
        # explicit order is kept; refusals follow with their verdicts
        (
            ["US-1", "source", "CANADA-1"],
            {"NORWAY-1": 2, "CANADA-1": 0, "US-1": 2},
            {},
            [("US-1", "viable"), ("NORWAY-1", "viable"), ("CANADA-1", "out of stock")],
        ),
        # a region whose stock lists other models only, and one nobody knows (the price
        # list is the same everywhere: it says nothing about where a model is offered)
        (
            ["US-1", "MARS-1"],
            {"NORWAY-1": 2},
            {"stock": [stock("NORWAY-1", H100, 2), stock("US-1", "L40", 8)]},
            [("US-1", "incompatible"), ("MARS-1", "unknown region")],
        ),
        # a region not taking new instances
        (
            ["US-1", "CANADA-1"],
            {"US-1": 8, "CANADA-1": 8},
            {"regions": [region("US-1", available=False), region("CANADA-1")]},
            [("CANADA-1", "viable"), ("US-1", "unavailable")],
        ),
        # 1 free GPU cannot host a 2-GPU instance
        (["US-1"], {"US-1": 1}, {}, [("US-1", "out of stock")]),
    ],
)
def test_candidates(
    targets: list[str],
    stocks: dict[str, int],
    kwargs: dict[str, object],
    expected: list[tuple[str, str]],
) -> None:
    assert judge(targets, stocks, **kwargs) == expected


def test_viable_candidates_are_numbered_with_reasons() -> None:
    candidates = assess_candidates(
        targets=["auto"],
        source_region="NORWAY-1",
        gpu_model=H100,
        gpu_count=2,
        exclude_source_region=False,
        regions=REGIONS,
        # NORWAY-1's stock lists another model only: it does not offer H100s.
        stock=[stock("US-1", H100, 8), stock("CANADA-1", H100, 2), stock("NORWAY-1", "L40", 8)],
        prices=PRICES,
        currency="USD",
    )
    assert [c.preference for c in candidates] == [1, 2, None]
    assert (
        candidates[0].reason == "rank 1: 4 x 2x H100-SXM5-80GB deployable, USD 4.98/h, cross-region"
    )
    assert candidates[0].hourly_price == Decimal("4.98")
    assert candidates[2].reason == "does not offer H100-SXM5-80GB"


def test_stock_not_listed_ranks_after_listed_stock() -> None:
    candidates = assess_candidates(
        targets=["auto"],
        source_region="NORWAY-1",
        gpu_model=H100,
        gpu_count=2,
        exclude_source_region=False,
        regions=REGIONS,
        stock=[stock("US-1", H100, 2)],
        prices=PRICES,
        currency="USD",
    )
    # Unlisted stock, one price everywhere: the snapshot's own region first.
    assert [(c.region, c.deployable) for c in candidates] == [
        ("US-1", 1),
        ("NORWAY-1", None),
        ("CANADA-1", None),
    ]
    assert "stock not listed" in candidates[1].reason


# -- guards ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "blocked"),
    [
        ("0.99", "USD", True),
        ("1.00", "USD", False),
        ("0.50", "EUR", True),
        ("99.99", "INR", True),
        ("100", "INR", False),
        ("0.01", "XYZ", False),  # no documented minimum: the API decides
    ],
)
def test_balance_minimum(amount: str, currency: str, blocked: bool) -> None:
    problem = balance_problem(balance(amount, currency))
    assert (problem is not None) is blocked
    if blocked:
        assert currency in str(problem)
        assert "top up" in str(problem)


@pytest.mark.parametrize(
    ("status", "ready"),
    [("SUCCESS", True), ("available", True), ("CREATING", False), ("ERROR", False)],
)
def test_snapshot_status(status: str, ready: bool) -> None:
    problem = snapshot_problem(snapshot(status=status))
    assert (problem is None) is ready
    if not ready:
        assert status in str(problem)


def test_fleet_burn_counts_billed_states_only() -> None:
    fleet = [
        instance("a", hourly_price="5.38"),
        instance("b", status="SHUTOFF", hourly_price="1.19"),
        instance("c", status="HIBERNATED", hourly_price="0.01"),
        instance("d", status="CREATING", hourly_price="0"),
        instance("e", status="ERROR", hourly_price="9"),
    ]
    index = PriceIndex("USD")
    assert fleet_burn(index, fleet) == Decimal("6.58")
    assert fleet_burn(index, fleet, leave_out=[fleet[0].id]) == Decimal("1.20")


def test_the_restore_burn_is_the_low_balance_fleet_model() -> None:
    """One rule for both: snapshots and volumes count, priced by the shared index."""
    from barrack.models import Snapshot as SnapshotModel
    from flows.common.burn import fleet_burn as low_balance_fleet_burn

    index = PriceIndex("USD", snapshot=Decimal("0.1"))
    fleet = [instance("a", hourly_price="5.38")]
    kept = [SnapshotModel.model_validate(snapshot(f"s{n}").model_dump()) for n in range(3)]
    restore_burn = fleet_burn(index, fleet, snapshots=kept)
    assert restore_burn == Decimal("5.38") + 3 * Decimal("0.1")
    assert (
        restore_burn == low_balance_fleet_burn(index=index, instances=fleet, snapshots=kept).total
    )


@pytest.mark.parametrize(
    ("amount", "burn", "added", "hours"),
    [
        ("100", "5", "5", 10.0),
        ("10", "0", None, None),
        ("10", "0", "0", None),
        ("0", "1", "1", 0.0),
    ],
)
def test_runway(amount: str, burn: str, added: str | None, hours: float | None) -> None:
    result = runway_hours(Decimal(amount), Decimal(burn), Decimal(added) if added else None)
    assert result == hours


# -- the source -----------------------------------------------------------------------------


def test_newest_ready_snapshot_of_an_instance_by_name_survives_its_deletion() -> None:
    snaps = [
        snapshot("s1", age_hours=30),
        snapshot("s2", age_hours=3),
        snapshot("s3", age_hours=1, status="CREATING"),
        snapshot("s4", age_hours=1, instance_id="BRK-OTHER01", instance_name="other"),
    ]
    # The instance itself is gone: its snapshots still name it.
    mine = snapshots_of(snaps, instance_name="train-h100", instances=[])
    assert [s.id for s in mine] == ["s1", "s2", "s3"]
    newest = newest_ready_snapshot(mine)
    assert newest is not None
    assert newest.id == "s2"


def test_snapshots_of_a_renamed_instance_are_found_by_its_id() -> None:
    renamed = instance("trainer-new", id_="BRK-TRAIN01")
    mine = snapshots_of([snapshot("s1")], instance_name="trainer-new", instances=[renamed])
    assert [s.id for s in mine] == ["s1"]


@pytest.mark.parametrize(
    ("statuses", "text"),
    [([], "no snapshots of x"), (["CREATING", "ERROR", "ERROR"], "(1 CREATING, 2 ERROR)")],
)
def test_describe_unready(statuses: list[str], text: str) -> None:
    snaps = [snapshot(f"s{i}", status=s) for i, s in enumerate(statuses)]
    assert text in describe_unready(snaps, "x")


# -- the plan -------------------------------------------------------------------------------


def facts(**overrides: object) -> Facts:
    values: dict[str, object] = {
        "regions": REGIONS,
        "stock": [stock(r, H100, 8) for r in ("NORWAY-1", "CANADA-1", "US-1")],
        "prices": PRICES,
        "balance": balance("100"),
        "instances": [instance("train-h100", id_="BRK-TRAIN01")],
    }
    values.update(overrides)
    return Facts(**values)  # type: ignore[arg-type]


def test_plan_names_each_region_and_computes_the_runway() -> None:
    plan = plan_restore(snapshot=snapshot(), facts=facts(), targets=["US-1", "CANADA-1"])
    assert not plan.blockers
    assert plan.adopt is None
    assert [(c.region, c.name) for c in plan.viable] == [
        ("US-1", "train-h100-us1"),
        ("CANADA-1", "train-h100-ca1"),
    ]
    # 100 / (4.98 fleet + 4.98 new)
    assert plan.viable[0].runway_hours == pytest.approx(10.04, abs=0.01)
    assert plan.runway_warning(plan.viable[0]) is not None
    relaxed = plan.model_copy(update={"min_runway_hours": 5})
    assert relaxed.runway_warning(plan.viable[0]) is None


def test_plan_blocks_on_snapshot_status_and_balance() -> None:
    plan = plan_restore(
        snapshot=snapshot(status="CREATING"), facts=facts(balance=balance("0.5")), targets=["auto"]
    )
    assert len(plan.blockers) == 2
    assert "CREATING" in plan.blockers[0]
    assert "below" in plan.blockers[1]


def test_plan_region_whose_default_name_is_taken_is_skipped() -> None:
    squatter = instance("train-h100-us1", id_="BRK-SQUAT01", region="US-1")
    plan = plan_restore(
        snapshot=snapshot(),
        facts=facts(instances=[squatter]),
        targets=["US-1", "CANADA-1"],
    )
    assert [c.region for c in plan.viable] == ["CANADA-1"]
    taken = [c for c in plan.candidates if c.verdict is CandidateVerdict.NAME_TAKEN]
    assert taken[0].reason == "name train-h100-us1 is taken by instance BRK-SQUAT01 (ACTIVE)"
    assert not plan.blockers


def test_plan_blocks_a_given_name_that_is_taken() -> None:
    squatter = instance("mine", id_="BRK-SQUAT01")
    plan = plan_restore(
        snapshot=snapshot(), facts=facts(instances=[squatter]), targets=["auto"], name="mine"
    )
    assert plan.viable == []
    assert plan.blockers == [
        "name mine is taken by instance BRK-SQUAT01 (ACTIVE); choose another name"
    ]


def test_plan_adopts_an_earlier_attempt_even_where_stock_is_now_gone() -> None:
    earlier = instance("train-h100-us1", id_="BRK-EARLY01", region="US-1", snapshot_id="snap-1")
    plan = plan_restore(
        snapshot=snapshot(status="ERROR"),  # checks do not matter: nothing new is made
        facts=facts(instances=[earlier], stock=[], balance=balance("0")),
        targets=["CANADA-1", "US-1"],
    )
    assert plan.adopt is not None
    assert plan.adopt.id == "BRK-EARLY01"
    assert plan.blockers == []


def test_plan_does_not_adopt_an_instance_of_another_snapshot() -> None:
    other = instance("train-h100-us1", id_="BRK-OTHER01", region="US-1", snapshot_id="snap-9")
    plan = plan_restore(snapshot=snapshot(), facts=facts(instances=[other]), targets=["US-1"])
    assert plan.adopt is None
    assert plan.candidates[0].verdict is CandidateVerdict.NAME_TAKEN


def test_plan_explains_an_earlier_attempt_still_being_deleted() -> None:
    dying = instance(
        "train-h100-us1", id_="BRK-DYING01", region="US-1", status="DELETING", snapshot_id="snap-1"
    )
    plan = plan_restore(snapshot=snapshot(), facts=facts(instances=[dying]), targets=["US-1"])
    assert plan.adopt is None
    assert "being deleted" in plan.candidates[0].reason


def test_drill_plan_uses_one_dated_name_everywhere() -> None:
    day = datetime(2026, 11, 29, tzinfo=UTC)
    plan = plan_restore(snapshot=snapshot(), facts=facts(), targets=["auto"], drill_day=day)
    assert {c.name for c in plan.candidates} == {"train-h100-drill-1129"}
