"""The retention policy model: rules, keep_within durations, time zone, presets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from flows.nightly_snapshots.retention import (
    PRESETS,
    CalendarDuration,
    RetentionPolicy,
    format_duration,
    parse_duration,
)

# --- durations (restic's units y m d h, plus w) ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", CalendarDuration(days=7)),
        ("36h", CalendarDuration(hours=36)),
        ("2w3d", CalendarDuration(days=17)),
        ("1d12h", CalendarDuration(days=1, hours=12)),
        ("1d 12h", CalendarDuration(days=1, hours=12)),
        ("2W", CalendarDuration(days=14)),
        ("0h", CalendarDuration()),
        # restic's own examples: months and years are calendar units, kept apart.
        ("1m14d", CalendarDuration(months=1, days=14)),
        ("1y2m3d3h", CalendarDuration(years=1, months=2, days=3, hours=3)),
        ("2y", CalendarDuration(years=2)),
        # restic adds a repeated unit up.
        ("1d1d", CalendarDuration(days=2)),
    ],
)
def test_parse_duration(text: str, expected: CalendarDuration) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("1M", "'M' could mean months or minutes; write 'm' for months"),
        ("7", "is not a duration"),
        ("d7", "is not a duration"),
        ("7d-", "is not a duration"),
        ("-7d", "is not a duration"),
        ("1.5d", "is not a duration"),
        ("", "empty duration"),
        ("7days", "unknown unit 'days'"),
        ("3x", "unknown unit 'x'"),
        ("P", "not an ISO 8601 duration"),
    ],
)
def test_parse_duration_refuses(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (CalendarDuration(days=7), "7d"),
        (CalendarDuration(days=1, hours=12), "1d12h"),
        (CalendarDuration(hours=36), "36h"),
        (CalendarDuration(days=17), "17d"),
        (CalendarDuration(years=1, months=2, days=3, hours=3), "1y2m3d3h"),
    ],
)
def test_format_duration_is_the_inverse_of_parse(value: CalendarDuration, text: str) -> None:
    assert format_duration(value) == text
    assert parse_duration(text) == value


# --- keep_within ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("7d", CalendarDuration(days=7)),
        ("1w", CalendarDuration(days=7)),
        ("P7D", CalendarDuration(days=7)),
        ("P1W", CalendarDuration(days=7)),
        (timedelta(days=7), CalendarDuration(days=7)),
        # 168 hours are elapsed hours, not seven calendar days (they differ across DST).
        ("168h", CalendarDuration(hours=168)),
        ("PT168H", CalendarDuration(hours=168)),
        ("PT120M", CalendarDuration(hours=2)),
        ("P1Y2M3DT4H", CalendarDuration(years=1, months=2, days=3, hours=4)),
        ("1y2m", CalendarDuration(years=1, months=2)),
    ],
)
def test_keep_within_accepts_compact_iso_and_timedelta(
    given: object, expected: CalendarDuration
) -> None:
    assert RetentionPolicy.model_validate({"keep_within": given}).keep_within == expected


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("3x", "unknown unit 'x'"),
        ("0d", "must be positive"),
        ("-P1D", "must be positive"),
        ("PT90M", "whole number of hours"),
        (timedelta(minutes=30), "whole number of hours"),
        (timedelta(days=-1), "must be positive"),
        (7, "must be a duration such as '7d'"),
    ],
)
def test_keep_within_errors_name_the_field(given: object, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem) as caught:
        RetentionPolicy.model_validate({"keep_within": given})
    assert caught.value.errors()[0]["loc"] == ("keep_within",)


def test_keep_within_round_trips_through_json_in_its_compact_form() -> None:
    policy = RetentionPolicy.model_validate({"keep_within": "1y2w3d", "keep_daily": 7})

    dumped = policy.model_dump(mode="json")
    assert dumped["keep_within"] == "1y17d"
    assert RetentionPolicy.model_validate(dumped) == policy
    assert RetentionPolicy.model_validate_json(policy.model_dump_json()) == policy
    assert policy.keep_within == CalendarDuration(years=1, days=17)


def test_keep_within_shows_as_a_text_field_in_the_prefect_form() -> None:
    schema = RetentionPolicy.model_json_schema()["properties"]["keep_within"]
    assert [option["type"] for option in schema["anyOf"]] == ["string", "null"]


# --- counts, time zone, empty policy ----------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"keep_daily": -2}, "greater than or equal to -1"),
        ({"keep_daily": True}, "not a boolean"),
        ({"keep_daily": 1.5}, "fractional part"),
        ({"keep_dayly": 7}, "Extra inputs are not permitted"),
    ],
)
def test_bad_counts_and_typos_are_refused(given: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem) as caught:
        RetentionPolicy.model_validate({"keep_last": 1, **given})
    assert caught.value.errors()[0]["loc"] == (next(iter(given)),)


def test_timezone_is_validated_with_zoneinfo() -> None:
    assert RetentionPolicy(keep_last=1, timezone="Europe/Oslo").zone.key == "Europe/Oslo"
    assert RetentionPolicy(keep_last=1).timezone == "UTC"
    for bad in ("Europe/Olso", "", "../etc/passwd", "CET+1"):
        with pytest.raises(ValidationError, match="not an IANA time zone") as caught:
            RetentionPolicy(keep_last=1, timezone=bad)
        assert caught.value.errors()[0]["loc"] == ("timezone",)


@pytest.mark.parametrize(
    "given",
    [{}, {"keep_daily": 0}, {"keep_within": None}, {"timezone": "Europe/Oslo"}],
)
def test_an_empty_policy_is_refused(given: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="empty retention policy: every rule is off"):
        RetentionPolicy.model_validate(given)


@pytest.mark.parametrize(
    "given",
    [{"keep_last": 1}, {"keep_yearly": -1}, {"keep_within": "1h"}, {"keep_hourly": 24}],
)
def test_any_one_rule_makes_a_policy(given: dict[str, object]) -> None:
    assert RetentionPolicy.model_validate(given).is_active


def test_the_policy_is_immutable() -> None:
    policy = RetentionPolicy(keep_last=1)
    with pytest.raises(ValidationError, match="frozen"):
        policy.keep_last = 0  # type: ignore[misc]


def test_every_field_has_a_description_for_the_prefect_form() -> None:
    for name, info in RetentionPolicy.model_fields.items():
        assert info.description, name
    schema = RetentionPolicy.model_json_schema()
    assert schema["additionalProperties"] is False


def test_describe_names_the_rules_that_are_on() -> None:
    policy = RetentionPolicy(
        keep_last=2,
        keep_monthly=-1,
        keep_within=CalendarDuration(months=1, hours=36),
        timezone="Asia/Tokyo",
    )

    assert policy.describe() == "last 2, monthly unlimited, within 1m36h (buckets in Asia/Tokyo)"


# --- presets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("minimal", {"keep_last": 3}),
        ("standard", {"keep_daily": 7, "keep_weekly": 4, "keep_monthly": 6}),
        (
            "compliance",
            {"keep_daily": 30, "keep_weekly": 12, "keep_monthly": 24, "keep_yearly": 7},
        ),
    ],
)
def test_presets(name: str, expected: dict[str, int]) -> None:
    policy = RetentionPolicy.from_preset(name)

    assert policy == RetentionPolicy.model_validate(expected)
    assert dict(PRESETS[name]) == expected


def test_a_preset_with_overrides() -> None:
    policy = RetentionPolicy.from_preset("standard", keep_daily=14, timezone="Europe/Oslo")

    assert (policy.keep_daily, policy.keep_weekly, policy.keep_monthly) == (14, 4, 6)
    assert policy.timezone == "Europe/Oslo"


def test_an_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="'daily' is not a preset; choose one of compliance, mini"):
        RetentionPolicy.from_preset("daily")


def test_preset_overrides_are_validated() -> None:
    with pytest.raises(ValidationError, match="keep_dayly"):
        RetentionPolicy.from_preset("standard", keep_dayly=3)
    with pytest.raises(ValidationError, match="empty retention policy"):
        RetentionPolicy.from_preset("minimal", keep_last=0)


def test_presets_cannot_be_changed_by_accident() -> None:
    with pytest.raises(TypeError):
        PRESETS["minimal"]["keep_last"] = 0  # type: ignore[index]


# --- keep_within_<bucket> ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        "keep_within_hourly",
        "keep_within_daily",
        "keep_within_weekly",
        "keep_within_monthly",
        "keep_within_yearly",
    ],
)
def test_each_keep_within_bucket_rule_alone_makes_a_policy(rule: str) -> None:
    policy = RetentionPolicy.model_validate({rule: "1y2m"})

    assert policy.is_active
    assert getattr(policy, rule) == CalendarDuration(years=1, months=2)
    assert policy.describe() == f"{rule.removeprefix('keep_within_')} within 1y2m (buckets in UTC)"
    with pytest.raises(ValidationError, match="must be positive") as caught:
        RetentionPolicy.model_validate({rule: "0d", "keep_last": 1})
    assert caught.value.errors()[0]["loc"] == (rule,)


def test_the_empty_policy_error_lists_every_rule() -> None:
    with pytest.raises(
        ValidationError, match=r"keep_within, keep_within_hourly, .*keep_within_yearly"
    ):
        RetentionPolicy.model_validate({})
