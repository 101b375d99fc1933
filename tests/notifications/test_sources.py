from __future__ import annotations

from pathlib import Path

import pytest

from notifications import NotificationConfigError
from notifications.sources import parse_config_data, parse_config_file, parse_url_list


def entries(text: str) -> list[tuple[str, list[str]]]:
    return [(e.url.get_secret_value(), sorted(e.tags)) for e in parse_url_list(text, "X")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("json://h/a", [("json://h/a", [])]),
        ("json://h/a json://h/b", [("json://h/a", []), ("json://h/b", [])]),
        ("json://h/a,json://h/b", [("json://h/a", []), ("json://h/b", [])]),
        ("  json://h/a ,\n\tjson://h/b ,", [("json://h/a", []), ("json://h/b", [])]),
        ("critical=json://h/a", [("json://h/a", ["critical"])]),
        (
            "critical,pager=pagerduty://KEY@ROUTE",
            [("pagerduty://KEY@ROUTE", ["critical", "pager"])],
        ),
        (
            "json://h/a,critical,pager=json://h/b",
            [("json://h/a", []), ("json://h/b", ["critical", "pager"])],
        ),
        ("kind:low-balance=json://h/a", [("json://h/a", ["kind:low-balance"])]),
        ("CRITICAL=json://h/a", [("json://h/a", ["critical"])]),
        # A comma that does not start a new [tags=]scheme:// stays in the URL.
        (
            "mailto://smtp.example.com?to=a@example.com,b@example.com",
            [("mailto://smtp.example.com?to=a@example.com,b@example.com", [])],
        ),
        (
            "json://h/a?x=1,y=2 fallback=mailto://h?to=a@example.com",
            [("json://h/a?x=1,y=2", []), ("mailto://h?to=a@example.com", ["fallback"])],
        ),
        ("", []),
        ("   ", []),
    ],
)
def test_url_list_syntax(text: str, expected: list[tuple[str, list[str]]]) -> None:
    assert entries(text) == expected


def test_entries_name_their_position() -> None:
    parsed = parse_url_list("json://h/a critical=json://h/b", "BARRACK_NOTIFY_URLS")
    assert [e.origin for e in parsed] == [
        "BARRACK_NOTIFY_URLS entry 1",
        "BARRACK_NOTIFY_URLS entry 2",
    ]


def test_a_bare_token_is_an_error_that_does_not_echo_it() -> None:
    with pytest.raises(NotificationConfigError) as caught:
        parse_url_list("json://h/a xoxb-SECRET-TOKEN-123", "BARRACK_NOTIFY_URLS")
    message = str(caught.value)
    assert "BARRACK_NOTIFY_URLS entry 2" in message
    assert "not an apprise URL" in message
    assert "xoxb" not in message


def test_every_bad_entry_is_listed() -> None:
    with pytest.raises(NotificationConfigError) as caught:
        parse_url_list("one json://h/a two", "X")
    assert len(caught.value.problems) == 2


def test_a_bad_tag_is_named() -> None:
    with pytest.raises(NotificationConfigError, match="tag 'a:b:c' is not valid"):
        parse_url_list("a:b:c=json://h/a", "X")


YAML = """\
version: 1
tag: ops
urls:
  - json://127.0.0.1:8765/all
  - slack://T0/B0/XXXX:
      tag: critical, kind:low-balance
  - mailto://smtp.example.com?to=ops@example.com:
      - tag: [warning]
      - tag: fallback
"""


def test_yaml_config(tmp_path: Path) -> None:
    path = tmp_path / "notify.yaml"
    path.write_text(YAML)
    parsed = parse_config_file(path)
    assert [(e.url.get_secret_value(), sorted(e.tags), e.origin) for e in parsed] == [
        ("json://127.0.0.1:8765/all", ["ops"], "notify.yaml urls[0]"),
        ("slack://T0/B0/XXXX", ["critical", "kind:low-balance", "ops"], "notify.yaml urls[1]"),
        (
            "mailto://smtp.example.com?to=ops@example.com",
            ["ops", "warning"],
            "notify.yaml urls[2][0]",
        ),
        (
            "mailto://smtp.example.com?to=ops@example.com",
            ["fallback", "ops"],
            "notify.yaml urls[2][1]",
        ),
    ]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "expected a mapping"),
        ({"urls": "json://h"}, "'urls' must be a list"),
        ({"version": 2, "urls": []}, "version must be 1"),
        ({"urls": [], "include": ["x.yaml"]}, "unsupported key 'include'"),
        ({"urls": [42]}, "urls[0]: expected a URL string"),
        ({"urls": [{"json://h": {"tag": "a", "format": "text"}}]}, "unsupported option(s) format"),
        ({"urls": [{"json://h": {"tag": 3}}]}, "'tag' must be a string"),
        ({"urls": [{"json://h": "critical"}]}, "options must be a mapping"),
    ],
)
def test_yaml_structure_errors(data: object, problem: str) -> None:
    with pytest.raises(NotificationConfigError) as caught:
        parse_config_data(data, "notify.yaml")
    assert problem in str(caught.value)


def test_invalid_yaml_reports_position_without_the_line(tmp_path: Path) -> None:
    path = tmp_path / "notify.yaml"
    path.write_text("urls:\n  - slack://T0/B0/SECRETTOKEN: [\n")
    with pytest.raises(NotificationConfigError) as caught:
        parse_config_file(path)
    message = str(caught.value)
    assert "not valid YAML at line" in message
    assert "SECRETTOKEN" not in message


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(NotificationConfigError, match="cannot be read"):
        parse_config_file(tmp_path / "missing.yaml")
