"""The shared rules the simulator also enforces, called directly."""

from __future__ import annotations

import pytest

from barrack.models._rules import (
    NAME_RULES,
    VOLUME_MAX_GB,
    VOLUME_MIN_GB,
    VOLUME_TYPE_TIERS,
    check_name,
    check_security_rule,
    check_volume,
)


@pytest.mark.parametrize("kind", sorted(NAME_RULES))
def test_every_kind_enforces_its_length_limits(kind: str) -> None:
    rule = NAME_RULES[kind]  # type: ignore[index]
    assert check_name(rule.kind, "a" * rule.min_length) is None
    assert check_name(rule.kind, "a" * rule.max_length) is None
    too_long = check_name(rule.kind, "a" * (rule.max_length + 1))
    assert too_long is not None
    assert str(rule.max_length) in too_long
    if rule.min_length > 1:
        assert check_name(rule.kind, "a" * (rule.min_length - 1)) is not None


@pytest.mark.parametrize(
    ("kind", "value", "fragment"),
    [
        ("instance", "a", "2-30 characters"),
        ("instance", "-ab", "starting with a letter or digit"),
        ("snapshot", "  ", "blank"),
        ("ssh_key", "with space", "may only contain"),
        ("firewall", "tab\tname", "may only contain"),
    ],
)
def test_name_problems_are_explained(kind: str, value: str, fragment: str) -> None:
    problem = check_name(kind, value)  # type: ignore[arg-type]
    assert problem is not None
    assert fragment in problem


def test_an_unknown_name_kind_is_an_error() -> None:
    with pytest.raises(KeyError):
        check_name("planet", "earth")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ({"protocol": "TCP", "port_range_min": 80, "port_range_max": 80}, None),
        ({"protocol": "ICMP", "port_range_min": None, "port_range_max": None}, None),
        ({"protocol": "ICMP", "port_range_min": 8, "port_range_max": 8}, "only allowed for TCP"),
        ({"protocol": "TCP", "port_range_min": 90, "port_range_max": 80}, "must not exceed"),
        ({"protocol": "UDP", "port_range_min": 0, "port_range_max": 80}, "1-65535"),
        ({"protocol": "UDP", "port_range_min": 53, "port_range_max": None}, "both"),
        ({"protocol": "TCP", "remote_cidr": "2001:db8::/32"}, "ethertype is IPv4"),
        ({"protocol": "TCP", "remote_cidr": "192.168.1.5/24"}, "did you mean '192.168.1.0/24'"),
    ],
)
def test_security_rule_check(rule: dict[str, object], fragment: str | None) -> None:
    arguments: dict[str, object] = {
        "ethertype": "IPv4",
        "port_range_min": None,
        "port_range_max": None,
        "remote_cidr": None,
        **rule,
    }
    problem = check_security_rule(**arguments)  # type: ignore[arg-type]
    if fragment is None:
        assert problem is None
    else:
        assert problem is not None
        assert fragment in problem


@pytest.mark.parametrize(
    ("size_gb", "bootable", "image_id", "ok"),
    [
        (100, False, None, True),
        (1000, False, None, True),
        (99, False, None, False),
        (1001, False, None, False),
        (10, False, None, False),  # the old standard minimum is gone: 100 GB for every volume
        (100, True, "os-1", True),
        (99, True, "os-1", False),
        (1001, True, "os-1", False),
        (100, True, None, False),
        (500, False, "os-1", False),
    ],
)
def test_volume_check(size_gb: int, bootable: bool, image_id: str | None, ok: bool) -> None:
    assert (check_volume(size_gb, bootable, image_id) is None) is ok


@pytest.mark.parametrize(
    ("size_gb", "bootable", "image_id", "fragment"),
    [
        (99, False, None, "size_gb must be 100-1000"),
        (100, True, None, "needs image_id"),
        (100, False, "os-1", "set bootable"),
    ],
)
def test_volume_problems_name_the_field(
    size_gb: int, bootable: bool, image_id: str | None, fragment: str
) -> None:
    problem = check_volume(size_gb, bootable, image_id)
    assert problem is not None
    assert fragment in problem


def test_volume_types_sit_in_their_tiers() -> None:
    assert VOLUME_TYPE_TIERS == {"SSD": "legacy", "HDD": "advanced", "NVMe": "advanced"}
    assert (VOLUME_MIN_GB, VOLUME_MAX_GB) == (100, 1000)
