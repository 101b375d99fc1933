"""Input rules shared by the client (checked before sending) and the simulator (checked again).

Each ``check_*`` function returns ``None`` when the value is fine and otherwise a short
message naming the field and the problem. The request models turn that message into a
pydantic ``ValidationError``; the simulator turns it into a 422 ``INVALID_NAME_FORMAT`` or
a 400 ``VALIDATION_ERROR``. One source, so both sides enforce exactly the same rules.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import struct
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "DESCRIPTION_MAX_LENGTH",
    "NAME_RULES",
    "PORTED_PROTOCOLS",
    "PORT_MAX",
    "PORT_MIN",
    "SSH_KEY_TYPES",
    "VOLUME_MAX_GB",
    "VOLUME_MIN_GB",
    "VOLUME_TYPE_TIERS",
    "NameKind",
    "NameRule",
    "check_name",
    "check_public_key",
    "check_security_rule",
    "check_volume",
]

NameKind = Literal["instance", "snapshot", "firewall", "ssh_key", "volume", "image", "script"]


@dataclass(frozen=True, slots=True)
class NameRule:
    """How a resource name must look.

    Attributes:
        kind: the resource the rule is for.
        pattern: the whole name must match it (``re.fullmatch``).
        min_length: shortest allowed name.
        max_length: longest allowed name.
        allowed: the pattern in words, for error messages.
    """

    kind: NameKind
    pattern: re.Pattern[str]
    min_length: int
    max_length: int
    allowed: str


_WITH_SPACES = "letters, digits, spaces, '_', '.' and '-'"
_NO_SPACES = "letters, digits, '_', '.' and '-'"

NAME_RULES: Final[dict[NameKind, NameRule]] = {
    # A3 (restore): 2-30 characters; the first must be a letter or digit.
    "instance": NameRule(
        "instance",
        re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{1,29}"),
        2,
        30,
        f"{_NO_SPACES}, starting with a letter or digit",
    ),
    "snapshot": NameRule("snapshot", re.compile(r"[A-Za-z0-9 _.-]{1,50}"), 1, 50, _WITH_SPACES),
    "firewall": NameRule("firewall", re.compile(r"[A-Za-z0-9 _.-]{1,50}"), 1, 50, _WITH_SPACES),
    "ssh_key": NameRule("ssh_key", re.compile(r"[A-Za-z0-9_.-]{1,50}"), 1, 50, _NO_SPACES),
    # The docs give no format for these three; the project uses the snapshot rule.
    "volume": NameRule("volume", re.compile(r"[A-Za-z0-9 _.-]{1,50}"), 1, 50, _WITH_SPACES),
    "image": NameRule("image", re.compile(r"[A-Za-z0-9 _.-]{1,50}"), 1, 50, _WITH_SPACES),
    "script": NameRule("script", re.compile(r"[A-Za-z0-9 _.-]{1,50}"), 1, 50, _WITH_SPACES),
}
"""The name rule of each kind of resource."""

DESCRIPTION_MAX_LENGTH: Final = 255
"""Longest description of a firewall, snapshot, volume, image or script."""


def check_name(kind: NameKind, value: str) -> str | None:
    """Check a resource name against its kind's rule.

    Args:
        kind: which rule applies (``"instance"``, ``"snapshot"``, ...).
        value: the proposed name.

    Returns:
        None when the name is valid, else a message saying what is wrong.

    Raises:
        KeyError: ``kind`` has no rule.

    Example:
        >>> check_name("instance", "gpu-01") is None
        True
        >>> check_name("instance", "x")
        'instance name must be 2-30 characters long, got 1'
    """
    rule = NAME_RULES[kind]
    label = kind.replace("_", " ")
    if not rule.min_length <= len(value) <= rule.max_length:
        return (
            f"{label} name must be {rule.min_length}-{rule.max_length} characters long, "
            f"got {len(value)}"
        )
    if not value.strip():
        return f"{label} name must not be blank"
    if rule.pattern.fullmatch(value) is None:
        return f"{label} name {value!r} may only contain {rule.allowed}"
    return None


SSH_KEY_TYPES: Final = frozenset(
    {"ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"}
)
"""Key types accepted in an OpenSSH public key line."""


def check_public_key(value: str) -> str | None:
    """Check an OpenSSH one-line public key: ``TYPE BASE64 [COMMENT]``.

    The base64 body must decode, and (as in every real key) start with the key type in the
    SSH wire format, so a body pasted under the wrong type is caught too.

    Returns:
        None when the key is valid, else a message saying what is wrong.
    """
    # Surrounding blanks are forgiven (a key read from a .pub file ends with a newline).
    line = value.strip()
    if "\n" in line or "\r" in line:
        return "public_key must be a single line (OpenSSH format), not a multi-line key file"
    parts = line.split(maxsplit=2)
    if len(parts) < 2:
        return "public_key must look like 'ssh-ed25519 AAAA... [comment]'"
    key_type, body = parts[0], parts[1]
    if key_type not in SSH_KEY_TYPES:
        return f"public_key type {key_type!r} is not one of {sorted(SSH_KEY_TYPES)}"
    try:
        blob = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return "public_key body is not valid base64"
    if len(blob) < 4:
        return "public_key body is too short to be a key"
    (type_length,) = struct.unpack(">I", blob[:4])
    if blob[4 : 4 + type_length] != key_type.encode():
        return f"public_key body does not hold a {key_type} key"
    return None


PORT_MIN: Final = 1
PORT_MAX: Final = 65535
PORTED_PROTOCOLS: Final = frozenset({"TCP", "UDP"})
"""Protocols whose rules may carry a port range (ICMP has no ports)."""


def check_security_rule(
    *,
    protocol: str,
    ethertype: str,
    port_range_min: int | None,
    port_range_max: int | None,
    remote_cidr: str | None,
) -> str | None:
    """Check the parts of a firewall or security rule that depend on each other.

    Args:
        protocol: ``TCP``, ``UDP`` or ``ICMP``.
        ethertype: ``IPv4`` or ``IPv6``; ``remote_cidr`` must be of that version.
        port_range_min: first port (1-65535), TCP and UDP only; None means every port.
        port_range_max: last port, at least ``port_range_min``.
        remote_cidr: the peer network (``"10.0.0.0/8"``, ``"::/0"``); None means any.

    Returns:
        None when the rule is valid, else a message naming the field and the problem.
    """
    ports = (port_range_min, port_range_max)
    if protocol not in PORTED_PROTOCOLS and ports != (None, None):
        return f"port_range_min/port_range_max are only allowed for TCP and UDP, not {protocol}"
    if (port_range_min is None) != (port_range_max is None):
        return "give both port_range_min and port_range_max, or neither (every port)"
    for name, port in (("port_range_min", port_range_min), ("port_range_max", port_range_max)):
        if port is not None and not PORT_MIN <= port <= PORT_MAX:
            return f"{name} must be {PORT_MIN}-{PORT_MAX}, got {port}"
    if (
        port_range_min is not None
        and port_range_max is not None
        and (port_range_min > port_range_max)
    ):
        return (
            f"port_range_min ({port_range_min}) must not exceed port_range_max ({port_range_max})"
        )
    if remote_cidr is not None:
        return _check_cidr(remote_cidr, ethertype)
    return None


def _check_cidr(remote_cidr: str, ethertype: str) -> str | None:
    """Check that a CIDR parses, has no host bits set and matches the ethertype."""
    try:
        network = ipaddress.ip_network(remote_cidr, strict=False)
    except ValueError:
        return f"remote_cidr {remote_cidr!r} is not an IP network such as '10.0.0.0/8'"
    try:
        ipaddress.ip_network(remote_cidr, strict=True)
    except ValueError:
        return f"remote_cidr {remote_cidr!r} has host bits set; did you mean '{network}'?"
    wanted = {"IPv4": 4, "IPv6": 6}.get(ethertype)
    if wanted is not None and network.version != wanted:
        return f"remote_cidr {remote_cidr!r} is IPv{network.version} but ethertype is {ethertype}"
    return None


VOLUME_MIN_GB: Final = 100
"""Smallest volume, in GB (Part C: ``minimum_size_gb: 100``)."""
VOLUME_MAX_GB: Final = 1000
"""Largest volume, in GB (A3)."""
VOLUME_TYPE_TIERS: Final[dict[str, str]] = {"SSD": "legacy", "HDD": "advanced", "NVMe": "advanced"}
"""The tier each volume type is offered in (Part C)."""


def check_volume(size_gb: int, bootable: bool, image_id: str | None) -> str | None:
    """Check a volume's size, and that exactly the bootable ones carry an OS image.

    Returns:
        None when the combination is valid, else a message naming the field and the problem.
    """
    if not VOLUME_MIN_GB <= size_gb <= VOLUME_MAX_GB:
        return f"size_gb must be {VOLUME_MIN_GB}-{VOLUME_MAX_GB}, got {size_gb}"
    if bootable and not image_id:
        return "a bootable volume needs image_id (the OS image to install)"
    if not bootable and image_id:
        return "image_id is only allowed for a bootable volume (set bootable)"
    return None
