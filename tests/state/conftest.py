from __future__ import annotations

import pytest

from tests.notifications.conftest import free_port


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connections are refused at once."""
    return free_port()
