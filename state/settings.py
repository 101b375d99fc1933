"""Where state lives: the one mode setting and the one state directory.

=============================  ==================================================================
environment variable           meaning
=============================  ==================================================================
``BARRACK_OPS_STATE``          ``auto`` (default), ``prefect``, ``file`` or ``memory``: the
                               backend of every store whose own setting is ``auto``
``BARRACK_OPS_STATE_DIR``      the file backend's directory (and the run guard's lock files);
                               default ``~/.barrack-ops/state``
=============================  ==================================================================

A store's own setting wins over ``BARRACK_OPS_STATE`` when it names a backend: the
recipes' ``state_store`` / ``history_store`` parameters and the notifier's
``BARRACK_NOTIFY_STATE`` keep working as before. ``auto`` everywhere means Prefect
Variables when a Prefect API answers (checked once per run, see
:func:`state.reachability.prefect_api_reachable`), else files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final, Literal, get_args

__all__ = ["MODE_VARIABLE", "STATE_DIR_VARIABLE", "StateMode", "configured_mode", "state_dir"]

StateMode = Literal["auto", "prefect", "file", "memory"]
"""``auto`` picks ``prefect`` or ``file`` at run time; the others name a backend."""

MODE_VARIABLE: Final = "BARRACK_OPS_STATE"
STATE_DIR_VARIABLE: Final = "BARRACK_OPS_STATE_DIR"


def state_dir() -> Path:
    """``$BARRACK_OPS_STATE_DIR``, else ``~/.barrack-ops/state``."""
    configured = os.environ.get(STATE_DIR_VARIABLE)
    return Path(configured).expanduser() if configured else Path.home() / ".barrack-ops" / "state"


def configured_mode(requested: StateMode = "auto") -> StateMode:
    """``requested`` when it names a backend, else ``$BARRACK_OPS_STATE`` (default ``auto``).

    Raises:
        ValueError: ``BARRACK_OPS_STATE`` holds something else than a mode.
    """
    if requested != "auto":
        return requested
    value = os.environ.get(MODE_VARIABLE, "").strip().lower() or "auto"
    modes: tuple[StateMode, ...] = get_args(StateMode)
    for mode in modes:
        if value == mode:
            return mode
    raise ValueError(f"{MODE_VARIABLE}={value!r}: expected one of {', '.join(modes)}")
