"""Keeping notification secrets out of logs, reports, reprs and error messages.

An apprise URL carries its credentials inline: ``slack://T0/B0/XXXX``,
``mailto://user:password@host``, ``json://host/secret-path?+Authorization=...``. Three
tools keep them private:

* :func:`mask_url` turns a URL into a display form (``slack://****/****/****``) plus the
  set of secret fragments it contained;
* :class:`Redactor` replaces known secret fragments in any text (apprise's error messages,
  a flow's exception message) and :func:`scrub_text` masks things that look like
  credentials even when nobody registered them;
* :func:`register_secrets` feeds a filter on the ``apprise`` logger, because apprise logs
  full URLs and headers at DEBUG and TRACE level.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

__all__ = [
    "MASK",
    "MaskedUrl",
    "Redactor",
    "environment_secrets",
    "mask_url",
    "register_secrets",
    "scrub_text",
]

MASK: Final = "****"

# Shorter fragments are left alone: masking every "ops" or "api" in a message would make
# error texts unreadable, and a secret that short is not protected by masking anyway.
MIN_SECRET_LENGTH: Final = 4

# Generic webhooks keep their secret in the path (json://host/hooks/T0K3N), which apprise
# itself prints in clear; their path is masked as a whole.
_PATH_SECRET_SCHEMAS: Final = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})

# Query keys whose values are credentials. apprise's "+Header", ":field" and "-param"
# forms are treated the same way: a header is where webhooks put their bearer token.
_SECRET_QUERY_KEY = re.compile(
    r"^[+:-]|token|secret|pass|pwd|key|auth|signature|sig$|webhook|apikey", re.IGNORECASE
)

# apprise's privacy mode shows the first and last character of a token ("T...Q").
_APPRISE_ELLIPSIS = re.compile(r"[^/:@?&=#]*\.\.\.[^/:@?&=#]*")


@dataclass(frozen=True)
class MaskedUrl:
    """A URL's safe display form and what it hides.

    Attributes:
        display: The masked URL, without query string.
        secrets: Credentials: the password, secret query values, and masked address parts
            that look like tokens. Masked wherever they appear, messages included.
        hidden: Every masked address part, word-like ones too (``/alerts``). Masked in
            apprise's logs only: masking the word "alerts" in a message would garble it.
    """

    display: str
    secrets: frozenset[str]
    hidden: frozenset[str]


def mask_url(raw: str, privacy_url: str | None = None) -> MaskedUrl:
    """Mask an apprise URL for display.

    Args:
        raw: The URL as configured, secrets included.
        privacy_url: apprise's own privacy rendering (``plugin.url(privacy=True)``), which
            knows where each service keeps its tokens. Without it (a URL apprise could not
            load) every path segment and any host that does not look like a network host
            is masked.

    Returns:
        The display form, without query string, and the fragments that must never be shown.

    Example:
        >>> mask_url("mailto://ops:hunter22@smtp.example.com?to=a@example.com").display
        'mailto://ops:****@smtp.example.com'
    """
    parts = _split(raw)
    schema = parts.schema
    if privacy_url is None:
        display = _generic_display(parts)
    else:
        display = _APPRISE_ELLIPSIS.sub(MASK, privacy_url.split("?", 1)[0]).rstrip("/")
        if schema in _PATH_SECRET_SCHEMAS:
            display = _mask_path(display)
    secrets = set(parts.query_secrets)
    if parts.password:
        secrets.add(parts.password)
    # Whatever part of the address did not survive into the display form was masked by
    # apprise or by us for a reason.
    shown = set(re.split(r"[/:@?&=#]+", display))
    hidden = {fragment for fragment in parts.address_fragments if fragment not in shown}
    secrets.update(fragment for fragment in hidden if _looks_like_token(fragment))
    return MaskedUrl(
        display=display,
        secrets=_usable(secrets),
        hidden=_usable(hidden | secrets),
    )


def _usable(fragments: set[str]) -> frozenset[str]:
    both = fragments | {unquote(fragment) for fragment in fragments}
    return frozenset(f for f in both if len(f) >= MIN_SECRET_LENGTH)


def _looks_like_token(fragment: str) -> bool:
    """Random-looking: long, or with digits, or mixed case (``T1JJ3T3L2``, not ``alerts``)."""
    if len(fragment) < 8:
        return False
    mixed_case = fragment.lower() != fragment and fragment.upper() != fragment
    return len(fragment) >= 16 or mixed_case or any(c.isdigit() for c in fragment)


@dataclass(frozen=True)
class _UrlParts:
    schema: str
    user: str | None
    password: str | None
    host: str
    port: str | None
    path: list[str]
    query_secrets: list[str]

    @property
    def address_fragments(self) -> list[str]:
        fragments = [self.host, *self.path]
        if self.user:
            fragments.append(self.user)
        return [fragment for fragment in fragments if fragment]


def _split(raw: str) -> _UrlParts:
    schema, _, rest = raw.partition("://")
    rest, _, query = rest.partition("?")
    authority, _, path = rest.partition("/")
    userinfo, at, hostport = authority.rpartition("@")
    if not at:
        hostport, userinfo = authority, ""
    user, colon, password = userinfo.partition(":")
    host, port = hostport, None
    if re.fullmatch(r".+:\d+", hostport):
        host, _, port = hostport.rpartition(":")
    query_secrets = []
    for pair in query.split("&"):
        key, eq, value = pair.partition("=")
        if eq and value and _SECRET_QUERY_KEY.search(unquote(key)):
            query_secrets.append(value)
    return _UrlParts(
        schema=schema.lower(),
        user=user or None,
        password=password if colon else None,
        host=host,
        port=port,
        path=[segment for segment in path.split("/") if segment],
        query_secrets=query_secrets,
    )


_NETWORK_HOST = re.compile(r"^(localhost|\[[0-9a-fA-F:.]+\]|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$")


def _generic_display(parts: _UrlParts) -> str:
    authority = ""
    if parts.user:
        authority = f"{parts.user}:{MASK}@" if parts.password else f"{MASK}@"
    authority += parts.host if _NETWORK_HOST.match(parts.host) else MASK
    if parts.port:
        authority += f":{parts.port}"
    path = "".join(f"/{MASK}" for _ in parts.path)
    return f"{parts.schema}://{authority}{path}"


def _mask_path(display: str) -> str:
    schema, _, rest = display.partition("://")
    authority, slash, path = rest.partition("/")
    if not slash or not path:
        return display
    return f"{schema}://{authority}" + "".join(f"/{MASK}" for s in path.split("/") if s)


class Redactor:
    """Replaces known secret fragments in text with ``****``.

    Example:
        >>> Redactor({"hunter22"}).redact("login hunter22 failed")
        'login **** failed'
    """

    __slots__ = ("_pattern",)

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        usable = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        # One alternation, longest first, so a secret containing another is masked whole.
        self._pattern = re.compile("|".join(map(re.escape, usable))) if usable else None

    def redact(self, text: str) -> str:
        """Mask every known secret in ``text``, then anything that looks like a credential."""
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return scrub_text(text)

    def __repr__(self) -> str:
        return "Redactor(<secrets hidden>)"


# A credential-looking token: 8+ characters with a digit, or 20+ of any kind. Plain words
# after "token" or "basic" in a message ("Basic subscription") are left alone.
_CREDENTIAL_WORD = r"(?:(?=[A-Za-z._~+/=-]*[0-9])[A-Za-z0-9._~+/=-]{8,}|[A-Za-z0-9._~+/=-]{20,})"

_CREDENTIAL_PATTERNS: Final = (
    # scheme://user:password@host
    (re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*):[^\s@/]+@"), rf"\1:{MASK}@"),
    # Authorization: Bearer abc123..., token abc123...
    (re.compile(rf"(?i)\b(bearer|basic|token)(\s+){_CREDENTIAL_WORD}"), rf"\1\2{MASK}"),
    # api_key=..., "password": "...", token: ...
    (
        re.compile(
            r"(?i)\b((?:api|access|secret|private)[_-]?key|token|secret|password|passwd|pwd)"
            r"(\"?\s*[:=]\s*\"?)([^\s\"'&,;]{4,})"
        ),
        rf"\1\2{MASK}",
    ),
)


def scrub_text(text: str) -> str:
    """Mask things that look like credentials: URL passwords, bearer tokens, ``key=value``.

    Example:
        >>> scrub_text("GET https://bot:s3cr3t@api.example.com?api_key=abcd1234")
        'GET https://bot:****@api.example.com?api_key=****'
    """
    for pattern, replacement in _CREDENTIAL_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


# Names, not values, decide: an address such as PREFECT_UI_URL must stay readable (it is
# the flow-run link), while credentials inside any URL are caught by scrub_text.
_SECRET_ENV_NAME = re.compile(r"(^|_)(KEY|TOKEN|SECRET|PASSWORD|PASSWD)$")


def environment_secrets(environ: dict[str, str] | None = None) -> frozenset[str]:
    """Values of environment variables whose names say they hold a secret.

    ``BARRACK_API_KEY``, ``PREFECT_API_KEY``, ``SLACK_TOKEN``... A flow's exception message
    that quotes one of them must not carry it into a notification.
    """
    source = os.environ if environ is None else environ
    return frozenset(
        value
        for name, value in source.items()
        if _SECRET_ENV_NAME.search(name.upper()) and len(value) >= 8
    )


class _SecretLogFilter(logging.Filter):
    """Rewrites records of the ``apprise`` logger with the registered secrets masked."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._redactor = Redactor()

    def add(self, secrets: Iterable[str]) -> None:
        with self._lock:
            before = len(self._secrets)
            self._secrets.update(secrets)
            if len(self._secrets) != before:
                self._redactor = Redactor(self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self._redactor.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_APPRISE_LOG_FILTER = _SecretLogFilter()
logging.getLogger("apprise").addFilter(_APPRISE_LOG_FILTER)


def register_secrets(secrets: Iterable[str]) -> None:
    """Mask these fragments in everything the ``apprise`` logger emits from now on.

    apprise logs parsed URLs (TRACE), request URLs and headers (DEBUG) in clear. A filter on
    its logger runs before any handler sees the record, including pytest's ``caplog``.
    """
    _APPRISE_LOG_FILTER.add(secrets)
