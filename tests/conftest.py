"""Shared fixtures: Prefect's real engine (one harness per session), offline settings."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

# Offline and quiet, before Prefect is imported anywhere.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.pop("PREFECT_API_URL", None)
for _name in [n for n in os.environ if n.startswith(("BARRACK_",))]:
    os.environ.pop(_name)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Prefect's test harness (a fresh database, a real API server), once per session.

    Sync flow heartbeats are switched off: each would hold a run for about a second.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    prefect_logger = logging.getLogger("prefect")
    try:
        # The first start migrates a fresh database: generous on a small, busy machine.
        with (
            prefect_test_harness(server_startup_timeout=240),
            temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        ):
            yield
            # The harness says "Stopping temporary server" through a console handler that
            # may hold a stream pytest has closed by now ("--- Logging error ---").
            prefect_logger.disabled = True
    finally:
        prefect_logger.disabled = False
