"""The spend report's pure parts as tables: periods, charge shares, aggregation, waste,
anomalies, rendering and the chart."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from barrack.models import (
    AccountBillingRecord,
    AITransaction,
    CurrencyEnum,
    ResourceTypeEnum,
    Snapshot,
    VMInstance,
    VolumeResponse,
)
from flows.spend_report.aggregate import balance_moves, spend_over
from flows.spend_report.alerts import anomaly_alerts, digest_alert
from flows.spend_report.anomaly import Baseline, baseline_of, find_anomalies
from flows.spend_report.charges import KINDS, Charge, charges_from_records, clip, split
from flows.spend_report.money import format_money
from flows.spend_report.params import SpendReportParams
from flows.spend_report.periods import Period, PeriodError, last_week, parse_period, zone
from flows.spend_report.report import SpendReport
from flows.spend_report.waste import IdleWindow, find_waste
from notifications import AlertKind, Severity

UTC_ZONE = ZoneInfo("UTC")
OSLO = ZoneInfo("Europe/Oslo")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def charge(
    kind: str = "gpu",
    rid: str = "BRK-1",
    start: str = "2026-11-02T00:00",
    end: str = "2026-11-03T00:00",
    amount: str = "24",
    *,
    status: str = "ACTIVE",
    name: str | None = None,
    region: str = "NORWAY-1",
    gpu_model: str = "H100-SXM5-80GB",
    rate: str | None = None,
) -> Charge:
    s, e = at(start), at(end)
    hours = Decimal((e - s).total_seconds()) / 3600
    return Charge(
        kind=kind,
        resource_id=rid,
        name=name or rid,
        instance_id=rid,
        region=region,
        tier="advanced",
        gpu_model=gpu_model,
        status=status,
        start=s,
        end=e,
        rate_per_hour=Decimal(rate) if rate else (Decimal(amount) / hours if hours else Decimal(0)),
        amount=Decimal(amount),
    )


# -- periods ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tz", "start", "end", "days"),
    [
        ("2026-11-01..2026-11-30", UTC_ZONE, "2026-11-01T00:00", "2026-12-01T00:00", 30),
        # across a month end
        ("2026-10-29..2026-11-02", UTC_ZONE, "2026-10-29T00:00", "2026-11-03T00:00", 5),
        # Oslo leaves summer time on 2026-10-25: that week is 7 days and 169 hours
        ("2026-10-19..2026-10-25", OSLO, "2026-10-18T22:00", "2026-10-25T23:00", 7),
        # and enters it on 2026-03-29: 167 hours
        ("2026-03-23..2026-03-29", OSLO, "2026-03-22T23:00", "2026-03-29T22:00", 7),
    ],
)
def test_periods_are_whole_local_days(
    text: str, tz: ZoneInfo, start: str, end: str, days: int
) -> None:
    period = parse_period(text, tz)
    assert (period.start, period.end, period.day_count) == (at(start), at(end), days)
    assert period.days()[0][1] == period.start
    assert period.days()[-1][2] == period.end


def test_a_dst_day_has_25_hours_and_the_previous_period_is_as_many_days() -> None:
    period = parse_period("2026-10-19..2026-10-25", OSLO)
    lengths = [(hi - lo) / timedelta(hours=1) for _, lo, hi in period.days()]
    assert lengths == [24, 24, 24, 24, 24, 24, 25]
    assert period.previous().label == "2026-10-12..2026-10-18"
    assert period.weeks_before(2).label == "2026-10-05..2026-10-18"


@pytest.mark.parametrize(
    ("now", "tz", "label"),
    [
        ("2026-11-09T08:00", UTC_ZONE, "2026-11-02..2026-11-08"),  # Monday 08:00
        ("2026-11-15T23:30", UTC_ZONE, "2026-11-02..2026-11-08"),  # Sunday night
        ("2026-11-15T23:30", OSLO, "2026-11-09..2026-11-15"),  # already Monday in Oslo
    ],
)
def test_last_week_is_monday_to_sunday_local(now: str, tz: ZoneInfo, label: str) -> None:
    assert last_week(at(now), tz).label == label


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2026-11-30..2026-11-01", "ends before it starts"),
        ("2026-11-01", "FIRST..LAST"),
        ("2026-02-30..2026-03-01", "day is out of range"),
    ],
)
def test_bad_periods_name_the_field(text: str, problem: str) -> None:
    with pytest.raises(PeriodError, match=problem):
        parse_period(text, UTC_ZONE)


def test_bad_parameters_name_the_field() -> None:
    with pytest.raises(ValueError, match="timezone: 'Mars/Olympus'"):
        SpendReportParams(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="period:"):
        SpendReportParams(period="last week")
    with pytest.raises(PeriodError, match="timezone"):
        zone("nowhere")


# -- charge shares -----------------------------------------------------------------------


def test_a_charge_is_shared_pro_rata_and_the_parts_add_up_exactly() -> None:
    c = charge(start="2026-11-02T18:00", end="2026-11-04T06:00", amount="10")  # 36 h
    period = parse_period("2026-11-02..2026-11-04", UTC_ZONE)
    parts = split(c, [(lo, hi) for _, lo, hi in period.days()])
    assert sum(parts) == Decimal(10)
    assert parts[0] == (Decimal(10) * 6 / 36).quantize(Decimal("1e-10"))
    third = clip(c, at("2026-11-03T00:00"), at("2026-11-04T00:00"))
    assert third is not None
    assert third.amount == (Decimal(10) * 24 / 36).quantize(Decimal("1e-10"))


@given(
    amount=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10_000), places=4),
    hours=st.integers(min_value=1, max_value=24 * 20),
    offset=st.integers(min_value=0, max_value=23 * 60),
)
def test_property_day_shares_add_up_exactly(amount: Decimal, hours: int, offset: int) -> None:
    start = at("2026-10-20T00:00") + timedelta(minutes=offset)
    c = Charge(
        "gpu",
        "x",
        "x",
        None,
        "-",
        "-",
        "-",
        "ACTIVE",
        start,
        start + timedelta(hours=hours),
        Decimal(1),
        amount,
    )
    period = Period(date(2026, 10, 19), date(2026, 11, 15), OSLO)
    spend = spend_over([c], period)
    assert sum(spend.day_totals().values()) == spend.total == amount


# -- aggregation ---------------------------------------------------------------------------


def test_spend_by_kind_region_model_and_day() -> None:
    period = parse_period("2026-11-02..2026-11-03", UTC_ZONE)
    charges = [
        charge(amount="48", end="2026-11-04T00:00"),
        charge(
            "hibernated",
            "BRK-2",
            amount="0.24",
            status="HIBERNATED",
            region="CANADA-1",
            gpu_model="RTX-A6000",
        ),
        charge("snapshots", "snap-1", amount="2.4", gpu_model="-"),
        charge(
            "volumes",
            "vol-1",
            start="2026-11-01T00:00",
            amount="7.2",
            end="2026-11-04T00:00",
            gpu_model="-",
        ),
        Charge(
            "ai",
            "txn-1",
            "llama",
            None,
            "-",
            "-",
            "-",
            "-",
            at("2026-11-03T10:00"),
            at("2026-11-03T10:00"),
            Decimal(0),
            Decimal("0.37"),
        ),
        Charge(
            "ai",
            "txn-0",
            "llama",
            None,
            "-",
            "-",
            "-",
            "-",
            at("2026-11-04T00:00"),
            at("2026-11-04T00:00"),
            Decimal(0),
            Decimal("99"),
        ),  # after the period
    ]
    spend = spend_over(charges, period)
    assert spend.by_kind == {
        "gpu": Decimal(48),
        "hibernated": Decimal("0.24"),
        "volumes": Decimal("4.8"),
        "snapshots": Decimal("2.4"),
        "ai": Decimal("0.37"),
    }
    assert spend.total == Decimal("55.81")
    assert spend.by_region == {
        "NORWAY-1": Decimal("55.2"),
        "CANADA-1": Decimal("0.24"),
        "-": Decimal("0.37"),
    }
    assert spend.by_gpu_model["RTX-A6000"] == Decimal("0.24")
    assert spend.daily[date(2026, 11, 3)] == {
        "gpu": 24,
        "hibernated": 0,
        "volumes": Decimal("2.4"),
        "snapshots": 0,
        "ai": Decimal("0.37"),
    }
    assert spend.by_instance["ai:llama"].total == Decimal("0.37")


def test_an_instance_deleted_mid_period_is_counted_until_its_deletion() -> None:
    records = [
        AccountBillingRecord(
            resource_type=ResourceTypeEnum.GPUS,
            resource_id="BRK-9",
            resource_name="gone",
            region="US-1",
            gpu_model="A40",
            gpu_count=1,
            status="ACTIVE",
            start=at("2026-11-02T00:00"),
            end=at("2026-11-02T12:00"),
            minutes=Decimal(720),
            rate_per_hour=Decimal("0.5"),
            amount=Decimal(6),
            currency=CurrencyEnum.USD,
        ),
        AccountBillingRecord(
            resource_type=ResourceTypeEnum.GPUS,
            resource_id="BRK-1",
            resource_name="alive",
            region="US-1",
            gpu_model="A40",
            gpu_count=1,
            status="ACTIVE",
            start=at("2026-11-02T00:00"),
            end=None,
            minutes=Decimal(0),
            rate_per_hour=Decimal("0.5"),
            amount=Decimal(24),
            currency=CurrencyEnum.USD,
        ),
    ]
    charges = charges_from_records(records, [], until=at("2026-11-04T00:00"))
    spend = spend_over(charges, parse_period("2026-11-02..2026-11-03", UTC_ZONE))
    assert spend.by_instance["BRK-9"].total == 6
    assert spend.daily[date(2026, 11, 3)]["gpu"] == 12  # the running one only


@pytest.mark.parametrize("currency", ["USD", "EUR", "INR"])
def test_money_is_exact_in_data_and_rounded_for_people(currency: str) -> None:
    # the project's one money format rounds computed figures half-even to the cent
    assert format_money(Decimal("1234.565"), currency) == f"{currency} 1,234.56"
    assert format_money(Decimal("1234.575"), currency) == f"{currency} 1,234.58"
    assert format_money(Decimal("1234.5651"), currency) == f"{currency} 1,234.57"
    assert format_money(Decimal("-3.1"), currency) == f"{currency} -3.10"


def test_balance_moves_follow_the_ledger_identity() -> None:
    period = parse_period("2026-11-02..2026-11-02", UTC_ZONE)
    charges = [charge(start="2026-11-02T00:00", end="2026-11-03T06:00", amount="30")]  # 1/h
    moves = balance_moves(
        charges,
        [(at("2026-11-02T12:00"), Decimal(50)), (at("2026-11-03T01:00"), Decimal(5))],
        balance=Decimal(100),
        anchor=at("2026-11-03T06:00"),
        period=period,
    )
    assert moves.closing == Decimal(100) + 6 - 5
    assert moves.opening == moves.closing + 24 - 50
    assert (moves.spent, moves.top_ups) == (Decimal(24), Decimal(50))


# -- waste -----------------------------------------------------------------------------


def vm(vid: str, name: str, status: str = "ACTIVE", price: str = "2.49") -> VMInstance:
    return VMInstance.model_validate(
        {
            "id": vid,
            "name": name,
            "status": status,
            "region": "NORWAY-1",
            "flavor": {
                "name": "f",
                "gpu_model": "H100-SXM5-80GB",
                "gpu_count": 1,
                "vcpus": 1,
                "ram_gb": 1,
                "disk_gb": 1,
            },
            "hourly_price": price,
            "currency": "USD",
            "created_at": "2026-10-01T00:00:00Z",
        }
    )


def test_waste_is_named_with_its_cost_and_what_to_do() -> None:
    period = parse_period("2026-11-02..2026-11-08", UTC_ZONE)
    charges = [
        charge(
            rid="BRK-IDLE", start="2026-11-02T00:00", end="2026-11-09T00:00", amount="168", rate="1"
        ),
        charge(
            rid="BRK-OFF",
            status="SHUTOFF",
            start="2026-11-01T00:00",
            end="2026-11-09T00:00",
            amount="192",
            rate="1",
        ),
        charge(
            "snapshots",
            "snap-1",
            start="2026-11-02T00:00",
            end="2026-11-09T00:00",
            amount="16.8",
            rate="0.1",
        ),
        charge(
            "hibernated",
            "BRK-HIB",
            status="HIBERNATED",
            start="2026-11-02T00:00",
            end="2026-11-03T00:00",
            amount="0.24",
            rate="0.01",
        ),
    ]
    snap = Snapshot.model_validate(
        {
            "id": "snap-1",
            "name": "final",
            "status": "SUCCESS",
            "region": "US-1",
            "instance_id": "BRK-GONE",
            "created_at": "2026-10-01T00:00:00Z",
        }
    )
    vol = VolumeResponse.model_validate(
        {
            "id": "vol-1",
            "name": "scratch",
            "region": "NORWAY-1",
            "size_gb": 500,
            "status": "available",
            "hourly_price": "0.05",
            "created_at": "2026-10-01T00:00:00Z",
        }
    )
    waste = find_waste(
        charges=charges,
        period=period,
        now=at("2026-11-09T08:00"),
        instances=[vm("BRK-IDLE", "notebook"), vm("BRK-OFF", "render", "SHUTOFF", "1")],
        volumes=[vol],
        snapshots=[snap],
        idle=[IdleWindow("BRK-IDLE", at("2026-11-05T00:00"), at("2026-11-06T12:00"))],
        full_rates={"BRK-HIB": Decimal("0.69")},
    )
    by = {line.category: line for line in waste.lines}
    assert by["idle-gpu"].cost == 36
    assert "hibernate-idle" in by["idle-gpu"].action
    assert by["shutoff"].cost == 168
    assert by["shutoff"].monthly == 730
    assert by["orphan-snapshot"].cost == Decimal("16.8")
    assert by["orphan-snapshot"].monthly == 73
    assert by["unattached-volume"].monthly == Decimal("36.5")
    assert waste.hibernation_saved == Decimal("0.68") * 24
    assert all(line.action for line in waste.lines)


# -- anomalies ---------------------------------------------------------------------------


def daily_charges(amounts: dict[str, list[str]], first: str) -> list[Charge]:
    out = []
    for rid, series in amounts.items():
        for n, amount in enumerate(series):
            s = at(first) + timedelta(days=n)
            out.append(
                charge(
                    rid=rid,
                    name=rid,
                    start=s.isoformat()[:16],
                    end=(s + timedelta(days=1)).isoformat()[:16],
                    amount=amount,
                )
            )
    return out


@pytest.mark.parametrize(
    ("margin_pct", "fixed", "expected_days"),
    [
        (Decimal(25), None, ["2026-11-11"]),  # 10 + 25% = 12.5: only the 30 day
        (Decimal(0), None, ["2026-11-10", "2026-11-11"]),  # 10.5 > 10
        (Decimal(25), Decimal(40), []),  # a fixed limit above every day
    ],
)
def test_anomaly_rule(margin_pct: Decimal, fixed: Decimal | None, expected_days: list[str]) -> None:
    history_charges = daily_charges({"a": ["10"] * 14}, "2026-10-26T00:00")
    week = daily_charges({"a": ["10", "10.5", "10"], "big": ["0", "0", "20"]}, "2026-11-09T00:00")
    period = parse_period("2026-11-09..2026-11-11", UTC_ZONE)
    history = spend_over(history_charges, period.weeks_before(2))
    spend = spend_over(week, period)
    baseline = baseline_of(history, margin_pct=margin_pct, margin_amount=Decimal(0), fixed=fixed)
    found = find_anomalies(spend, history, baseline, names={})
    assert [a.day.isoformat() for a in found] == expected_days
    if "2026-11-11" in expected_days:
        assert found[-1].contributors[0].key == "big"
        assert found[-1].contributors[0].extra == 20


def test_no_baseline_without_history() -> None:
    baseline = baseline_of(None, margin_pct=Decimal(25), margin_amount=Decimal(0), fixed=None)
    assert baseline.limit is None
    assert "not enough history" in baseline.basis


def make_report(anomalous: bool) -> SpendReport:
    period = parse_period("2026-11-09..2026-11-11", UTC_ZONE)
    week = daily_charges(
        {"a": ["10", "10", "10"], "big": ["0", "0", "20" if anomalous else "0"]}, "2026-11-09T00:00"
    )
    spend = spend_over(week, period)
    baseline = Baseline(Decimal(12), "fixed 12")
    waste = find_waste(
        charges=week,
        period=period,
        now=at("2026-11-12T08:00"),
        instances=[],
        volumes=[],
        snapshots=[],
        idle=[],
        full_rates={},
    )
    return SpendReport(
        account_name="acme",
        currency="EUR",
        now=at("2026-11-12T08:00"),
        spend=spend,
        previous=spend_over([], period.previous()),
        balance=None,
        waste=waste,
        baseline=baseline,
        anomalies=find_anomalies(spend, None, baseline, names={"big": "big-box"}),
    )


def test_anomaly_alert_is_raised_with_contributors_and_cleared_without() -> None:
    alerts, cleared = anomaly_alerts(make_report(True))
    assert cleared == []
    (alert,) = alerts
    assert alert.kind is AlertKind.SPEND_ANOMALY
    assert alert.severity is Severity.CRITICAL
    assert "big-box" in str(alert.facts["made_the_difference"])
    alerts, cleared = anomaly_alerts(make_report(False))
    assert alerts == []
    assert cleared[0].kind is AlertKind.SPEND_ANOMALY


def test_anomaly_dedup_repeat_and_resolve_through_the_notifier(tmp_path: Path) -> None:
    from barrack_ops.demo.receiver import NotificationReceiver
    from notifications import Notifier, SendDecision

    clock = [at("2026-11-12T08:00")]
    decisions = []
    with NotificationReceiver() as receiver:
        notifier = Notifier.from_urls(
            receiver.json_url("/ops"), now=lambda: clock[0], repeat_interval=timedelta(hours=6)
        )
        for anomalous, hours in [(True, 0), (True, 1), (True, 7), (False, 1)]:
            clock[0] += timedelta(hours=hours)
            alerts, cleared = anomaly_alerts(make_report(anomalous))
            report = notifier.dispatch(alerts=alerts, cleared=cleared)
            decisions.append([o.decision for o in report.outcomes])
        titles = [n.title or "" for n in receiver.received]
    assert len(titles) == 3
    assert "resolved" in titles[-1].lower()
    assert decisions == [
        [SendDecision.NEW],
        [SendDecision.SUPPRESSED],
        [SendDecision.REPEAT],
        [SendDecision.RESOLVED],
    ]


# -- rendering -------------------------------------------------------------------------


def test_digest_for_chat_is_short_and_the_email_has_every_table() -> None:
    report = make_report(True)
    chat = report.chat_summary()
    assert chat.startswith("*EUR 50.00* spent 2026-11-09..2026-11-11")
    assert "Anomaly 2026-11-11: EUR 30.00 (baseline EUR 12.00)" in chat
    assert len(chat.splitlines()) <= 16
    email = report.markdown()
    for heading in (
        "## By kind",
        "## By day",
        "## Waste",
        "## Anomalies",
        "## By resource",
        "## By region",
        "## By GPU model",
        "## By tier",
    ):
        assert heading in email
    assert "| 2026-11-11 | EUR 30.00 |" in email
    assert "big-box +EUR 20.00" in email
    assert digest_alert(report).title == "Spend 2026-11-09..2026-11-11: EUR 50.00 (acme)"
    data = report.to_json()
    assert data["total"] == "50"
    assert data["daily"]["2026-11-11"]["gpu"] == "30"
    rows = report.to_csv().splitlines()
    assert rows[0].startswith("period,resource_id")
    assert any(",big,big-box," in r or ",big," in r for r in rows[1:])


def test_the_chart_is_a_png_whose_bars_add_up_to_the_table(tmp_path: Path) -> None:
    from matplotlib.image import imread

    from flows.spend_report.chart import chart_totals, render_chart

    report = make_report(True)
    path = render_chart(report.spend, "EUR", tmp_path / "c" / "chart.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(path)
    assert image.shape[0] > 100
    assert image.shape[1] > 100
    totals = chart_totals(report.spend)
    assert totals["gpu"] == 50.0
    assert sum(totals.values()) == float(report.spend.total)
    assert set(totals) == set(KINDS)


def test_ai_transactions_are_charges_of_their_day() -> None:
    txn = AITransaction(
        id="t",
        model="m",
        created_at=at("2026-11-02T23:59"),
        cost=Decimal("0.5"),
        currency=CurrencyEnum.USD,
    )
    (c,) = charges_from_records([], [txn], until=at("2026-11-03T00:00"))
    spend = spend_over([c], parse_period("2026-11-02..2026-11-03", OSLO))
    assert spend.daily[date(2026, 11, 3)]["ai"] == Decimal("0.5")  # 00:59 in Oslo


def test_an_incomplete_report_says_so_everywhere_people_read() -> None:
    report = make_report(False)
    report.incomplete = ["billing records page 2 of 3 (APIConnectionError)"]
    assert "**Incomplete:** billing records page 2 of 3" in report.markdown()
    assert "lower bound" in report.markdown()
    assert "Incomplete: billing records page 2 of 3" in report.chat_summary()
    assert report.summary_line().endswith("INCOMPLETE")
    assert report.to_json()["incomplete"] == report.incomplete


@pytest.mark.parametrize(
    ("period", "problem"),
    [
        ("2026-11-31..2026-12-01", "day is out of range"),
        ("2026-12-01..2026-11-01", "ends before it starts"),
    ],
)
def test_parameters_check_the_period_s_dates(period: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        SpendReportParams(period=period)


def test_shutoff_counts_from_the_last_stop_only() -> None:
    period = parse_period("2026-11-02..2026-11-08", UTC_ZONE)
    charges = [
        charge(
            rid="BRK-OFF",
            status="SHUTOFF",
            start="2026-10-20T00:00",
            end="2026-10-25T00:00",
            amount="120",
            rate="1",
        ),
        charge(
            rid="BRK-OFF",
            status="ACTIVE",
            start="2026-10-25T00:00",
            end="2026-11-08T12:00",
            amount="348",
            rate="1",
        ),
        charge(
            rid="BRK-OFF",
            status="SHUTOFF",
            start="2026-11-08T12:00",
            end="2026-11-09T08:00",
            amount="20",
            rate="1",
        ),
    ]
    common = {"period": period, "volumes": [], "snapshots": [], "idle": [], "full_rates": {}}
    stopped = [vm("BRK-OFF", "render", "SHUTOFF", "1")]
    waste = find_waste(charges=charges, now=at("2026-11-09T08:00"), instances=stopped, **common)  # type: ignore[arg-type]
    assert waste.lines == []  # stopped 20 hours ago: not yet a day
    waste = find_waste(charges=charges, now=at("2026-11-10T08:00"), instances=stopped, **common)  # type: ignore[arg-type]
    (line,) = waste.lines
    assert "since 2026-11-08 12:00" in line.detail
    assert line.cost == 12  # the SHUTOFF hours inside the period


@given(
    st.lists(
        st.tuples(
            st.sampled_from(KINDS),
            st.sampled_from(["NORWAY-1", "CANADA-1", "US-1"]),
            st.integers(min_value=-3 * 24 * 60, max_value=10 * 24 * 60),  # start, minutes
            st.integers(min_value=0, max_value=5 * 24 * 60),  # length, minutes
            st.decimals(min_value=Decimal(0), max_value=Decimal(500), places=4),
        ),
        max_size=25,
    )
)
def test_property_every_breakdown_adds_up_to_the_total(
    rows: list[tuple[str, str, int, int, Decimal]],
) -> None:
    period = parse_period("2026-10-19..2026-10-25", OSLO)  # a 25-hour day inside
    charges = []
    for n, (kind, region, offset, length, amount) in enumerate(rows):
        start = period.start + timedelta(minutes=offset)
        end = start + timedelta(minutes=length if kind != "ai" else 0)
        charges.append(
            Charge(
                kind,
                f"r{n}",
                f"r{n}",
                None,
                region,
                "-",
                "-",
                "ACTIVE",
                start,
                end,
                Decimal(1),
                amount,
            )
        )
    spend = spend_over(charges, period)
    for table in (
        spend.by_kind,
        spend.by_region,
        spend.by_gpu_model,
        spend.by_tier,
        spend.day_totals(),
    ):
        assert sum(table.values(), Decimal(0)) == spend.total
    assert sum((e.total for e in spend.by_instance.values()), Decimal(0)) == spend.total
    assert spend.total <= sum((c.amount for c in charges), Decimal(0))
