"""Every operation of the API: the request on the wire and the parsed answer.

The table covers each route of ``barrack._wire.ROUTES`` exactly once (a test checks it),
so an operation without a client method, or one sent to the wrong path, fails here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from barrack import AsyncBarrack, AsyncPaginator
from barrack._wire import ROUTES
from tests.barrack.conftest import Recorder, envelope, flat
from tests.barrack.test_wire import B1_PAYLOAD

T0 = "2026-11-27T02:00:00Z"
FLAVOR = {
    "name": "1x-H100-SXM5-80GB",
    "gpu_model": "H100-SXM5-80GB",
    "gpu_count": 1,
    "vcpus": 26,
    "ram_gb": 200,
    "disk_gb": 500,
}
VM = {
    "id": "BRK-7Q2M4XD",
    "name": "trainer-1",
    "status": "ACTIVE",
    "region": "CANADA-1",
    "flavor": FLAVOR,
    "boot_source": "os_image",
    "ip_address": "203.0.113.7",
    "hourly_price": 2.69,
    "currency": "USD",
    "tier": "advanced",
    "created_at": T0,
}
SNAP = {
    "id": "snap-1",
    "name": "nightly",
    "status": "SUCCESS",
    "region": "CANADA-1",
    "instance_id": "BRK-7Q2M4XD",
    "size_gb": 120,
    "created_at": T0,
}
VOLUME = {
    "id": "vol-1",
    "name": "data",
    "region": "US-1",
    "size_gb": 100,
    "status": "available",
    "created_at": T0,
}
RULE = {
    "id": "rule-1",
    "direction": "ingress",
    "protocol": "TCP",
    "port_range_min": 22,
    "port_range_max": 22,
    "remote_cidr": "0.0.0.0/0",
}
FIREWALL = {"id": "fw-1", "name": "ssh", "region": "US-1", "rules": [RULE], "created_at": T0}
SCRIPT = {"id": "scr-1", "name": "setup", "content": "#!/bin/bash\necho hi\n"}
KEY = {"id": "key-1", "name": "laptop", "public_key": "ssh-ed25519 AAAA"}
IMAGE = {
    "id": "img-1",
    "name": "golden",
    "status": "available",
    "snapshot_id": "snap-1",
    "created_at": T0,
}
BILLING = {
    "resource_id": "BRK-7Q2M4XD",
    "resource_type": "instance",
    "currency": "USD",
    "total": 4.035,
    "records": [
        {
            "start": T0,
            "end": "2026-11-27T03:30:00Z",
            "status": "ACTIVE",
            "minutes": "90",
            "rate_per_hour": 2.69,
            "amount": 4.035,
        }
    ],
}
PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBaYhO8wI6nZ3l1rXK2xHtOi0uYQzY4h6s8c0bq8fR1x laptop"
)
START = datetime(2026, 11, 1, tzinfo=UTC)
GPU_PRICING = {
    "pricing": {
        "legacy": {
            "L40": {
                "prices": {"USD": 1.19, "EUR": 1.09, "INR": 99},
                "max_count": 8,
                "unit": "per GPU per hour",
            }
        }
    },
    "description": "GPU pricing by model and tier",
}


def action(status: str | None) -> dict[str, Any]:
    """An instance action's flat answer (B1): the instance, its new status, its tier."""
    answer: dict[str, Any] = {"instance_id": "BRK-7Q2M4XD", "tier": "advanced"}
    if status is not None:
        answer["status"] = status
    return answer


@dataclass
class Case:
    operation: str
    call: Callable[[AsyncBarrack], Awaitable[Any] | AsyncPaginator[Any]]
    path: str
    payload: Any
    """The payload under the route's key, or a flat answer's fields (B1)."""
    status: int = 200
    body: dict[str, Any] | None = None
    query: dict[str, str] = field(default_factory=dict)
    check: Callable[[Any], bool] = lambda result: True


CASES = [
    Case(
        "balance.get",
        lambda c: c.balance.get(),
        "/api/balance/",
        {"balance": 42.17, "currency": "EUR", "updated_at": T0},
        check=lambda b: b.balance == Decimal("42.17") and b.currency == "EUR",
    ),
    Case(
        "gpu_stocks.list",
        lambda c: c.gpu_stocks.list(region="US-1"),
        "/api/gpu-stocks/",
        [
            {
                "region": "US-1",
                "gpu_model": "A40",
                "available": 6,
                "configurations": [{"gpu_count": 2, "available": 3}],
            }
        ],
        query={"region": "US-1"},
        check=lambda s: s[0].configurations[0].available == 3,
    ),
    Case(
        "gpu_specs.list",
        lambda c: c.gpu_specs.list(),
        "/api/gpu-specs/",
        [{"gpu_model": "L40", "specs": {"gpu_memory_gb": 48}}],
        check=lambda s: s[0].specs.gpu_memory_gb == 48,
    ),
    Case(
        "regions.list",
        lambda c: c.regions.list(),
        "/api/regions/",
        [{"name": "NORWAY-1", "location": "Oslo", "available": True}],
        check=lambda r: r[0].name == "NORWAY-1",
    ),
    Case(
        "pricing.list",
        lambda c: c.pricing.get(gpu_model="L40", tier="legacy"),
        "/api/pricing/",
        {"gpus": GPU_PRICING},
        query={"gpu_model": "L40", "tier": "legacy"},
        check=lambda p: (
            p.gpus.pricing["legacy"]["L40"].prices["USD"] == Decimal("1.19")
            and p.gpus.pricing["legacy"]["L40"].max_count == 8
        ),
    ),
    Case(
        "pricing.quote",
        lambda c: c.pricing.quote(gpu_model="L40", gpu_count=2, resource_type="gpus"),
        "/api/pricing/",
        {"gpus": GPU_PRICING},
        body={"gpu_model": "L40", "gpu_count": 2, "resource_type": "gpus"},
        # Part C's C1: the same fields as query parameters too.
        query={"gpu_model": "L40", "gpu_count": "2", "resource_type": "gpus"},
        check=lambda p: p.gpus.pricing["legacy"]["L40"].prices["INR"] == Decimal("99"),
    ),
    Case(
        "instances.create",
        lambda c: c.instances.create(
            name="trainer-1",
            region="CANADA-1",
            gpu_model="H100-SXM5-80GB",
            image_id="os-1",
            ssh_key_ids=["key-1"],
        ),
        "/api/instances/",
        {**VM, "status": "CREATING", "ip_address": None},
        status=201,
        body={
            "name": "trainer-1",
            "region": "CANADA-1",
            "gpu_model": "H100-SXM5-80GB",
            "gpu_count": 1,
            "image_id": "os-1",
            "ssh_key_ids": ["key-1"],
            "public_ip": True,
            "security_rules": [],
        },
        check=lambda vm: vm.status == "CREATING" and vm.ip_address is None,
    ),
    Case(
        "instances.list",
        lambda c: c.instances.list(status="ACTIVE", per_page=10).to_list(),
        "/api/instances/",
        [VM],
        query={"status": "ACTIVE", "page": "1", "per_page": "10"},
        check=lambda vms: vms[0].hourly_price == Decimal("2.69"),
    ),
    Case(
        "instances.list_hibernated",
        lambda c: c.instances.list_hibernated(),
        "/api/instances/hibernated/",
        {
            "instances": [{"instance_id": "BRK-1", "hourly_price": "0.01"}],
            "metrics": {"hibernated_count": 1, "currency": "USD"},
        },
        check=lambda h: h.metrics.hibernated_count == 1,
    ),
    Case(
        "instances.get",
        lambda c: c.instances.get("BRK-7Q2M4XD"),
        "/api/instances/BRK-7Q2M4XD/",
        VM,
        check=lambda vm: vm.flavor.gpu_model == "H100-SXM5-80GB",
    ),
    Case(
        "instances.billing",
        lambda c: c.instances.billing("BRK-7Q2M4XD", start=START),
        "/api/instances/BRK-7Q2M4XD/billing/",
        BILLING,
        query={"start": "2026-11-01T00:00:00Z"},
        check=lambda b: b.total == Decimal("4.0350"),
    ),
    Case(
        "instances.start",
        lambda c: c.instances.start("BRK-7Q2M4XD"),
        "/api/instances/BRK-7Q2M4XD/start/",
        action("STARTING"),
        status=202,
        check=lambda a: a.status == "STARTING" and a.tier == "advanced",
    ),
    Case(
        "instances.stop",
        lambda c: c.instances.stop("BRK-7Q2M4XD"),
        "/api/instances/BRK-7Q2M4XD/stop/",
        action("STOPPING"),
        status=202,
        check=lambda a: a.status == "STOPPING" and a.instance_id == "BRK-7Q2M4XD",
    ),
    Case(
        "instances.reboot",
        lambda c: c.instances.reboot("BRK-7Q2M4XD"),
        "/api/instances/BRK-7Q2M4XD/reboot/",
        action("REBOOTING"),
        status=202,
        check=lambda a: a.status == "REBOOTING",
    ),
    Case(
        "instances.hibernate",
        lambda c: c.instances.hibernate("BRK-7Q2M4XD"),
        "/api/instances/BRK-7Q2M4XD/hibernate/",
        action("HIBERNATING"),
        status=202,
        check=lambda a: a.status == "HIBERNATING" and a.instance_id == "BRK-7Q2M4XD",
    ),
    Case(
        "instances.restore_hibernated",
        lambda c: c.instances.restore_hibernated("BRK-7Q2M4XD"),
        "/api/instances/BRK-7Q2M4XD/hibernate-restore/",
        action("RESTORING"),
        status=202,
        check=lambda a: a.status == "RESTORING",
    ),
    Case(
        "instances.toggle_public_ip",
        lambda c: c.instances.set_public_ip("BRK-7Q2M4XD", enabled=False),
        "/api/instances/BRK-7Q2M4XD/public-ip/",
        {**action(None), "public_ip_enabled": False},
        body={"enabled": False},
        check=lambda a: a.public_ip_enabled is False and a.instance_id == "BRK-7Q2M4XD",
    ),
    Case(
        "instances.add_security_rule",
        lambda c: c.instances.add_security_rule(
            "BRK-7Q2M4XD",
            direction="ingress",
            protocol="TCP",
            port_range_min=22,
            port_range_max=22,
            remote_cidr="0.0.0.0/0",
        ),
        "/api/instances/BRK-7Q2M4XD/security-rules/",
        {"instance_id": "BRK-7Q2M4XD", "rule_id": "rule-1", "tier": "advanced"},
        status=201,
        body={
            "direction": "ingress",
            "protocol": "TCP",
            "ethertype": "IPv4",
            "port_range_min": 22,
            "port_range_max": 22,
            "remote_cidr": "0.0.0.0/0",
        },
        check=lambda r: r.rule_id == "rule-1" and r.instance_id == "BRK-7Q2M4XD",
    ),
    Case(
        "instances.remove_security_rule",
        lambda c: c.instances.remove_security_rule("BRK-7Q2M4XD", "rule-1"),
        "/api/instances/BRK-7Q2M4XD/security-rules/rule-1/",
        {"instance_id": "BRK-7Q2M4XD", "rule_id": "rule-1", "tier": "advanced"},
        check=lambda r: (r.instance_id, r.rule_id, r.tier) == ("BRK-7Q2M4XD", "rule-1", "advanced"),
    ),
    Case(
        "instances.delete",
        lambda c: c.instances.delete("BRK-7Q2M4XD"),
        "/api/instances/BRK-7Q2M4XD/",
        action("DELETING"),
        check=lambda a: a.status == "DELETING" and a.instance_id == "BRK-7Q2M4XD",
    ),
    Case(
        "instances.firewalls",
        lambda c: c.instances.firewalls("BRK-7Q2M4XD"),
        "/api/instances/BRK-7Q2M4XD/firewalls/",
        [{"id": "fw-1", "name": "ssh", "rules": [RULE]}],
        check=lambda fws: fws[0].rules[0].port_range_min == 22,
    ),
    Case(
        "instances.attach_volumes",
        lambda c: c.instances.attach_volumes("BRK-7Q2M4XD", ["vol-1"]),
        "/api/instances/BRK-7Q2M4XD/volumes/attach/",
        [{**VOLUME, "instance_id": "BRK-7Q2M4XD"}],
        body={"volume_ids": ["vol-1"]},
        check=lambda v: v[0].instance_id == "BRK-7Q2M4XD",
    ),
    Case(
        "instances.detach_volumes",
        lambda c: c.instances.detach_volumes("BRK-7Q2M4XD", ["vol-1"]),
        "/api/instances/BRK-7Q2M4XD/volumes/detach/",
        [VOLUME],
        body={"volume_ids": ["vol-1"]},
    ),
    Case(
        "os_images.list",
        lambda c: c.os_images.list(region="US-1"),
        "/api/os-images/",
        [{"id": "os-1", "name": "Ubuntu 22.04", "region": "US-1", "size_gb": 20}],
        query={"region": "US-1"},
    ),
    Case("ssh_keys.list", lambda c: c.ssh_keys.list(), "/api/ssh-keys/", [KEY]),
    Case("ssh_keys.get", lambda c: c.ssh_keys.get("key-1"), "/api/ssh-keys/key-1/", KEY),
    Case(
        "ssh_keys.create",
        lambda c: c.ssh_keys.create(name="laptop", public_key=PUBLIC_KEY),
        "/api/ssh-keys/",
        KEY,
        status=201,
        body={"name": "laptop", "public_key": PUBLIC_KEY},
    ),
    Case(
        "ssh_keys.delete",
        lambda c: c.ssh_keys.delete("key-1"),
        "/api/ssh-keys/key-1/",
        {"ssh_key_id": "key-1"},
        check=lambda result: result is None,
    ),
    Case(
        "volumes.list",
        lambda c: c.volumes.list(region="US-1"),
        "/api/volumes/",
        {"volumes": [VOLUME], "next_name": "volume-2"},
        query={"region": "US-1"},
        check=lambda v: v.next_name == "volume-2",
    ),
    Case(
        "volumes.create",
        lambda c: c.volumes.create(name="data", region="US-1", size_gb=100),
        "/api/volumes/",
        VOLUME,
        status=201,
        body={
            "name": "data",
            "region": "US-1",
            "size_gb": 100,
            "volume_type": "SSD",
            "bootable": False,
        },
        check=lambda v: v.volume_type == "SSD" and v.bootable is False,
    ),
    Case("volumes.get", lambda c: c.volumes.get("vol-1"), "/api/volumes/vol-1/", VOLUME),
    Case(
        "volumes.delete",
        lambda c: c.volumes.delete("vol-1"),
        "/api/volumes/vol-1/",
        {"volume_id": "vol-1"},
    ),
    Case(
        "volumes.resize",
        lambda c: c.volumes.resize("vol-1", size_gb=200),
        "/api/volumes/vol-1/resize/",
        {**VOLUME, "size_gb": 200},
        body={"size_gb": 200},
        check=lambda v: v.size_gb == 200,
    ),
    Case(
        "volumes.clone",
        lambda c: c.volumes.clone("vol-1", name="data-copy"),
        "/api/volumes/vol-1/clone/",
        {**VOLUME, "id": "vol-2", "name": "data-copy"},
        status=201,
        body={"name": "data-copy"},
    ),
    Case(
        "volumes.types",
        lambda c: c.volumes.types(),
        "/api/volume-types/",
        [
            {
                "name": "NVMe",
                "tier": "advanced",
                "min_size_gb": 100,
                "max_size_gb": 1000,
                "price_per_tb_hour": 0.3,
            }
        ],
        check=lambda t: t[0].name == "NVMe" and t[0].price_per_tb_hour == Decimal("0.3"),
    ),
    Case(
        "volumes.billing",
        lambda c: c.volumes.billing("vol-1"),
        "/api/volumes/vol-1/billing/",
        {
            "records": [],
            "summary": {"volume_id": "vol-1", "currency": "USD", "total_amount": 0.25},
        },
        check=lambda b: b.summary.total_amount == Decimal("0.25"),
    ),
    Case("firewalls.list", lambda c: c.firewalls.list(), "/api/firewalls/", [FIREWALL]),
    Case(
        "firewalls.protocols",
        lambda c: c.firewalls.protocols(),
        "/api/firewalls/protocols/",
        [{"name": "TCP", "supports_ports": True}, {"name": "ICMP"}],
        check=lambda p: p[0].supports_ports and not p[1].supports_ports,
    ),
    Case("firewalls.get", lambda c: c.firewalls.get("fw-1"), "/api/firewalls/fw-1/", FIREWALL),
    Case(
        "firewalls.create",
        lambda c: c.firewalls.create(name="ssh", region="US-1"),
        "/api/firewalls/",
        FIREWALL,
        status=201,
        body={"name": "ssh", "region": "US-1", "rules": []},
    ),
    Case(
        "firewalls.delete",
        lambda c: c.firewalls.delete("fw-1"),
        "/api/firewalls/fw-1/",
        {"firewall_id": "fw-1"},
        check=lambda result: result is None,
    ),
    Case(
        "firewalls.available_instances",
        lambda c: c.firewalls.available_instances("fw-1"),
        "/api/firewalls/fw-1/available-instances/",
        [{"id": "BRK-7Q2M4XD", "name": "trainer-1", "status": "ACTIVE"}],
    ),
    Case(
        "firewalls.add_rule",
        lambda c: c.firewalls.add_rule("fw-1", direction="egress", protocol="ICMP"),
        "/api/firewalls/fw-1/rules/",
        {**RULE, "protocol": "ICMP", "port_range_min": None, "port_range_max": None},
        status=201,
        body={"direction": "egress", "protocol": "ICMP", "ethertype": "IPv4"},
    ),
    Case(
        "firewalls.remove_rule",
        lambda c: c.firewalls.remove_rule("fw-1", "rule-1"),
        "/api/firewalls/fw-1/rules/rule-1/",
        {"firewall_id": "fw-1", "rule_id": "rule-1"},
    ),
    Case(
        "firewalls.attach",
        lambda c: c.firewalls.attach("fw-1", ["BRK-7Q2M4XD"]),
        "/api/firewalls/fw-1/attach/",
        [{"firewall_id": "fw-1", "instance_id": "BRK-7Q2M4XD"}],
        body={"instance_ids": ["BRK-7Q2M4XD"]},
    ),
    Case("scripts.list", lambda c: c.scripts.list(), "/api/scripts/", [SCRIPT]),
    Case("scripts.get", lambda c: c.scripts.get("scr-1"), "/api/scripts/scr-1/", SCRIPT),
    Case(
        "scripts.create",
        lambda c: c.scripts.create(name="setup", content="#!/bin/bash\necho hi\n"),
        "/api/scripts/",
        SCRIPT,
        status=201,
        body={"name": "setup", "content": "#!/bin/bash\necho hi\n"},
    ),
    Case(
        "scripts.update",
        lambda c: c.scripts.update("scr-1", description="v2"),
        "/api/scripts/scr-1/",
        {**SCRIPT, "description": "v2"},
        body={"description": "v2"},
    ),
    Case(
        "scripts.delete",
        lambda c: c.scripts.delete("scr-1"),
        "/api/scripts/scr-1/",
        {"script_id": "scr-1"},
    ),
    Case(
        "scripts.delete_many",
        lambda c: c.scripts.delete_many(["scr-1", "scr-2"]),
        "/api/scripts/bulk-delete/",
        {"script_ids": ["scr-1", "scr-2"]},
        body={"ids": ["scr-1", "scr-2"]},
        check=lambda ids: ids == ["scr-1", "scr-2"],
    ),
    Case(
        "snapshots.list",
        lambda c: c.snapshots.list(instance_id="BRK-7Q2M4XD").to_list(),
        "/api/snapshots/",
        [SNAP],
        query={"instance_id": "BRK-7Q2M4XD", "page": "1", "per_page": "100"},
    ),
    Case(
        "snapshots.eligible_instances",
        lambda c: c.snapshots.eligible_instances(),
        "/api/snapshots/eligible-instances/",
        [{"id": "BRK-7Q2M4XD", "name": "trainer-1", "status": "ACTIVE"}],
    ),
    Case(
        "snapshots.get",
        lambda c: c.snapshots.get("snap-1"),
        "/api/snapshots/snap-1/",
        SNAP,
        check=lambda s: s.status.is_ready,
    ),
    Case(
        "snapshots.billing",
        lambda c: c.snapshots.billing("snap-1"),
        "/api/snapshots/snap-1/billing/",
        {**BILLING, "resource_type": "snapshot"},
    ),
    Case(
        "snapshots.create",
        lambda c: c.snapshots.create(
            instance_id="BRK-7Q2M4XD", name="nightly", description="managed-by=barrack-ops"
        ),
        "/api/snapshots/",
        {**SNAP, "status": "CREATING"},
        status=201,
        body={
            "instance_id": "BRK-7Q2M4XD",
            "name": "nightly",
            "description": "managed-by=barrack-ops",
            "create_image": False,
        },
    ),
    Case(
        "snapshots.delete",
        lambda c: c.snapshots.delete("snap-1"),
        "/api/snapshots/snap-1/",
        {"snapshot_id": "snap-1"},
    ),
    Case(
        "snapshots.restore",
        lambda c: c.snapshots.restore("snap-1", name="t1-us", region="US-1"),
        "/api/snapshots/snap-1/restore/",
        {
            **VM,
            "name": "t1-us",
            "region": "US-1",
            "status": "CREATING",
            "boot_source": "snapshot",
            "ip_address": None,
        },
        status=201,
        body={"name": "t1-us", "region": "US-1"},
        check=lambda vm: vm.boot_source == "snapshot",
    ),
    Case(
        "snapshots.image_relationship",
        lambda c: c.snapshots.image_relationship("snap-1"),
        "/api/snapshots/snap-1/image-relationship/",
        {"snapshot_id": "snap-1", "has_image": True, "image_ids": ["img-1"]},
        check=lambda r: r.image_ids == ["img-1"],
    ),
    Case(
        "snapshots.image_relationships",
        lambda c: c.snapshots.image_relationships(["snap-1", "snap-2"]),
        "/api/snapshots/image-relationships/",
        [{"snapshot_id": "snap-1", "has_image": True}, {"snapshot_id": "snap-2"}],
        body={"snapshot_ids": ["snap-1", "snap-2"]},
    ),
    Case("images.list", lambda c: c.images.list(), "/api/images/", [IMAGE]),
    Case("images.get", lambda c: c.images.get("img-1"), "/api/images/img-1/", IMAGE),
    Case(
        "images.create",
        lambda c: c.images.create(snapshot_id="snap-1", name="golden"),
        "/api/images/",
        IMAGE,
        status=201,
        body={"snapshot_id": "snap-1", "name": "golden"},
    ),
    Case(
        "images.delete",
        lambda c: c.images.delete("img-1"),
        "/api/images/img-1/",
        {"image_id": "img-1"},
    ),
    Case(
        "ai.models",
        lambda c: c.ai.models(),
        "/api/ai/models/",
        [{"id": "llama-3-70b", "input_price_per_million": 0.59}],
    ),
    Case(
        "ai.chat",
        lambda c: c.ai.chat(model="llama-3-70b", messages=[{"role": "user", "content": "hi"}]),
        "/api/ai/chat/completions/",
        {
            "id": "chat-1",
            "model": "llama-3-70b",
            "choices": [{"message": {"role": "assistant", "content": "hello"}}],
        },
        body={"model": "llama-3-70b", "messages": [{"role": "user", "content": "hi"}]},
        check=lambda c: c.choices[0].message.content == "hello",
    ),
    Case(
        "ai.usage_summary",
        lambda c: c.ai.usage_summary(start=START),
        "/api/ai/usage/summary/",
        {"total_cost": 1.25, "currency": "USD"},
        query={"start": "2026-11-01T00:00:00Z"},
    ),
    Case(
        "ai.usage_history",
        lambda c: c.ai.usage_history().to_list(),
        "/api/ai/usage/history/",
        [{"id": "tx-1", "model": "llama-3-70b", "created_at": T0, "cost": 0.01}],
        query={"page": "1", "per_page": "100"},
    ),
    Case(
        "billing.records",
        lambda c: c.billing.records(resource_type="gpus").to_list(),
        "/api/billing/records/",
        [
            {
                "resource_type": "gpus",
                "resource_id": "BRK-1A2B3C4",
                "resource_name": "train-1",
                "region": "CANADA-1",
                "start": T0,
                "end": None,
                "minutes": 90,
                "rate_per_hour": 2.1,
                "amount": 3.15,
                "currency": "USD",
            }
        ],
        query={"resource_type": "gpus", "page": "1", "per_page": "100"},
        check=lambda records: str(records[0].amount) == "3.15" and records[0].end is None,
    ),
    Case(
        "balance.transactions",
        lambda c: c.balance.transactions().to_list(),
        "/api/balance/transactions/",
        [{"id": "txn-1", "type": "top_up", "amount": 500, "currency": "USD", "created_at": T0}],
        query={"page": "1", "per_page": "100"},
        check=lambda rows: rows[0].type == "top_up" and str(rows[0].amount) == "500",
    ),
]


def test_the_table_covers_every_route_once() -> None:
    operations = [case.operation for case in CASES]
    assert len(operations) == len(set(operations))
    assert set(operations) == set(ROUTES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.operation)
async def test_operation(
    case: Case, make_client: Callable[..., AsyncBarrack], recorder: Recorder
) -> None:
    spec = ROUTES[case.operation]
    pagination = (
        {"page": 1, "per_page": 100, "total": 1, "total_pages": 1} if spec.paginated else None
    )
    # The answer's shape comes from B1 as transcribed in test_wire, not from the code.
    key = B1_PAYLOAD[case.operation]
    answer = (
        flat(**case.payload) if key is None else envelope(key, case.payload, pagination=pagination)
    )
    recorder.default = lambda request: httpx.Response(case.status, json=answer)
    result = case.call(make_client())
    result = await result  # type: ignore[misc]
    assert case.check(result)
    assert len(recorder.requests) == 1
    request = recorder.requests[0]
    assert request.method == spec.method
    assert request.url.path == case.path
    assert request.url.path.startswith("/api/")
    assert request.url.path.endswith("/")
    assert dict(request.url.params) == case.query
    sent = recorder.json_bodies()[0]
    assert sent == case.body
    assert ("Idempotency-Key" in request.headers) is (spec.method == "POST")
