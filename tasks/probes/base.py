"""What every GPU-utilisation probe takes and returns.

A probe is given the instances to look at, an evaluation time and a window, and returns
one :class:`UtilizationEvidence` per instance. It never raises for one instance's
trouble: an error, a timeout or an empty answer is written into that instance's evidence
(``error`` set, or no samples), and the recipe counts such an instance as busy.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = ["ProbeTarget", "UtilizationEvidence", "UtilizationProbe", "failed_evidence"]


class ProbeTarget(BaseModel):
    """One instance a probe looks at (plain data: Prefect records task inputs).

    Attributes:
        id: the Barrack instance id.
        name: the instance name (some Prometheus set-ups label series by name).
        region: where it runs.
        public_ip: its public address, if any (the ssh probe's default).
        private_ip: its private address, if any.
        gpu_count: GPUs in the instance.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    region: str = ""
    public_ip: str | None = None
    private_ip: str | None = None
    gpu_count: int = 1


class UtilizationEvidence(BaseModel):
    """What a probe saw of one instance's GPUs over a window.

    Utilisation and memory are the instance's busiest GPU at each sample (an 8-GPU
    machine training on one GPU is busy). ``largest_gap_seconds`` is the longest stretch
    of the window without a sample, counting the stretches before the first and after
    the last sample, so "the samples cover the window" reads ``largest_gap <= tolerance``.

    Attributes:
        instance_id: the instance.
        probe: which probe produced it (``prometheus``, ``ssh``).
        window_start: the start of the window looked at.
        window_end: the end of the window (the evaluation time).
        sample_count: samples (Prometheus steps with data, ssh observations).
        covered_from: the start of the first sample's interval.
        covered_to: the last sample's time.
        largest_gap_seconds: the longest stretch of the window without samples.
        gap_tolerance_seconds: how long a stretch without samples may be and the window
            still count as covered (the probe's resolution).
        max_util_pct: peak utilisation seen, percent.
        avg_util_pct: mean over the samples of the busiest GPU's utilisation.
        max_memory_mib: peak memory used on one GPU, MiB (None: not measured).
        gpus_seen: how many GPUs of the instance the samples came from (None: the probe
            cannot tell).
        gpus_expected: how many GPUs the instance has (None: not known to the probe).
        error: why the probe could not judge this instance (None when it could).
    """

    model_config = ConfigDict(extra="forbid")

    instance_id: str
    probe: str
    window_start: AwareDatetime
    window_end: AwareDatetime
    sample_count: int = Field(default=0, ge=0)
    covered_from: AwareDatetime | None = None
    covered_to: AwareDatetime | None = None
    largest_gap_seconds: float | None = Field(default=None, ge=0)
    gap_tolerance_seconds: float = Field(default=0, ge=0)
    max_util_pct: float | None = None
    avg_util_pct: float | None = None
    max_memory_mib: float | None = None
    gpus_seen: int | None = Field(default=None, ge=0)
    gpus_expected: int | None = Field(default=None, ge=0)
    error: str | None = None

    @property
    def window(self) -> timedelta:
        """The length of the window looked at."""
        return self.window_end - self.window_start

    def describe(self) -> str:
        """One line for reports: what was seen, over what, by which probe."""
        if self.error:
            return f"{self.probe} probe failed: {self.error}"
        if not self.sample_count:
            return f"{self.probe}: no samples"
        parts = [f"peak {_pct(self.max_util_pct)}"]
        if self.avg_util_pct is not None:
            parts.append(f"avg {_pct(self.avg_util_pct)}")
        if self.max_memory_mib is not None:
            parts.append(f"memory <= {self.max_memory_mib:,.0f} MiB")
        span = ""
        if self.covered_from is not None and self.covered_to is not None:
            span = f" {self.covered_from:%H:%M}-{self.covered_to:%H:%M}Z"
        if self.gpus_seen is not None and self.gpus_expected is not None:
            parts.append(f"{self.gpus_seen}/{self.gpus_expected} GPUs")
        return f"{', '.join(parts)}; {self.sample_count} sample(s){span} via {self.probe}"


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f} %"


def failed_evidence(
    target_id: str, probe: str, error: str, *, window_start: datetime, window_end: datetime
) -> UtilizationEvidence:
    """Evidence for an instance the probe could not judge (counts as busy)."""
    return UtilizationEvidence(
        instance_id=target_id,
        probe=probe,
        window_start=window_start,
        window_end=window_end,
        error=error,
    )


class UtilizationProbe(Protocol):
    """The interface of every probe."""

    @property
    def name(self) -> str:
        """The probe's name, as policies and reports call it."""
        ...

    async def collect(
        self, targets: Sequence[ProbeTarget], *, now: datetime, window: timedelta
    ) -> dict[str, UtilizationEvidence]:
        """Evidence for every target (by instance id) over ``[now - window, now]``.

        Never raises for one target's trouble; every target gets an entry.
        """
        ...
