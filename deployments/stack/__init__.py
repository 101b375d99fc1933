"""The local production-like stack behind ``make up`` and ``make down``.

A Prefect server with its UI, the Barrack simulator, a notification receiver, the
``barrack-ops`` process work pool with every deployment of ``deployments/prefect.yaml``,
and worker(s), each its own process, recorded in ``.run/stack.json`` and stopped by id.

Example:
    >>> from deployments.stack import StackConfig, down, up
    >>> stack = up(StackConfig())            # doctest: +SKIP
    >>> stack.state.ui_url                   # doctest: +SKIP
    'http://127.0.0.1:4200'
    >>> down(StackConfig())                  # doctest: +SKIP

From a shell: ``python -m deployments.stack up|down|status`` (see ``--help``).
"""

from deployments.stack.config import StackConfig, StackError
from deployments.stack.lifecycle import RunningStack, StackStatus, down, status, up

__all__ = ["RunningStack", "StackConfig", "StackError", "StackStatus", "down", "status", "up"]
