"""Client settings, read from the environment (``BARRACK_*``) or passed in code."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from barrack._exceptions import ConfigurationError
from barrack._wire import DEFAULT_AUTH_HEADER, DEFAULT_BASE_URL

__all__ = ["BarrackSettings", "is_loopback_host"]

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (where plain http is harmless)."""
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BarrackSettings(BaseSettings):
    """How to reach Barrack.

    Every field can come from an environment variable named ``BARRACK_<FIELD>`` (for
    example ``BARRACK_API_KEY``, ``BARRACK_BASE_URL``, ``BARRACK_TIMEOUT``).
    The API key is a :class:`~pydantic.SecretStr`: it never shows in a repr or a log.
    """

    model_config = SettingsConfigDict(
        env_prefix="BARRACK_", extra="forbid", frozen=True, hide_input_in_errors=True
    )

    api_key: SecretStr | None = Field(default=None, description="Barrack API key (secret).")
    base_url: str = Field(default=DEFAULT_BASE_URL, description="API base URL.")
    auth_header: str = Field(
        default=DEFAULT_AUTH_HEADER,
        description=(
            "Header that carries the key: Authorization (sent as 'Bearer <key>'), or another "
            "header such as X-API-Key or api_key (sent as the bare key)."
        ),
    )
    timeout: float = Field(default=30.0, gt=0, description="Read/write timeout, seconds.")
    connect_timeout: float = Field(default=10.0, gt=0, description="Connect timeout, seconds.")
    max_attempts: int = Field(default=5, ge=1, le=20, description="Attempts per call.")
    max_retry_after: float = Field(
        default=60.0, ge=0, description="Longest Retry-After honoured, seconds."
    )
    rate_limit: float | None = Field(
        default=None,
        gt=0,
        description="Client-side requests per second shared by the process (off when unset).",
    )
    rate_limit_burst: int = Field(default=1, ge=1, description="Requests allowed back to back.")
    verify_tls: bool = Field(default=True, description="Verify the server's TLS certificate.")
    allow_insecure_http: bool = Field(
        default=False, description="Allow http:// to hosts other than loopback."
    )

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL such as https://barrack.ai/api")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials; set BARRACK_API_KEY instead")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment")
        return value.rstrip("/")

    @field_validator("auth_header")
    @classmethod
    def _check_auth_header(cls, value: str) -> str:
        if not _HEADER_NAME.match(value):
            raise ValueError(
                "must be an HTTP header name such as Authorization, X-API-Key or api_key"
            )
        return value

    @model_validator(mode="after")
    def _refuse_plain_http(self) -> BarrackSettings:
        parts = urlsplit(self.base_url)
        if (
            parts.scheme == "http"
            and not self.allow_insecure_http
            and not is_loopback_host(parts.hostname or "")
        ):
            raise ValueError(
                f"base_url: http:// to {parts.hostname} would send the API key in clear; use "
                "https, or set BARRACK_ALLOW_INSECURE_HTTP=true if you really mean it"
            )
        return self

    @classmethod
    def load(cls, **overrides: object) -> BarrackSettings:
        """Settings from the environment, with ``overrides`` on top (None means "not given").

        Raises:
            ConfigurationError: a setting is invalid; the message names it and never
                echoes the value.
        """
        given = {name: value for name, value in overrides.items() if value is not None}
        try:
            return cls(**given)  # type: ignore[arg-type]
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
                for err in exc.errors(include_input=False, include_url=False)
            )
            raise ConfigurationError(f"invalid Barrack settings: {problems}") from None

    def require_api_key(self) -> SecretStr:
        """The API key, or a :class:`ConfigurationError` that says how to set it."""
        if self.api_key is None or not self.api_key.get_secret_value().strip():
            raise ConfigurationError(
                "no Barrack API key: set the BARRACK_API_KEY environment variable "
                "or pass api_key= to the client"
            )
        return self.api_key
