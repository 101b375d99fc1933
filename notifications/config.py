"""Notification settings (``BARRACK_NOTIFY_*``) and loading every destination they name.

====================================  ===========================================================
environment variable                  meaning
====================================  ===========================================================
``BARRACK_NOTIFY_URLS``               ``[tags=]url`` list, whitespace or comma separated
``BARRACK_NOTIFY_CONFIG``             path of an apprise-style YAML config file
``BARRACK_NOTIFY_SECRET_BLOCK``       name of a Prefect Secret block holding a URL list
``BARRACK_NOTIFY_ROUTES``             extra tag routes as JSON, e.g. ``{"pager": "critical"}``
``BARRACK_NOTIFY_REPEAT_INTERVAL``    seconds (or ISO 8601 like ``PT6H``) before an open
                                      alert is sent again; default 6 hours
``BARRACK_NOTIFY_TIMEOUT``            seconds per destination per send; default 10
``BARRACK_NOTIFY_STATE``              ``auto`` (default: ``BARRACK_OPS_STATE``, else Prefect
                                      when its API answers, else file), ``prefect``,
                                      ``file`` or ``memory``
``BARRACK_NOTIFY_STATE_FILE``         ledger file of the file store; default
                                      ``$BARRACK_OPS_STATE_DIR/notifications.json``
                                      (``~/.barrack-ops/state/notifications.json``)
====================================  ===========================================================

All sources are combined. The Secret block is read only when its name is set, and only
when destinations are loaded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from notifications.alerts import Severity
from notifications.errors import NotificationConfigError
from notifications.masking import scrub_text
from notifications.sources import UrlEntry, parse_config_data, parse_config_file, parse_url_list
from state.settings import StateMode

__all__ = ["NotifySettings", "SecretReader", "load_url_entries", "read_prefect_secret"]

SecretReader = Callable[[str], Any]
"""Reads a Prefect Secret block's value by block name."""


class NotifySettings(BaseSettings):
    """Notification settings, read from ``BARRACK_NOTIFY_*`` environment variables.

    Every field can also be passed directly:
    ``NotifySettings(urls=SecretStr("critical=json://..."), repeat_interval=timedelta(hours=1))``.
    """

    model_config = SettingsConfigDict(
        env_prefix="BARRACK_NOTIFY_", extra="forbid", hide_input_in_errors=True
    )

    urls: SecretStr | None = Field(default=None, description="[tags=]url list")
    config: Path | None = Field(default=None, description="apprise-style YAML config file")
    secret_block: str | None = Field(
        default=None, min_length=1, description="Prefect Secret block holding a URL list"
    )
    routes: dict[str, Severity] = Field(
        default_factory=dict, description="extra tag -> lowest severity routes"
    )
    repeat_interval: timedelta = Field(default=timedelta(hours=6), gt=timedelta(0))
    timeout: float = Field(default=10.0, gt=0, le=300, description="seconds per send")
    state: StateMode = "auto"
    state_file: Path | None = None

    @field_validator("routes")
    @classmethod
    def _plain_route_tags(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        for tag in value:
            if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", tag):
                raise ValueError(
                    f"route tag {tag!r} must be lowercase letters, digits, '_', '.' or '-' "
                    "(kind:<kind> tags need no route)"
                )
        return value


def read_prefect_secret(block_name: str) -> Any:
    """The value of the Prefect Secret block ``block_name`` (sync, even inside async code)."""
    from prefect.blocks.system import Secret

    # Block.load dispatches to a coroutine inside async code unless told otherwise.
    load: Any = Secret.load
    return load(block_name, _sync=True).get()


def load_url_entries(
    settings: NotifySettings, *, secret_reader: SecretReader | None = None
) -> list[UrlEntry]:
    """Every configured URL entry: from the URL list, the config file and the Secret block.

    Args:
        settings: Where to look.
        secret_reader: Reads a Secret block by name; default :func:`read_prefect_secret`.
            Called only when ``settings.secret_block`` is set.

    Raises:
        NotificationConfigError: Listing the problems of every source.
    """
    entries: list[UrlEntry] = []
    problems: list[str] = []
    loaders: list[Callable[[], list[UrlEntry]]] = []
    if settings.urls is not None:
        urls = settings.urls
        loaders.append(lambda: parse_url_list(urls.get_secret_value(), "BARRACK_NOTIFY_URLS"))
    if settings.config is not None:
        path = settings.config.expanduser()
        loaders.append(lambda: parse_config_file(path))
    if settings.secret_block is not None:
        block = settings.secret_block
        loaders.append(lambda: _secret_block_entries(block, secret_reader or read_prefect_secret))
    for load in loaders:
        try:
            entries.extend(load())
        except NotificationConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise NotificationConfigError(problems)
    return entries


def _secret_block_entries(block_name: str, reader: SecretReader) -> list[UrlEntry]:
    source = f"Secret block {block_name!r}"
    try:
        value = reader(block_name)
    except Exception as error:  # a missing block, an unreachable API: say which
        raise NotificationConfigError(
            [f"{source}: cannot be read ({type(error).__name__}: {scrub_text(str(error))[:200]})"]
        ) from None
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str):
        return parse_url_list(value, source)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return parse_url_list(" ".join(value), source)
    if isinstance(value, dict):
        return parse_config_data(value, source)
    raise NotificationConfigError(
        [f"{source}: expected a URL list (text), a list of URLs, or a config mapping with 'urls'"]
    )
