"""Utilisation profiles: what an instance's GPUs do over simulated time.

A profile is a base preset plus a list of segments. Each segment starts at ``at`` (an
RFC 3339 time, or an offset in seconds from the moment the profile is set, negative for
the past) and holds until the next one; it gives either fixed ``util`` (percent) and
``mem_mib`` (MiB used per GPU), or a ``preset``. ``repeat_every`` (seconds) makes the
segments a cycle. Presets:

* ``idle``: 0-2 % utilisation, a few hundred MiB (the driver's context).
* ``busy``: 85-100 %, 60-95 % of the GPU's memory.
* ``spiky``: busy for 5 minutes of every 30, idle otherwise (phase fixed per instance).

Noise is a pure function of the instance and the sample time, so a query gives the same
answer however often it is asked.
"""

from __future__ import annotations

import bisect
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "PRESETS",
    "ProfileSpec",
    "SegmentSpec",
    "UtilisationProfile",
    "resolve_profile",
]

Preset = Literal["idle", "busy", "spiky"]
PRESETS: Final[tuple[str, ...]] = ("idle", "busy", "spiky")

_SPIKE_PERIOD: Final = 1800
_SPIKE_LENGTH: Final = 300


class SegmentSpec(BaseModel):
    """One segment of a profile (the wire form)."""

    model_config = ConfigDict(extra="forbid")

    at: datetime | float = Field(
        description="RFC 3339 time, or seconds from when the profile is set (negative: past)."
    )
    util: Annotated[float, Field(ge=0, le=100)] | None = None
    mem_mib: Annotated[int, Field(ge=0)] | None = None
    preset: Preset | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SegmentSpec:
        if self.preset is None and self.util is None:
            raise ValueError("a segment needs util (and optionally mem_mib), or a preset")
        if self.preset is not None and (self.util is not None or self.mem_mib is not None):
            raise ValueError("a segment has either a preset or util/mem_mib, not both")
        return self


class ProfileSpec(BaseModel):
    """A utilisation profile as sent to ``PUT /_sim/instances/{id}/gpu-utilization``."""

    model_config = ConfigDict(extra="forbid")

    preset: Preset = Field(default="idle", description="What the GPUs do outside segments.")
    segments: list[SegmentSpec] = Field(default_factory=list)
    repeat_every: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="Repeat the segments with this period (seconds)."
    )


@dataclass(frozen=True, slots=True)
class _Segment:
    start: float
    util: float | None
    mem_mib: int | None
    preset: str | None


def _noise(key: int, moment: float, salt: int) -> float:
    """A number in [0, 1) fixed by the instance, the second and a salt (cheap, no RNG)."""
    return (zlib.crc32(b"%d:%d:%d" % (key, int(moment), salt)) & 0xFFFF) / 65536.0


class UtilisationProfile:
    """A resolved profile, evaluated at Unix times.

    Args:
        spec: the profile as given.
        anchor: the moment offsets count from.
        key: a per-instance number that fixes the noise and the spike phase.
        memory_mib: one GPU's memory (busy uses a share of it).
    """

    def __init__(self, spec: ProfileSpec, anchor: datetime, key: int, memory_mib: int) -> None:
        self.spec = spec
        self.key = key
        self.memory_mib = memory_mib
        origin = anchor.timestamp()
        segments = sorted(
            (
                _Segment(
                    s.at.timestamp() if isinstance(s.at, datetime) else origin + s.at,
                    s.util,
                    s.mem_mib,
                    s.preset,
                )
                for s in spec.segments
            ),
            key=lambda seg: seg.start,
        )
        self._segments = segments
        self._starts = [s.start for s in segments]
        self._period = spec.repeat_every

    def sample(self, moment: float) -> tuple[float, float]:
        """(utilisation percent, memory used MiB) of each GPU at Unix time ``moment``."""
        segment = self._segment_at(moment)
        if segment is None:
            return self._preset(self.spec.preset, moment)
        if segment.preset is not None:
            return self._preset(segment.preset, moment)
        util = float(segment.util or 0.0)
        mem = float(segment.mem_mib) if segment.mem_mib is not None else self._default_mem(util)
        return util, mem

    def _segment_at(self, moment: float) -> _Segment | None:
        if not self._segments:
            return None
        if self._period is not None and moment >= self._starts[0]:
            moment = self._starts[0] + (moment - self._starts[0]) % self._period
        index = bisect.bisect_right(self._starts, moment) - 1
        return self._segments[index] if index >= 0 else None

    def _default_mem(self, util: float) -> float:
        return round(400 + self.memory_mib * 0.9 * util / 100)

    def _preset(self, preset: str, moment: float) -> tuple[float, float]:
        if preset == "spiky":
            phase = (moment + self.key % _SPIKE_PERIOD) % _SPIKE_PERIOD
            preset = "busy" if phase < _SPIKE_LENGTH else "idle"
        if preset == "busy":
            util = 85 + 15 * _noise(self.key, moment, 1)
            mem = self.memory_mib * (0.6 + 0.35 * _noise(self.key, moment // 600, 2))
            return round(util, 1), float(round(mem))
        util = 2 * _noise(self.key, moment, 3)
        mem = 300 + 300 * _noise(self.key, moment // 3600, 4)
        return round(util, 1), float(round(mem))


def resolve_profile(
    spec: ProfileSpec, anchor: datetime, instance_id: str, memory_gb: int
) -> UtilisationProfile:
    """A profile for one instance, offsets counted from ``anchor``."""
    key = zlib.crc32(instance_id.encode())
    return UtilisationProfile(spec, anchor, key, memory_gb * 1024)
