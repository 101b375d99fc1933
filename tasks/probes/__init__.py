"""GPU-utilisation probes behind one interface: ``prometheus`` and ``ssh``.

Each probe returns, per instance, a :class:`UtilizationEvidence`; a probe that fails,
times out or finds nothing says so in the evidence, and the recipe counts that instance
as busy. :func:`make_probe` builds the probe a policy names.
"""

from __future__ import annotations

from typing import Literal

from tasks.probes.base import ProbeTarget, UtilizationEvidence, UtilizationProbe, failed_evidence
from tasks.probes.prometheus import PrometheusProbe, PrometheusProbeSettings
from tasks.probes.ssh import SSHProbe, SSHSettings

__all__ = [
    "ProbeKind",
    "ProbeTarget",
    "PrometheusProbe",
    "PrometheusProbeSettings",
    "SSHProbe",
    "SSHSettings",
    "UtilizationEvidence",
    "UtilizationProbe",
    "failed_evidence",
    "make_probe",
]

ProbeKind = Literal["prometheus", "ssh"]


def make_probe(
    kind: ProbeKind, *, prometheus: PrometheusProbeSettings, ssh: SSHSettings
) -> UtilizationProbe:
    """The probe called ``kind``, configured by its settings."""
    if kind == "prometheus":
        return PrometheusProbe(prometheus)
    if kind == "ssh":
        return SSHProbe(ssh)
    raise ValueError(f"probe: unknown probe {kind!r}; choose prometheus or ssh")
