"""The restore recipe's tasks in isolation: what a wait makes of each sighting, and the SSH
verification against a real sshd on loopback (refusals, timeouts, key sources)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.blocks.system import Secret
from prefect.logging import disable_run_logger
from pydantic import SecretStr

from barrack.models import VMInstance
from tasks.restore import ReadyOutcome, ReadyWait, instance_address, record_sighting
from tasks.ssh_verify import SSHCheckResult, verify_over_ssh
from tests.helpers.restore_models import instance
from tests.helpers.sshd import SSHServer, make_key_pair, running_sshd, sshd_missing


def sighting(status: str, ip: str | None = None, public: bool = True) -> VMInstance:
    vm = instance("x", status=status, snapshot_id="snap-1")
    return vm.model_copy(
        update={"ip_address": ip, "private_ip": "10.0.0.9", "public_ip_enabled": public}
    )


@pytest.mark.parametrize(
    ("vm", "over", "outcome"),
    [
        (sighting("CREATING"), False, ReadyOutcome.TIMED_OUT),
        (sighting("ACTIVE"), False, ReadyOutcome.TIMED_OUT),  # ACTIVE, IP still pending
        (sighting("ACTIVE", "100.96.0.3"), True, ReadyOutcome.READY),
        (sighting("ACTIVE", public=False), True, ReadyOutcome.READY),  # private address
        (sighting("ERROR"), True, ReadyOutcome.ERROR),
        (sighting("SHUTOFF"), True, ReadyOutcome.SETTLED_OTHER),
        (sighting("DELETING"), True, ReadyOutcome.GONE),
        (sighting("MIGRATING"), False, ReadyOutcome.TIMED_OUT),  # unknown: keep waiting
    ],
)
def test_each_sighting(vm: VMInstance, over: bool, outcome: ReadyOutcome) -> None:
    wait = ReadyWait(outcome=ReadyOutcome.TIMED_OUT)
    assert record_sighting(wait, vm) is over
    assert wait.outcome is outcome


def test_active_is_timed_at_the_first_sighting_only() -> None:
    wait = ReadyWait(outcome=ReadyOutcome.TIMED_OUT)
    record_sighting(wait, sighting("ACTIVE"))
    first = wait.active_seen_at
    record_sighting(wait, sighting("ACTIVE", "100.96.0.3"))
    assert wait.active_seen_at == first
    assert wait.address_seen_at is not None
    assert wait.address == "100.96.0.3"


def test_restored_from_and_address() -> None:
    vm = sighting("ACTIVE", "100.96.0.3")
    assert vm.restored_from("snap-1")
    assert not vm.restored_from("snap-2")
    assert not instance("y").restored_from("snap-1")
    assert instance_address(vm) == "100.96.0.3"
    assert instance_address(sighting("ACTIVE", "100.96.0.3", public=False)) == "10.0.0.9"


# -- SSH -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHServer]:
    missing = sshd_missing()
    if missing:
        pytest.skip(missing)
    with running_sshd(tmp_path_factory.mktemp("restore-ssh")) as server:
        server.set_gpu_script("127.0.0.2", "echo 'GPU 0: NVIDIA L40'\n")
        yield server


def verify(host: str, port: int, user: str, **options: object) -> SSHCheckResult:
    values: dict[str, object] = {"timeout_seconds": 5.0, "retry_seconds": 0.05}
    values.update(options)
    with disable_run_logger():
        return asyncio.run(
            verify_over_ssh.fn(host, port=port, username=user, **values)  # type: ignore[arg-type]
        )


def test_verified(sshd: SSHServer) -> None:
    result = verify(
        "127.0.0.2",
        sshd.port,
        sshd.user,
        private_key_path=str(sshd.key_file),
        known_hosts_path=str(sshd.known_hosts_file),
        expect_output="L40",
    )
    assert result.ok, result.error
    assert (result.exit_status, result.output, result.attempts) == (0, "GPU 0: NVIDIA L40", 1)
    assert result.summary() == "exit 0 after 1 attempt(s): GPU 0: NVIDIA L40"


def test_a_wrong_key_fails_at_once(sshd: SSHServer, tmp_path: Path) -> None:
    make_key_pair(tmp_path / "stranger")
    result = verify("127.0.0.2", sshd.port, sshd.user, private_key_path=str(tmp_path / "stranger"))
    assert not result.ok
    assert result.attempts == 1
    assert result.error is not None
    assert result.error.startswith("PermissionDenied")


def test_an_unexpected_host_key_fails_at_once(sshd: SSHServer, tmp_path: Path) -> None:
    other = make_key_pair(tmp_path / "other_host")
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.2]:{sshd.port} {other}\n", encoding="utf-8")
    result = verify(
        "127.0.0.2",
        sshd.port,
        sshd.user,
        private_key_path=str(sshd.key_file),
        known_hosts_path=str(known),
    )
    assert not result.ok
    assert result.attempts == 1
    assert result.error is not None
    assert "HostKeyNotVerifiable" in result.error


def test_nothing_listening_is_retried_until_the_budget_is_spent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])  # closed again: connections are refused
    result = verify("127.0.0.1", port, "nobody", timeout_seconds=0.3)
    assert not result.ok
    assert result.attempts >= 2
    assert result.error is not None
    assert result.error.startswith("no answer over SSH within 0.3s")


def test_an_unreadable_key_file_names_the_field(tmp_path: Path) -> None:
    result = verify("127.0.0.1", 22, "x", private_key_path=str(tmp_path / "missing"))
    assert result.error == "private_key_path: cannot read (No such file or directory)"
    assert result.attempts == 0


@pytest.mark.usefixtures("prefect_harness")
def test_the_key_can_come_from_a_secret_block(sshd: SSHServer) -> None:
    Secret(value=SecretStr(sshd.key_file.read_text(encoding="utf-8"))).save(
        "restore-test-ssh-key", overwrite=True
    )
    result = verify(
        "127.0.0.2",
        sshd.port,
        sshd.user,
        private_key_secret_block="restore-test-ssh-key",
        known_hosts_path=str(sshd.known_hosts_file),
    )
    assert result.ok, result.error
    assert "BEGIN" not in (result.error or "") + result.output  # the key is never echoed


@pytest.mark.usefixtures("prefect_harness")
def test_a_secret_block_without_a_key_names_the_field() -> None:
    Secret(value=SecretStr("not a key")).save("restore-test-not-a-key", overwrite=True)
    result = verify("127.0.0.1", 22, "x", private_key_secret_block="restore-test-not-a-key")
    assert result.error is not None
    assert result.error.startswith("private_key_secret_block: the block does not hold")
    assert "not a key" not in result.error
