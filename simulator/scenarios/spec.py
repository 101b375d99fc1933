"""The scenario file format: a YAML document validated by these models.

Unknown keys are errors, and every error names its place in the document
(``instances[2].gpu_model: ...``), so a typo never becomes a silent default. Durations
are written ``90s``, ``5m``, ``2h``, ``3d`` or as seconds; ``age`` is how long before the
simulated start something happened, so a scenario fits any start time.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from barrack.models._types import (
    FirewallName,
    ImageName,
    InstanceName,
    PublicKey,
    SnapshotName,
    SshKeyName,
    VolumeName,
)
from simulator.seed_data import GPU_COUNTS, GPU_SPECS, OS_IMAGES, REGIONS
from simulator.telemetry.profiles import ProfileSpec
from simulator.timeparse import parse_duration

__all__ = [
    "AccountSpec",
    "FirewallSpec",
    "GenerateSpec",
    "ImageSpec",
    "InstanceSpec",
    "PriceSpec",
    "RegionSpec",
    "SSHKeySpec",
    "ScenarioError",
    "ScenarioSpec",
    "SnapshotSeriesSpec",
    "SnapshotSpec",
    "StockSpec",
    "VolumeSpec",
    "parse_scenario_yaml",
    "validate_scenario",
]


class ScenarioError(ValueError):
    """A scenario file is wrong; the message names the field and the problem."""


def _seconds(value: object) -> float:
    if not isinstance(value, str | int | float):
        raise ValueError("a duration is a number of seconds or text such as 90s, 5m, 2h, 3d")
    seconds = parse_duration(value)
    if seconds < 0:
        raise ValueError("a duration must not be negative")
    return seconds


Duration = Annotated[float, BeforeValidator(_seconds)]
RegionName = Literal["NORWAY-1", "CANADA-1", "US-1"]
GpuModel = Literal[
    "H100-SXM5-80GB",
    "H100-PCIe-NVLink-80GB",
    "H100-PCIe-80GB",
    "A100-SXM4-80GB-NVLink",
    "A100-PCIe-80GB",
    "L40",
    "RTX-A6000",
    "A40",
    "B300-262GB",
]
OSImageKey = Literal[
    "ubuntu-22-04-cuda-12-4", "ubuntu-24-04-cuda-12-6", "ubuntu-22-04", "debian-12-cuda-12-4"
]
SettledStatus = Literal["ACTIVE", "SHUTOFF", "HIBERNATED", "ERROR"]
Currency = Literal["USD", "EUR", "INR"]

# The schema spells out the seed data's names so a typo is caught with the choices listed.
assert set(GPU_SPECS) == set(get_args(GpuModel))
assert {r.name for r in REGIONS} == set(get_args(RegionName))
assert {i.key for i in OS_IMAGES} == set(get_args(OSImageKey))


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountSpec(_Spec):
    """The account: currency, credit and profile.

    Give ``balance`` or ``runway_hours`` (the balance that lasts that long at the
    scenario's burn rate), not both; neither means 100.00.
    """

    currency: Currency = "USD"
    balance: Decimal | None = None
    runway_hours: Annotated[float, Field(gt=0)] | None = None
    profile_complete: bool = True

    @model_validator(mode="after")
    def _one_balance(self) -> AccountSpec:
        if self.balance is not None and self.runway_hours is not None:
            raise ValueError("give balance or runway_hours, not both")
        return self


class RegionSpec(_Spec):
    """Overrides of one region."""

    available: bool = True
    location: str | None = None


class StockSpec(_Spec):
    """Free GPUs of one model in one region at the start."""

    region: RegionName
    gpu_model: GpuModel
    available: Annotated[int, Field(ge=0)]


class PriceSpec(_Spec):
    """An hourly price override of one GPU in one currency."""

    gpu_model: GpuModel
    currency: Currency
    price_per_hour: Annotated[Decimal, Field(ge=0)]


class SSHKeySpec(_Spec):
    """An SSH key; without ``public_key`` one is generated."""

    name: SshKeyName
    public_key: PublicKey | None = None


class InstanceSpec(_Spec):
    """An instance that exists when the scenario starts."""

    name: InstanceName
    region: RegionName
    gpu_model: GpuModel
    gpu_count: Annotated[int, Field(description="1, 2, 4 or 8")] = 1
    status: SettledStatus = "ACTIVE"
    age: Duration = 86400.0
    status_age: Duration | None = Field(
        default=None, description="How long it has been in its status (default: since boot)."
    )
    image: OSImageKey = "ubuntu-22-04-cuda-12-4"
    public_ip: bool = True
    ssh_keys: list[str] | None = Field(default=None, description="Key names; default: all.")
    utilization: ProfileSpec | None = None

    @model_validator(mode="after")
    def _check(self) -> InstanceSpec:
        if self.gpu_count not in GPU_COUNTS:
            raise ValueError(f"gpu_count must be one of {list(GPU_COUNTS)}, got {self.gpu_count}")
        if self.status_age is not None and self.status_age > self.age:
            raise ValueError("status_age cannot exceed age")
        return self


class SnapshotSpec(_Spec):
    """A snapshot taken before the start."""

    name: SnapshotName
    instance: str = Field(description="Name of an instance of the scenario.")
    age: Duration = 3600.0
    description: str | None = None
    status: Literal["SUCCESS", "ERROR"] = "SUCCESS"


class SnapshotSeriesSpec(_Spec):
    """One snapshot a day at a fixed UTC slot, for the last ``days`` days.

    ``name`` and ``description`` are templates: ``{instance}`` is the instance name and
    ``{slot}`` the slot time, formatted with strftime codes (``{slot:%Y%m%d}``).
    """

    instance: str
    days: Annotated[int, Field(ge=1, le=3650)]
    slot: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "02:00"
    name: str = "auto-{instance}-{slot:%Y%m%d-%H%M}"
    description: str | None = "managed-by=barrack-ops policy=nightly slot={slot:%Y-%m-%dT%H:%MZ}"


class ImageSpec(_Spec):
    """A custom image built on a snapshot of the scenario."""

    name: ImageName
    snapshot: str = Field(description="Name of a snapshot of the scenario.")
    description: str | None = None


class VolumeSpec(_Spec):
    """A volume, optionally attached to an instance of its region."""

    name: VolumeName
    region: RegionName
    size_gb: Annotated[int, Field(ge=100, le=1000)]
    volume_type: Literal["SSD", "HDD", "NVMe"] = "SSD"
    bootable: bool = False
    image: OSImageKey | None = None
    attach_to: str | None = Field(default=None, description="Name of an ACTIVE instance.")
    age: Duration = 86400.0


class FirewallRuleSpec(_Spec):
    """A firewall rule."""

    direction: Literal["ingress", "egress"] = "ingress"
    protocol: Literal["TCP", "UDP", "ICMP"] = "TCP"
    ethertype: Literal["IPv4", "IPv6"] = "IPv4"
    port_range_min: Annotated[int, Field(ge=1, le=65535)] | None = None
    port_range_max: Annotated[int, Field(ge=1, le=65535)] | None = None
    remote_cidr: str | None = None
    description: str | None = None


class FirewallSpec(_Spec):
    """A firewall, optionally attached to instances of its region."""

    name: FirewallName
    region: RegionName
    description: str | None = None
    rules: list[FirewallRuleSpec] = Field(default_factory=list)
    attach_to: list[str] = Field(default_factory=list)


def _default_statuses() -> dict[SettledStatus, float]:
    return {"ACTIVE": 0.8, "SHUTOFF": 0.1, "HIBERNATED": 0.1}


class GenerateSpec(_Spec):
    """Generate a large fleet (benchmarks): instances spread over regions and models."""

    instances: Annotated[int, Field(ge=0, le=100_000)] = 0
    snapshots_per_instance: Annotated[int, Field(ge=0, le=1000)] = 0
    name_prefix: str = "node"
    regions: list[RegionName] | None = None
    statuses: dict[SettledStatus, Annotated[float, Field(ge=0)]] = Field(
        default_factory=_default_statuses
    )
    utilization: Literal["idle", "busy", "spiky", "mixed"] = "mixed"


class ScenarioSpec(_Spec):
    """A whole scenario."""

    name: str = "custom"
    description: str | None = None
    seed: int | None = None
    account: AccountSpec = Field(default_factory=AccountSpec)
    regions: dict[RegionName, RegionSpec] = Field(default_factory=dict)
    stock: list[StockSpec] = Field(default_factory=list)
    prices: list[PriceSpec] = Field(default_factory=list)
    ssh_keys: list[SSHKeySpec] = Field(default_factory=list)
    instances: list[InstanceSpec] = Field(default_factory=list)
    snapshots: list[SnapshotSpec] = Field(default_factory=list)
    snapshot_series: list[SnapshotSeriesSpec] = Field(default_factory=list)
    images: list[ImageSpec] = Field(default_factory=list)
    volumes: list[VolumeSpec] = Field(default_factory=list)
    firewalls: list[FirewallSpec] = Field(default_factory=list)
    generate: GenerateSpec | None = None

    @model_validator(mode="after")
    def _references(self) -> ScenarioSpec:
        instances = {i.name: i for i in self.instances}
        if len(instances) != len(self.instances):
            raise ValueError("instance names must be unique")
        snapshot_names = {s.name for s in self.snapshots}
        for where, ref in (
            *((f"snapshots[{n}].instance", s.instance) for n, s in enumerate(self.snapshots)),
            *(
                (f"snapshot_series[{n}].instance", s.instance)
                for n, s in enumerate(self.snapshot_series)
            ),
            *(
                (f"volumes[{n}].attach_to", v.attach_to)
                for n, v in enumerate(self.volumes)
                if v.attach_to is not None
            ),
            *(
                (f"firewalls[{n}].attach_to", name)
                for n, f in enumerate(self.firewalls)
                for name in f.attach_to
            ),
        ):
            if ref not in instances:
                raise ValueError(f"{where}: no instance named {ref!r} in this scenario")
        for n, image in enumerate(self.images):
            if image.snapshot not in snapshot_names:
                raise ValueError(f"images[{n}].snapshot: no snapshot named {image.snapshot!r}")
        keys = {k.name for k in self.ssh_keys}
        for n, instance in enumerate(self.instances):
            for key in instance.ssh_keys or ():
                if key not in keys:
                    raise ValueError(f"instances[{n}].ssh_keys: no SSH key named {key!r}")
        return self


def _where(location: tuple[int | str, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "scenario"


def validate_scenario(data: object) -> ScenarioSpec:
    """Validate a parsed scenario document.

    Raises:
        ScenarioError: naming every bad field (``instances[2].gpu_model: ...``).
    """
    if not isinstance(data, dict):
        raise ScenarioError("a scenario is a mapping (name:, account:, instances: ...)")
    try:
        return ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{_where(tuple(err['loc']))}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False)
        ]
        raise ScenarioError("invalid scenario: " + "; ".join(problems)) from None


def parse_scenario_yaml(text: str) -> ScenarioSpec:
    """Parse and validate a scenario written in YAML.

    Raises:
        ScenarioError: the YAML does not parse, or a field is wrong (named in the message).
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"scenario YAML does not parse: {exc}") from None
    return validate_scenario(data)
