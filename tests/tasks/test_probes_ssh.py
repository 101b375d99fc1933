"""The ssh probe against a real OpenSSH server on loopback with a stand-in nvidia-smi."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from tasks.probes import ProbeTarget, SSHProbe, SSHSettings
from tasks.probes.ssh import SSHCommandError, parse_nvidia_smi, run_command
from tests.helpers.sshd import SSHServer, make_key_pair, running_sshd, sshd_missing

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=1)
IDLE_HOST, BUSY_HOST = "127.0.0.1", "127.0.0.2"


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("0, 0\n", [(0.0, 0.0)]),
        ("3, 512\n97, 70123\n", [(3.0, 512.0), (97.0, 70123.0)]),
        ("  1 ,  2  \n\n", [(1.0, 2.0)]),
    ],
)
def test_parse_nvidia_smi(output: str, expected: list[tuple[float, float]]) -> None:
    assert parse_nvidia_smi(output) == expected


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("", "listed no GPU"),
        ("[N/A], 512\n", "line 1: '[N/A], 512' is not 'utilization, memory'"),
        ("3, 512, 7\n", "is not 'utilization, memory'"),
        ("0, 1\nnan, 3\n", "line 2"),
    ],
)
def test_parse_nvidia_smi_rejects(output: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_nvidia_smi(output)


def test_settings_check_files_and_overrides(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="key_file"):
        SSHSettings(key_file=str(tmp_path / "missing"))
    with pytest.raises(ValidationError, match="host_overrides"):
        SSHSettings(host_overrides={"BRK-1": "two words"})
    target = ProbeTarget(id="BRK-1", name="a", public_ip="203.0.113.5", private_ip="10.0.0.5")
    assert SSHSettings().host_for(target) == "203.0.113.5"
    assert SSHSettings(address="private").host_for(target) == "10.0.0.5"
    assert SSHSettings(host_overrides={"a": "a.internal"}).host_for(target) == "a.internal"


# -- against sshd ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHServer]:
    missing = sshd_missing()
    if missing:
        pytest.skip(missing)
    with running_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


def settings_for(server: SSHServer, **changes: object) -> SSHSettings:
    base: dict[str, object] = {
        "user": server.user,
        "port": server.port,
        "key_file": str(server.key_file),
        "known_hosts_file": str(server.known_hosts_file),
        "connect_timeout_seconds": 5,
        "command_timeout_seconds": 5,
    }
    return SSHSettings.model_validate({**base, **changes})


def targets() -> list[ProbeTarget]:
    return [
        ProbeTarget(id="BRK-IDLE001", name="idle-box", public_ip=IDLE_HOST, gpu_count=2),
        ProbeTarget(id="BRK-BUSY001", name="busy-box", public_ip=BUSY_HOST, gpu_count=2),
    ]


async def test_one_sample_per_instance(sshd: SSHServer) -> None:
    sshd.set_gpus(IDLE_HOST, (0, 310), (2, 290))
    sshd.set_gpus(BUSY_HOST, (1, 300), (98, 71000))
    found = await SSHProbe(settings_for(sshd)).collect(targets(), now=NOW, window=WINDOW)

    idle, busy = found["BRK-IDLE001"], found["BRK-BUSY001"]
    assert idle.error is None
    assert (idle.max_util_pct, idle.max_memory_mib, idle.sample_count) == (2, 310, 1)
    assert idle.covered_from == idle.covered_to == NOW
    assert idle.largest_gap_seconds is None  # one sample is no window: the recipe accumulates
    assert idle.gap_tolerance_seconds == 20 * 60
    assert (busy.max_util_pct, busy.max_memory_mib) == (98, 71000)


async def test_no_driver_is_an_error(sshd: SSHServer) -> None:
    sshd.set_gpu_script(IDLE_HOST, None)
    found = await SSHProbe(settings_for(sshd)).collect(targets()[:1], now=NOW, window=WINDOW)
    error = found["BRK-IDLE001"].error or ""
    assert "exit status 9" in error
    assert "NVIDIA-SMI has failed" in error


async def test_garbled_output_is_an_error(sshd: SSHServer) -> None:
    sshd.set_gpu_script(IDLE_HOST, "echo 'No devices were found'\n")
    found = await SSHProbe(settings_for(sshd)).collect(targets()[:1], now=NOW, window=WINDOW)
    assert "is not 'utilization, memory'" in (found["BRK-IDLE001"].error or "")


async def test_a_hanging_nvidia_smi_times_out(sshd: SSHServer) -> None:
    sshd.set_gpu_script(IDLE_HOST, "sleep 4\n")
    settings = settings_for(sshd, command_timeout_seconds=0.5, connect_timeout_seconds=0.5)
    found = await SSHProbe(settings).collect(targets()[:1], now=NOW, window=WINDOW)
    assert "no answer within 1 s" in (found["BRK-IDLE001"].error or "")


async def test_an_unknown_host_key_is_refused_unless_accept_any(
    sshd: SSHServer, tmp_path: Path
) -> None:
    sshd.set_gpus(IDLE_HOST, (0, 300))
    other = tmp_path / "known_hosts"
    other.write_text(
        f"[{IDLE_HOST}]:{sshd.port} ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
        encoding="utf-8",
    )
    refused = await SSHProbe(settings_for(sshd, known_hosts_file=str(other))).collect(
        targets()[:1], now=NOW, window=WINDOW
    )
    assert "host key not trusted" in (refused["BRK-IDLE001"].error or "")
    trusting = settings_for(sshd, known_hosts_file=None, host_key_policy="accept-any")
    accepted = await SSHProbe(trusting).collect(targets()[:1], now=NOW, window=WINDOW)
    assert accepted["BRK-IDLE001"].error is None


async def test_a_wrong_key_is_refused(sshd: SSHServer, tmp_path: Path) -> None:
    make_key_pair(tmp_path / "stranger")
    settings = settings_for(sshd, key_file=str(tmp_path / "stranger"))
    found = await SSHProbe(settings).collect(targets()[:1], now=NOW, window=WINDOW)
    assert "authentication refused" in (found["BRK-IDLE001"].error or "")


async def test_unreachable_and_addressless_instances_are_errors(sshd: SSHServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    settings = settings_for(sshd, port=closed)
    no_ip = ProbeTarget(id="BRK-NOIP001", name="no-ip")
    found = await SSHProbe(settings).collect([targets()[0], no_ip], now=NOW, window=WINDOW)
    assert f"ssh {sshd.user}@{IDLE_HOST}:{closed}" in (found["BRK-IDLE001"].error or "")
    assert found["BRK-NOIP001"].error == "no public IP address to connect to"


async def test_run_command_reports_a_failing_command(sshd: SSHServer) -> None:
    settings = settings_for(sshd)
    done = await run_command(settings, IDLE_HOST, "echo saved", timeout_seconds=10)
    assert done.stdout.strip() == "saved"
    with pytest.raises(SSHCommandError, match="exit status 3: disk full"):
        await run_command(settings, IDLE_HOST, "echo 'disk full' >&2; exit 3", timeout_seconds=10)


# -- the key from a Prefect Secret block (runs in containers have no key file) ----------------


def test_key_file_and_key_secret_block_exclude_each_other(tmp_path: Path) -> None:
    key = tmp_path / "id"
    key.write_text("x")
    with pytest.raises(ValidationError, match="key_file or key_secret_block, not both"):
        SSHSettings(key_file=str(key), key_secret_block="probe-key")


@pytest.mark.usefixtures("prefect_harness")
async def test_the_probe_key_can_come_from_a_secret_block(sshd: SSHServer) -> None:
    from prefect.blocks.system import Secret
    from pydantic import SecretStr

    key_text = sshd.key_file.read_text(encoding="utf-8")
    await Secret(value=SecretStr(key_text)).save("probe-test-ssh-key", overwrite=True)
    sshd.set_gpus(IDLE_HOST, (0, 310), (2, 290))
    sshd.set_gpus(BUSY_HOST, (1, 300), (98, 71000))
    settings = settings_for(sshd, key_file=None, key_secret_block="probe-test-ssh-key")
    assert "BEGIN" not in repr(settings) + settings.model_dump_json()

    found = await SSHProbe(settings).collect(targets(), now=NOW, window=WINDOW)

    assert found["BRK-IDLE001"].error is None
    assert found["BRK-BUSY001"].max_util_pct == 98
    done = await run_command(settings, IDLE_HOST, "echo saved", timeout_seconds=10)
    assert done.stdout.strip() == "saved"


@pytest.mark.usefixtures("prefect_harness")
async def test_a_secret_block_without_a_key_fails_every_target_naming_the_field(
    sshd: SSHServer,
) -> None:
    from prefect.blocks.system import Secret
    from pydantic import SecretStr

    marker = "s3cr3t-not-a-key-material"
    await Secret(value=SecretStr(marker)).save("probe-test-not-a-key", overwrite=True)
    settings = settings_for(sshd, key_file=None, key_secret_block="probe-test-not-a-key")

    found = await SSHProbe(settings).collect(targets(), now=NOW, window=WINDOW)

    for evidence in found.values():
        assert evidence.error is not None
        assert evidence.error.startswith("key_secret_block: the block does not hold")
        assert marker not in evidence.model_dump_json()
    with pytest.raises(SSHCommandError, match="key_secret_block") as caught:
        await run_command(settings, IDLE_HOST, "true", timeout_seconds=10)
    assert marker not in str(caught.value)
    assert caught.value.__suppress_context__  # no chained exception carries the text


@pytest.mark.usefixtures("prefect_harness")
async def test_a_missing_secret_block_names_it(sshd: SSHServer) -> None:
    settings = settings_for(sshd, key_file=None, key_secret_block="probe-test-no-such-block")
    found = await SSHProbe(settings).collect(targets()[:1], now=NOW, window=WINDOW)
    error = found["BRK-IDLE001"].error or ""
    assert error.startswith("key_secret_block: cannot load 'probe-test-no-such-block'")
