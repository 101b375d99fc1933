"""The fleet benchmark's command line: the database choice and what it refuses."""

from __future__ import annotations

import pytest

from benchmarks._cli import parse_options


def test_the_database_is_sqlite_unless_postgres_is_asked_for() -> None:
    assert parse_options([]).db == "sqlite"
    assert parse_options(["--db", "postgres"]).db == "postgres"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--db", "mysql"], "argument --db: invalid choice: 'mysql'"),
        (
            ["--db", "postgres", "--prefect-api-url", "http://127.0.0.1:4200/api"],
            "--db: the server given by --prefect-api-url has its own database",
        ),
    ],
)
def test_a_database_it_cannot_start_is_refused_by_name(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse_options(argv)
    assert message in capsys.readouterr().err
