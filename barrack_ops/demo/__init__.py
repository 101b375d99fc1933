"""``barrack-ops demo``: every recipe against the embedded simulator, offline.

:mod:`barrack_ops.demo.run` drives the sections; each recipe's section lives in its own
module (:mod:`~barrack_ops.demo.hibernate`, :mod:`~barrack_ops.demo.restore`,
:mod:`~barrack_ops.demo.low_balance`), and :mod:`~barrack_ops.demo.receiver` is the
local channel that stands in for Slack. None of it is part of a recipe: the recipes run
against any Barrack, the demo brings a simulated one.
"""

from barrack_ops.demo.run import DEMO_START, run_demo

__all__ = ["DEMO_START", "run_demo"]
