"""Recipe parameters: one base, one evaluation time, and the flat form Prefect builds.

The schema tests read ``parameter_schema(flow.fn)``, what Prefect stores with a deployment
and the UI turns into the custom-run form.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from prefect import Flow
from prefect.exceptions import ParameterTypeError
from prefect.utilities.callables import parameter_schema
from pydantic import ValidationError

from barrack_ops.params_file import ParamsFileError, load_params
from flows.common.params import RecipeParams, escape_markdown
from flows.common.runtime import _schedule_of
from flows.common.schedules import DeploymentCron, RunSchedules
from flows.hibernate_idle.flow import hibernate_idle
from flows.hibernate_idle.params import HibernateIdleParams
from flows.low_balance.flow import low_balance
from flows.low_balance.params import LowBalanceParams
from flows.nightly_snapshots.flow import nightly_snapshots
from flows.nightly_snapshots.params import NightlySnapshotsParams
from flows.nightly_snapshots.schedule import cron_in_force
from flows.restore.drill import restore_drill
from flows.restore.flow import restore_to_region
from flows.restore.params import RestoreDrillParams, RestoreParams
from flows.spend_report.flow import spend_report
from flows.spend_report.params import SpendReportParams

RECIPES: list[tuple[Flow[Any, Any], type[RecipeParams]]] = [
    (nightly_snapshots, NightlySnapshotsParams),
    (hibernate_idle, HibernateIdleParams),
    (low_balance, LowBalanceParams),
    (restore_to_region, RestoreParams),
    (restore_drill, RestoreDrillParams),
    (spend_report, SpendReportParams),
]
SHARED = ("dry_run", "notify", "now", "connection")


def schema_of(flow: Flow[Any, Any]) -> dict[str, Any]:
    return parameter_schema(flow.fn).model_dump_for_openapi()


# --- the form ------------------------------------------------------------------------------


@pytest.mark.parametrize(("flow", "model"), RECIPES, ids=lambda r: getattr(r, "name", ""))
def test_the_form_lists_the_recipes_settings_at_the_top_level(
    flow: Flow[Any, Any], model: type[RecipeParams]
) -> None:
    properties = schema_of(flow)["properties"]
    assert "params" not in properties
    assert set(properties) == set(model.model_fields)
    # the recipe's own settings first, the shared ones last
    names = sorted(properties, key=lambda n: properties[n]["position"])
    assert [n for n in names if n in SHARED] == list(SHARED)
    first_shared = min(names.index(n) for n in SHARED)
    assert all(n in SHARED or n == "max_concurrency" for n in names[first_shared:])
    assert first_shared > 0
    assert schema_of(flow).get("required", []) == []


@pytest.mark.parametrize(("flow", "model"), RECIPES, ids=lambda r: getattr(r, "name", ""))
def test_each_field_shows_its_description_and_default(
    flow: Flow[Any, Any], model: type[RecipeParams]
) -> None:
    properties = schema_of(flow)["properties"]
    defaults = model.model_construct().model_dump(mode="json")
    for name, info in model.model_fields.items():
        shown = properties[name]
        assert info.description, name
        assert shown["description"] == escape_markdown(info.description), name
        assert shown["default"] == defaults[name], name
        assert shown["title"] == name.replace("_", " ").title(), name


@pytest.mark.parametrize(("flow", "model"), RECIPES, ids=lambda r: getattr(r, "name", ""))
def test_no_field_makes_a_person_pick_none_first(
    flow: Flow[Any, Any], model: type[RecipeParams]
) -> None:
    for name, shown in schema_of(flow)["properties"].items():
        choices = shown.get("anyOf")
        if choices:
            assert choices[0] != {"type": "null"}, name
        # nested models are inlined: no class name to pick, no reference to follow
        assert "$ref" not in str(shown), name


def test_the_form_knows_the_limits_of_a_value() -> None:
    properties = schema_of(nightly_snapshots)["properties"]
    assert properties["max_deletions"]["minimum"] == 0
    assert properties["max_concurrency"]["minimum"] == 1
    assert properties["max_concurrency"]["maximum"] == 64
    assert properties["poll_seconds"]["exclusiveMinimum"] == 0


def test_nested_settings_are_inlined_with_their_descriptions() -> None:
    selection = schema_of(nightly_snapshots)["properties"]["selection"]
    assert selection["type"] == "object"
    globs = selection["properties"]["name_globs"]
    assert (
        globs["description"]
        == "Instance name patterns to include, e.g. 'train-\\*'. '\\*' means all."
    )
    assert selection["default"]["name_globs"] == ["*"]
    retention = schema_of(nightly_snapshots)["properties"]["retention"]
    assert retention["anyOf"][0]["properties"]["keep_daily"]["description"].startswith("Keep")


def _descriptions(node: Any) -> list[str]:
    if isinstance(node, list):
        return [d for item in node for d in _descriptions(item)]
    if not isinstance(node, dict):
        return []
    found = [node["description"]] if isinstance(node.get("description"), str) else []
    return found + [d for value in node.values() for d in _descriptions(value)]


def _rendered_text(markdown: str) -> str:
    rendered = MarkdownIt("commonmark").render(markdown)
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


@pytest.mark.parametrize(("flow", "model"), RECIPES, ids=lambda r: getattr(r, "name", ""))
def test_markdown_eats_no_character_of_a_description(
    flow: Flow[Any, Any], model: type[RecipeParams]
) -> None:
    shown = _descriptions(schema_of(flow)["properties"])
    assert len(shown) > len(model.model_fields)
    for description in shown:
        plain = re.sub(r"\\(.)", r"\1", description)
        assert _rendered_text(description) == " ".join(plain.split()), description


@pytest.mark.parametrize(
    "text",
    [
        "e.g. 'train-*'. '*' means all.",
        "$BARRACK_OPS_STATE_DIR/hibernate-idle-<policy>.json",
        "a `code` and [link](x) and a|b & c#d",
        "__init__ and **bold**",
    ],
)
def test_escaped_markdown_renders_as_written(text: str) -> None:
    assert _rendered_text(escape_markdown(text)) == text
    assert _rendered_text(text) != text  # unescaped, Markdown would change it


# --- evaluation time -----------------------------------------------------------------------

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
SCHEDULED = datetime(2026, 12, 1, 2, 0, tzinfo=UTC) - timedelta(minutes=40)
CURRENT = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
MODELS: dict[str, tuple[type[RecipeParams], dict[str, Any]]] = {
    "nightly-snapshots": (NightlySnapshotsParams, {}),
    "hibernate-idle": (HibernateIdleParams, {}),
    "low-balance": (LowBalanceParams, {}),
    "restore-to-region": (RestoreParams, {"instance_name": "train-1"}),
    "restore-drill": (RestoreDrillParams, {}),
}


@pytest.mark.parametrize(
    ("recipe", "now", "scheduled", "expected"),
    [
        # explicit now wins everywhere
        *((r, NOW, SCHEDULED, NOW) for r in MODELS),
        *((r, NOW, None, NOW) for r in MODELS),
        # a late run belongs to its slot ...
        ("nightly-snapshots", None, SCHEDULED, SCHEDULED),
        ("restore-to-region", None, SCHEDULED, SCHEDULED),
        ("restore-drill", None, SCHEDULED, SCHEDULED),
        # ... except where the evidence is read live (issue #16, 1; a backlog of late
        # low-balance runs would stamp one balance at several slot times)
        ("hibernate-idle", None, SCHEDULED, CURRENT),
        ("low-balance", None, SCHEDULED, CURRENT),
        # outside a flow run: the real moment
        *((r, None, None, CURRENT) for r in MODELS),
    ],
)
def test_evaluation_time_order(
    recipe: str, now: datetime | None, scheduled: datetime | None, expected: datetime
) -> None:
    model, required = MODELS[recipe]
    params = model.model_validate({**required, "now": now})
    assert params.evaluation_time(scheduled, CURRENT) == expected


def test_lateness_is_told_only_past_a_minute_and_without_a_fixed_now() -> None:
    params = LowBalanceParams()
    assert params.lateness(CURRENT - timedelta(seconds=50), CURRENT) is None
    assert params.lateness(SCHEDULED, CURRENT) == CURRENT - SCHEDULED
    assert params.lateness(None, CURRENT) is None
    assert LowBalanceParams(now=NOW).lateness(SCHEDULED, CURRENT) is None


# --- nightly: preset or retention ----------------------------------------------------------


def test_preset_and_retention_together_are_refused_naming_both() -> None:
    with pytest.raises(ValidationError, match=r"preset \('minimal'\) and retention are both set"):
        NightlySnapshotsParams(preset="minimal", retention={"keep_last": 3})  # type: ignore[arg-type]


def test_preset_and_retention_refused_before_a_flow_run_acts() -> None:
    with pytest.raises(ParameterTypeError, match="retention"):
        nightly_snapshots.validate_parameters(
            {"preset": "standard", "retention": {"keep_daily": 7}}
        )


@pytest.mark.parametrize(
    ("given", "keep_daily"),
    [({}, 7), ({"preset": "minimal"}, 0), ({"retention": {"keep_daily": 9}}, 9)],
)
def test_one_retention_source_at_a_time(given: dict[str, Any], keep_daily: int) -> None:
    assert NightlySnapshotsParams.model_validate(given).retention_policy().keep_daily == keep_daily


# --- calling the flows ---------------------------------------------------------------------


def test_the_engine_validates_flat_parameters_with_the_model() -> None:
    validated = nightly_snapshots.validate_parameters({"dry_run": True, "max_deletions": 3})
    assert validated["dry_run"] is True
    assert validated["max_deletions"] == 3
    assert validated["preset"] is None  # the defaults are the model's
    with pytest.raises(ParameterTypeError, match="max_deletions"):
        nightly_snapshots.validate_parameters({"max_deletions": -1})


def test_a_deployment_in_the_old_shape_still_runs() -> None:
    validated = low_balance.validate_parameters({"params": {"account_name": "ops"}})
    assert validated["account_name"] == "ops"
    assert "params" not in validated


# --- parameters files ----------------------------------------------------------------------


def test_a_parameters_file_in_the_old_shape_says_how_to_fix_it(tmp_path: Path) -> None:
    path = tmp_path / "nightly.yaml"
    path.write_text("params:\n  dry_run: true\n")
    with pytest.raises(ParamsFileError, match="move the fields under 'params' up one level"):
        load_params(NightlySnapshotsParams, path)


def test_a_deployments_parameters_are_a_parameters_file(tmp_path: Path) -> None:
    from deployments.recipes import RECIPES as DEPLOYED

    for recipe in DEPLOYED:
        if not recipe.parameters:
            continue
        path = tmp_path / f"{recipe.name}.json"
        path.write_text(json.dumps(recipe.parameters))
        model = next(m for f, m in RECIPES if f.name == recipe.load_flow().name)
        load_params(model, path)


# --- the nightly slot's schedule -----------------------------------------------------------

DAILY = DeploymentCron("s-daily", "0 3 * * *", "Europe/Oslo", active=True)
HOURLY = DeploymentCron("s-hourly", "0 * * * *", "UTC", active=True)


@pytest.mark.parametrize(
    ("schedules", "expected", "source"),
    [
        (None, ("0 2 * * *", "UTC"), "not a deployment's run"),
        (RunSchedules("d", (), None), ("0 2 * * *", "UTC"), "has no cron schedule"),
        (RunSchedules("d", (DAILY,), None), ("0 3 * * *", "Europe/Oslo"), "'d'"),
        (RunSchedules("d", (DAILY,), "s-daily"), ("0 3 * * *", "Europe/Oslo"), "'d'"),
        (RunSchedules("d", (DAILY, HOURLY), "s-hourly"), ("0 * * * *", "UTC"), "'d'"),
        (RunSchedules("d", (DAILY, HOURLY), None), ("0 2 * * *", "UTC"), "none of them"),
        (
            RunSchedules("d", (DAILY, DeploymentCron("s-off", "5 5 * * *", "UTC", False)), None),
            ("0 3 * * *", "Europe/Oslo"),
            "'d'",
        ),
        (
            RunSchedules("d", (DeploymentCron("s", "0 0 * * * 5", "UTC", True),), "s"),
            ("0 2 * * *", "UTC"),
            "must have 5 fields",
        ),
    ],
)
def test_the_cron_in_force(
    schedules: RunSchedules | None, expected: tuple[str, str], source: str
) -> None:
    chosen = cron_in_force(schedules, "0 2 * * *", "UTC")
    assert (chosen.cron, chosen.timezone) == expected
    assert source in chosen.source


def test_the_schedule_that_made_a_run_is_read_from_prefects_key() -> None:
    assert _schedule_of("scheduled dep-1 sched-9 2026-12-01 02:00:00+00:00", "dep-1") == "sched-9"
    assert _schedule_of("scheduled dep-2 sched-9 2026-12-01", "dep-1") is None
    assert _schedule_of(None, "dep-1") is None
    assert _schedule_of("custom-key", "dep-1") is None
