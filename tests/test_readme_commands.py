"""The README's command examples work as printed, after the quick start, against the
simulator (the offline stand-in for Barrack).

Every ``.venv/bin/...`` line of the README's bash blocks is either run here, exactly as
printed (from a folder holding the README's ``nightly.yaml`` and a link to ``.venv``), or
listed in ``EXCLUDED`` with the reason. A new example must be one or the other.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from simulator.testing import SimHandle, running_simulator

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

EXCLUDED = {
    ".venv/bin/barrack-ops sim --scenario demo --clock 60": "serves until Ctrl-C",
    ".venv/bin/barrack-ops serve": "serves until Ctrl-C",
    ".venv/bin/barrack-ops run nightly-snapshots --params nightly.yaml": (
        "the real run waits for snapshots; its dry run is run here"
    ),
    ".venv/bin/barrack-ops run restore-to-region --params restore.yaml": (
        "the README gives no restore.yaml; docs/restore.md's examples are tested there"
    ),
    ".venv/bin/barrack-ops doctor --json report.json": "the same checks as plain doctor",
    ".venv/bin/python -m notifications send-test": "sends a message to every destination",
}
"""Printed commands not run here, and why."""


def readme_commands() -> list[str]:
    """Every ``.venv/bin/...`` command of the README's bash blocks, comments stripped."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL):
        for line in block.splitlines():
            if line.startswith(".venv/bin/"):
                commands.append(shlex.join(shlex.split(line, comments=True)))
    return commands


def nightly_yaml() -> str:
    """The README's example parameters file."""
    match = re.search(r"```yaml\n# nightly.yaml\n(.*?)```", README, flags=re.DOTALL)
    assert match, "the README's nightly.yaml example is gone"
    return match.group(1)


COMMANDS = [c for c in dict.fromkeys(readme_commands()) if c not in EXCLUDED]


def test_every_example_is_run_or_excluded_with_a_reason() -> None:
    printed = set(readme_commands())
    assert set(EXCLUDED) <= printed, "an exclusion names a command the README no longer has"
    assert len(COMMANDS) >= 6


@pytest.fixture(scope="module")
def demo_sim() -> Iterator[SimHandle]:
    with running_simulator("demo", seed=1, start=START) as sim:
        yield sim


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("command", COMMANDS)
def test_a_readme_command_works_as_printed(
    command: str, demo_sim: SimHandle, tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / "nightly.yaml").write_text(nightly_yaml(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BARRACK_", "PREFECT_"))}
    env |= {
        "BARRACK_API_KEY": demo_sim.api_key,
        "BARRACK_BASE_URL": demo_sim.base_url,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "BARRACK_OPS_STATE_DIR": str(tmp_path / "state"),
    }
    demo_sim.reset()
    done = subprocess.run(
        shlex.split(command),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    # 0, or 1 where the demo fleet needs attention (a low balance, blocked pruning, the
    # README's Prometheus on the default port, not this simulator's...); never 2 (a
    # command that cannot run as printed) or a traceback.
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "error:" not in done.stderr
