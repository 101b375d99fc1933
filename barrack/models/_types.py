"""Validated field types for request models, built on the shared rules in ``_rules``."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Annotated, TypeVar

from pydantic import AfterValidator, PlainSerializer, SecretStr, StringConstraints

from barrack.models._rules import (
    DESCRIPTION_MAX_LENGTH,
    NameKind,
    check_name,
    check_public_key,
)

__all__ = [
    "Description",
    "FirewallName",
    "ImageName",
    "InstanceName",
    "PublicKey",
    "ResourceId",
    "ScriptName",
    "SnapshotName",
    "SshKeyName",
    "VolumeName",
    "WireSecret",
    "require_known",
]

EnumT = TypeVar("EnumT", bound=Enum)


def _name_checker(kind: NameKind) -> Callable[[str], str]:
    """Build a validator that applies ``check_name(kind, ...)``."""

    def validate(value: str) -> str:
        problem = check_name(kind, value)
        if problem is not None:
            raise ValueError(problem)
        return value

    return validate


def _validate_public_key(value: str) -> str:
    """Apply ``check_public_key`` and strip surrounding blanks."""
    problem = check_public_key(value)
    if problem is not None:
        raise ValueError(problem)
    return value.strip()


def require_known(value: EnumT) -> EnumT:
    """Refuse an open enum's pseudo-member: a request must not send a value nobody knows.

    Used for closed vocabularies (rule direction, protocol, ethertype, volume type) where an
    unknown value is a typo, not a new API feature.
    """
    members = type(value).__members__.values()
    if value not in members:
        expected = ", ".join(repr(member.value) for member in members)
        raise ValueError(f"unknown value {value.value!r}; expected one of {expected}")
    return value


InstanceName = Annotated[str, AfterValidator(_name_checker("instance"))]
"""2-30 characters ``[A-Za-z0-9_.-]``, starting with a letter or digit."""
SnapshotName = Annotated[str, AfterValidator(_name_checker("snapshot"))]
"""1-50 characters ``[A-Za-z0-9 _.-]``."""
FirewallName = Annotated[str, AfterValidator(_name_checker("firewall"))]
"""1-50 characters ``[A-Za-z0-9 _.-]``."""
SshKeyName = Annotated[str, AfterValidator(_name_checker("ssh_key"))]
"""1-50 characters ``[A-Za-z0-9_.-]``."""
VolumeName = Annotated[str, AfterValidator(_name_checker("volume"))]
"""1-50 characters ``[A-Za-z0-9 _.-]``."""
ImageName = Annotated[str, AfterValidator(_name_checker("image"))]
"""1-50 characters ``[A-Za-z0-9 _.-]``."""
ScriptName = Annotated[str, AfterValidator(_name_checker("script"))]
"""1-50 characters ``[A-Za-z0-9 _.-]``."""

Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX_LENGTH)]
"""Free text, at most 255 characters."""

PublicKey = Annotated[str, AfterValidator(_validate_public_key)]
"""An OpenSSH one-line public key (``ssh-rsa``, ``ssh-ed25519``, ``ecdsa-sha2-nistp*``)."""

ResourceId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
"""An opaque, non-empty id (instances look like ``BRK-XXXXXXD``)."""

WireSecret = Annotated[
    SecretStr,
    PlainSerializer(lambda value: value.get_secret_value(), return_type=str, when_used="json"),
]
"""A secret the API returns once (a generated private key): masked in ``repr`` and ``str``,
written in clear only when serialised to JSON for the wire."""
