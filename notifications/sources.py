"""Where destination URLs come from: a URL list (environment variable, Secret block) or an
apprise YAML config file.

URL list syntax (``BARRACK_NOTIFY_URLS``, a Prefect Secret block)::

    [TAG[,TAG...]=]URL   separated by whitespace or commas

    json://127.0.0.1:8765/ops  critical,pager=pagerduty://KEY@ROUTING  mailto://smtp.example.com?to=ops@example.com

It is apprise's own ``tags=url`` text syntax. A comma ends a URL only when a new
``[tags=]scheme://`` follows it, so ``mailto://...?to=a@x.org,b@x.org`` keeps both
recipients.

YAML syntax: a subset of apprise's YAML config, checked strictly::

    version: 1
    tag: ops                  # optional, added to every URL below
    urls:
      - json://127.0.0.1:8765/ops
      - slack://T0/B0/XXXX:
          tag: critical, kind:low-balance
      - mailto://user:pass@smtp.example.com?to=ops@example.com:
          - tag: all

Parsing never echoes a URL: problems name the entry's position and, once apprise has
loaded it, its masked form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from notifications.errors import NotificationConfigError

__all__ = ["UrlEntry", "parse_config_data", "parse_config_file", "parse_url_list"]

_TAG_CHARS = r"[A-Za-z0-9_.:-]+"
_ENTRY_START = re.compile(
    rf"(?:(?P<tags>{_TAG_CHARS}(?:,{_TAG_CHARS})*)=)?(?P<schema>[A-Za-z][A-Za-z0-9+.-]*)://"
)
_VALID_TAG = re.compile(r"^[a-z0-9][a-z0-9_.-]*(:[a-z0-9][a-z0-9_.-]*)?$")


@dataclass(frozen=True)
class UrlEntry:
    """One configured URL with its tags and where it was found."""

    url: SecretStr
    tags: frozenset[str]
    origin: str = field(compare=False)


def parse_tags(raw: str | Iterable[str], origin: str) -> frozenset[str]:
    """Split ``"critical, pager"`` or ``["critical", "pager"]`` into lowercase tags."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    tags: set[str] = set()
    for item in items:
        if not isinstance(item, str):
            raise NotificationConfigError([f"{origin}: a tag must be a string, got {item!r}"])
        tag = item.strip().lower()
        if not tag:
            continue
        if not _VALID_TAG.match(tag):
            raise NotificationConfigError(
                [
                    f"{origin}: tag {tag!r} is not valid (letters, digits, '_', '.', '-'; "
                    "one ':' as in 'kind:low-balance')"
                ]
            )
        tags.add(tag)
    return frozenset(tags)


def parse_url_list(text: str, source: str) -> list[UrlEntry]:
    """Parse a ``[tags=]url`` list separated by whitespace or commas.

    Args:
        text: The list, e.g. the value of ``BARRACK_NOTIFY_URLS``.
        source: Names the list in error messages, e.g. ``"BARRACK_NOTIFY_URLS"``.

    Raises:
        NotificationConfigError: A part is not ``[tags=]scheme://...`` or a tag is invalid.

    Example:
        >>> [sorted(e.tags) for e in parse_url_list("json://h/a critical,pager=json://h/b", "X")]
        [[], ['critical', 'pager']]
    """
    entries: list[UrlEntry] = []
    problems: list[str] = []
    for chunk_number, chunk in enumerate(text.split(), start=1):
        for piece in _split_chunk(chunk):
            origin = f"{source} entry {len(entries) + len(problems) + 1}"
            match = _ENTRY_START.match(piece)
            if match is None:
                # The text is not shown: a mistyped entry is often a bare token.
                problems.append(
                    f"{origin} (word {chunk_number}): not an apprise URL; expected "
                    "[tags=]scheme://... (value not shown, it may hold a secret)"
                )
                continue
            try:
                tags = parse_tags(match["tags"] or "", origin)
            except NotificationConfigError as error:
                problems.extend(error.problems)
                continue
            url = piece[match.start("schema") :]
            entries.append(UrlEntry(url=SecretStr(url), tags=tags, origin=origin))
    if problems:
        raise NotificationConfigError(problems)
    return entries


def _split_chunk(chunk: str) -> list[str]:
    """Split one whitespace-free chunk at commas that start a new ``[tags=]scheme://``."""
    starts = [0]
    first = _ENTRY_START.match(chunk)
    # Commas inside a tag prefix ("critical,pager=") belong to it, not to a split.
    covered_until = first.end() if first else 0
    for comma in (m.start() for m in re.finditer(",", chunk)):
        if comma < covered_until:
            continue
        entry = _ENTRY_START.match(chunk, comma + 1)
        if entry is not None:
            starts.append(comma + 1)
            covered_until = entry.end()
    ends = [*starts[1:], len(chunk)]
    pieces = (chunk[begin:end].strip(",") for begin, end in zip(starts, ends, strict=True))
    return [piece for piece in pieces if piece]


_TOP_LEVEL_KEYS = frozenset({"version", "tag", "tags", "urls"})
_ENTRY_KEYS = frozenset({"tag", "tags"})


def parse_config_file(path: Path) -> list[UrlEntry]:
    """Read an apprise-style YAML config file (see the module docstring for the format).

    Raises:
        NotificationConfigError: The file is missing, not YAML, or not in the format.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise NotificationConfigError(
            [f"notification config file {str(path)!r}: cannot be read ({error.strerror})"]
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        # The problem and position only: the error's snippet of the line may show a URL.
        where = ""
        mark = getattr(error, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise NotificationConfigError(
            [f"notification config file {path.name!r}: not valid YAML{where}: {problem}"]
        ) from None
    return parse_config_data(data, path.name)


def parse_config_data(data: Any, source: str) -> list[UrlEntry]:
    """Check a parsed YAML (or JSON) config structure and return its entries.

    Raises:
        NotificationConfigError: Listing every entry that is not in the format.
    """
    if not isinstance(data, dict):
        raise NotificationConfigError(
            [f"{source}: expected a mapping with a 'urls' list at the top level"]
        )
    problems = [
        f"{source}: unsupported key {key!r} (barrack-ops reads: version, tag, urls)"
        for key in data
        if key not in _TOP_LEVEL_KEYS
    ]
    if data.get("version", 1) not in (1, "1"):
        problems.append(f"{source}: version must be 1")
    urls = data.get("urls")
    if not isinstance(urls, list):
        problems.append(f"{source}: 'urls' must be a list of URLs")
        raise NotificationConfigError(problems)
    try:
        common = parse_tags(_tag_value(data, source), f"{source} tag")
    except NotificationConfigError as error:
        raise NotificationConfigError(problems + error.problems) from None

    entries: list[UrlEntry] = []
    for index, item in enumerate(urls):
        origin = f"{source} urls[{index}]"
        try:
            entries.extend(_parse_item(item, origin, common))
        except NotificationConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise NotificationConfigError(problems)
    return entries


def _tag_value(mapping: dict[str, Any], origin: str) -> str | list[str]:
    value = mapping.get("tag", mapping.get("tags", ""))
    if value is None:
        return ""
    if isinstance(value, str | list):
        return value
    raise NotificationConfigError([f"{origin}: 'tag' must be a string or a list of strings"])


def _parse_item(item: Any, origin: str, common: frozenset[str]) -> list[UrlEntry]:
    if isinstance(item, str):
        return [UrlEntry(url=SecretStr(item.strip()), tags=common, origin=origin)]
    if not isinstance(item, dict) or len(item) != 1:
        raise NotificationConfigError(
            [f"{origin}: expected a URL string or a one-key mapping 'URL: {{tag: ...}}'"]
        )
    ((url, options),) = item.items()
    if not isinstance(url, str):
        raise NotificationConfigError([f"{origin}: the URL must be a string"])
    option_sets = options if isinstance(options, list) else [options or {}]
    entries = []
    for number, option_set in enumerate(option_sets):
        where = origin if len(option_sets) == 1 else f"{origin}[{number}]"
        if not isinstance(option_set, dict):
            raise NotificationConfigError([f"{where}: options must be a mapping like {{tag: ...}}"])
        unknown = sorted(str(key) for key in option_set if key not in _ENTRY_KEYS)
        if unknown:
            raise NotificationConfigError(
                [
                    f"{where}: unsupported option(s) {', '.join(unknown)}; only 'tag' is read "
                    "here, put service options in the URL's query string"
                ]
            )
        tags = parse_tags(_tag_value(option_set, where), where)
        entries.append(UrlEntry(url=SecretStr(url.strip()), tags=common | tags, origin=where))
    return entries
