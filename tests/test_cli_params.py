"""Parameter files for the command line: YAML or JSON, errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from barrack_ops.params_file import ParamsFileError, load_params
from flows.nightly_snapshots.params import NightlySnapshotsParams


def test_yaml_file_with_override(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("preset: minimal\nselection:\n  name_globs: ['train-*']\nmax_deletions: 3\n")
    params = load_params(NightlySnapshotsParams, path, dry_run=True)
    assert params.dry_run is True
    assert params.selection.name_globs == ["train-*"]
    assert params.retention_policy().keep_last == 3


def test_json_file(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"retention": {"keep_daily": 7}, "timezone": "Europe/Oslo"}')
    params = load_params(NightlySnapshotsParams, path)
    assert params.retention_policy().keep_daily == 7


def test_defaults_without_a_file() -> None:
    params = load_params(NightlySnapshotsParams, None)
    assert params.retention_policy().keep_daily == 7
    assert params.dry_run is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max_deletions: -1\n", "max_deletions"),
        ("retention: {}\n", "empty retention policy"),
        ("preset: huge\n", "preset"),
        ("cron: 'every night'\n", "cron"),
        ("timezone: Mars/Olympus\n", "timezone"),
        ("policy_name: 'my policy'\n", "policy_name"),
        ("dryrun: true\n", "dryrun"),
        ("- a\n- b\n", "mapping"),
        ("key: [unclosed\n", "not valid"),
    ],
)
def test_bad_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ParamsFileError, match=message) as caught:
        load_params(NightlySnapshotsParams, path)
    assert str(path) in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ParamsFileError, match="cannot read"):
        load_params(NightlySnapshotsParams, tmp_path / "nope.yaml")
