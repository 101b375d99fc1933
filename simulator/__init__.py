"""A stateful fake Barrack cloud over real HTTP: the demo's default and every test's ground.

* :mod:`simulator.backend`: the rules and the state (services per resource group).
* :mod:`simulator.http`: the route table mounted as HTTP, control routes, Prometheus.
* :mod:`simulator.control`: the control routes as a client (tests, e2e, benchmarks, demo).
* :mod:`simulator.testing`: run it in-process (tests and the demo).
* :mod:`simulator.ticker`: keep a manual clock moving while a recipe waits.
* :mod:`simulator.cli`: ``barrack-ops sim``.
"""

from simulator.app import create_app
from simulator.runtime import SimConfig, SimRuntime
from simulator.server import SimServer
from simulator.settings import SimSettings

__all__ = ["SimConfig", "SimRuntime", "SimServer", "SimSettings", "create_app"]
