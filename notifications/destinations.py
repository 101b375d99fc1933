"""A destination: one apprise service loaded from one URL, with its tags and masked name.

Every URL is loaded by apprise when the notifier is built, so a malformed or unsupported
URL fails at start with a message that names where it was configured and shows it masked,
not at 3 a.m. when the first alert has to go out.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable
from typing import Any, Final

import apprise
from apprise.plugins import N_MGR
from pydantic import SecretStr

from notifications.errors import NotificationConfigError
from notifications.masking import Redactor, mask_url, register_secrets
from notifications.render import BodyFormat
from notifications.routing import RoutingRules
from notifications.sources import UrlEntry

__all__ = ["Destination", "build_destinations"]


@functools.cache
def _plugins() -> Any:
    """apprise's registry of services by schema, loaded once (untyped in apprise)."""
    with warnings.catch_warnings():
        # apprise's email plugin imports the stdlib imghdr module, deprecated since 3.11;
        # with warnings as errors (pytest here) the import itself would fail.
        warnings.filterwarnings("ignore", message=".*imghdr.*", category=DeprecationWarning)
        registry: Any = N_MGR
        registry.load_modules()
    return registry


APPRISE_ASSET: Final = apprise.AppriseAsset(
    app_id="barrack-ops",
    app_desc="barrack-ops notifications",
    # apprise masks what it logs itself; our log filter covers what it does not.
    secure_logging=True,
    # No per-service deadline inside apprise: with one, apprise sends from its shared
    # thread pool and abandons a slow send to a worker the interpreter joins at exit, so
    # a trickling destination kept a finished run's process alive for minutes (issue #16,
    # 8). The deadline is ours instead (notifications.delivery), on a daemon thread.
    service_timeout=0,
)


class Destination:
    """One place notifications go to.

    Attributes:
        display: The masked URL, safe for logs and reports (``slack://****/****/****``).
        tags: The routing tags (see :mod:`notifications.routing`).
        origin: Where it was configured (``BARRACK_NOTIFY_URLS entry 2``).
        body_format: Markdown for services that render it, plain text otherwise.
        url: The full URL, secret.
    """

    __slots__ = ("body_format", "display", "origin", "schema", "secrets", "service", "tags", "url")

    def __init__(
        self,
        *,
        url: SecretStr,
        tags: frozenset[str],
        origin: str,
        display: str,
        secrets: frozenset[str],
        service: Any,
    ) -> None:
        self.url = url
        self.tags = tags
        self.origin = origin
        self.display = display
        self.secrets = secrets
        # The loaded apprise plugin (apprise ships no type information for it).
        self.service = service
        self.schema: str = url.get_secret_value().partition("://")[0].lower()
        self.body_format = body_format_for(service)

    @property
    def label(self) -> str:
        """The masked URL with its tags, e.g. ``json://127.0.0.1:8765/**** [critical]``."""
        return f"{self.display} [{', '.join(sorted(self.tags))}]" if self.tags else self.display

    def __repr__(self) -> str:
        return f"Destination({self.display!r}, tags={sorted(self.tags)!r}, origin={self.origin!r})"


def body_format_for(service: Any) -> BodyFormat:
    """Markdown where the service declares it renders Markdown, plain text otherwise.

    Slack, Discord, Telegram, Matrix and the json/form/xml webhooks declare Markdown;
    email, SMS, PagerDuty and ntfy do not, and get plain text (the email is ``text/plain``).
    """
    declared = service.notify_format
    formats = declared if isinstance(declared, tuple | list) else (declared,)
    if apprise.NotifyFormat.MARKDOWN in formats:
        return BodyFormat.MARKDOWN
    return BodyFormat.TEXT


def load_destination(entry: UrlEntry) -> Destination:
    """Load one URL with apprise.

    Raises:
        NotificationConfigError: The URL is malformed, its service unknown or unavailable,
            or apprise rejected its parts. The message shows the URL masked.
    """
    raw = entry.url.get_secret_value()
    schema, separator, _ = raw.partition("://")
    masked = mask_url(raw)
    register_secrets(masked.hidden)
    where = f"{entry.origin} ({masked.display})"
    if not separator or not schema:
        raise NotificationConfigError([f"{where}: not a URL; expected scheme://..."])
    plugins = _plugins()
    if schema.lower() not in plugins:
        raise NotificationConfigError(
            [f"{where}: unsupported scheme {schema.lower()!r} (apprise has no such service)"]
        )
    if not plugins[schema.lower()].enabled:
        raise NotificationConfigError(
            [f"{where}: {schema.lower()}:// is not available on this system"]
        )
    try:
        service: Any = apprise.Apprise.instantiate(
            raw, asset=APPRISE_ASSET, tag=sorted(entry.tags), suppress_exceptions=False
        )
    except Exception as error:  # apprise raises TypeError, ValueError or its own errors
        reason = Redactor(masked.hidden).redact(str(error)) or type(error).__name__
        raise NotificationConfigError([f"{where}: apprise rejected it: {reason}"]) from None
    if service is None:
        raise NotificationConfigError([f"{where}: apprise could not parse it"])
    masked = mask_url(raw, privacy_url=service.url(privacy=True))
    register_secrets(masked.hidden)
    return Destination(
        url=entry.url,
        tags=entry.tags,
        origin=entry.origin,
        display=masked.display,
        secrets=masked.secrets,
        service=service,
    )


def build_destinations(entries: Iterable[UrlEntry], routing: RoutingRules) -> list[Destination]:
    """Load every entry and check its tags against the routing rules.

    Raises:
        NotificationConfigError: Listing every bad entry, not only the first.
    """
    destinations: list[Destination] = []
    problems: list[str] = []
    for entry in entries:
        try:
            destination = load_destination(entry)
        except NotificationConfigError as error:
            problems.extend(error.problems)
            continue
        unknown = routing.unknown_tags(destination.tags)
        if unknown:
            problems.append(
                f"{entry.origin} ({destination.display}): tag(s) {', '.join(unknown)} route "
                f"nothing; known tags: {', '.join(sorted(routing.severity_tags))}, "
                f"{routing.fallback_tag}, kind:<kind>"
            )
            continue
        destinations.append(destination)
    if problems:
        raise NotificationConfigError(problems)
    return destinations
