"""A destination that trickles cannot keep the process alive (issue #16, 8).

The receiver answers one byte every 2 seconds: every read gets its byte in time, so no
socket timeout ever fires. The notifier runs in its own process, as a flow run does,
and that process must exit within the delivery timeout plus a margin, not when the
destination finally finishes (almost three minutes later).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Final

from tests.helpers.receiver import FaultyReceiver

DELIVERY_TIMEOUT: Final = 3.0
EXIT_BOUND: Final = DELIVERY_TIMEOUT + 15  # generous: a bound to exit within, not a speed
ROOT: Final = Path(__file__).resolve().parents[2]

SENDER: Final = """
import sys
from notifications import Alert, AlertKind, Notifier, Severity, Subject

notifier = Notifier.from_urls([sys.argv[1]], timeout=float(sys.argv[2]))
report = notifier.send(
    Alert(
        kind=AlertKind.LOW_BALANCE,
        severity=Severity.CRITICAL,
        subject=Subject.for_account(),
        facts={"balance": "12.00", "currency": "USD"},
    )
)
print(",".join(d.status.value for d in report.deliveries), flush=True)
"""


def test_a_trickling_destination_cannot_keep_the_process_alive() -> None:
    with FaultyReceiver() as receiver:
        receiver.trickle_path("/slow", every=2.0, size=85)
        started = time.monotonic()
        try:
            finished = subprocess.run(
                [sys.executable, "-c", SENDER, receiver.json_url("/slow"), str(DELIVERY_TIMEOUT)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=EXIT_BOUND,
                check=False,
            )
        except subprocess.TimeoutExpired as expired:
            raise AssertionError(
                f"the sender process was still alive {EXIT_BOUND:g} s later "
                f"(output so far: {expired.stdout!r})"
            ) from None
        elapsed = time.monotonic() - started
        assert receiver.wait_for(1)[0].path == "/slow"  # it did arrive

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "timeout"
    assert elapsed < EXIT_BOUND
