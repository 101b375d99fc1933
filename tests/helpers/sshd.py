"""A real OpenSSH server on loopback for tests, with a stand-in ``nvidia-smi`` on its PATH.

The server listens on 127.0.0.1 and 127.0.0.2 (both loopback) on one free port, so a
test can pose as two instances. Host and user keys are generated in a temporary
directory; the login user is the one running the tests (key authentication only). The
stand-in ``nvidia-smi`` runs ``<dir>/gpu/<server address>.sh``, which a test writes with
:meth:`SSHServer.set_gpu_script`, and fails like a machine without a driver when there is
none.

Needs ``/usr/sbin/sshd`` (Debian's ``openssh-server``) and ``ssh-keygen``;
:func:`sshd_missing` says why it cannot run, for ``pytest.skip``.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["SSHD", "SSHServer", "make_key_pair", "running_sshd", "sshd_missing"]

SSHD: Final = Path("/usr/sbin/sshd")
HOSTS: Final = ("127.0.0.1", "127.0.0.2")
_STARTUP_SECONDS: Final = 15.0

_NVIDIA_SMI: Final = """#!/bin/sh
# Stand-in nvidia-smi: what it prints depends on which address the client connected to.
server=$(echo "$SSH_CONNECTION" | cut -d' ' -f3)
script="{gpu_dir}/$server.sh"
if [ ! -f "$script" ]; then
    echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." >&2
    exit 9
fi
exec /bin/sh "$script"
"""


def sshd_missing() -> str | None:
    """Why a test sshd cannot run here, or None when it can."""
    if not SSHD.exists():
        return f"{SSHD} not installed (Debian package openssh-server; `make test` installs it)"
    if shutil.which("ssh-keygen") is None:
        return "ssh-keygen not installed (Debian package openssh-client)"
    if os.geteuid() == 0 and not Path("/run/sshd").is_dir():
        try:
            Path("/run/sshd").mkdir(mode=0o755)  # sshd's privilege separation directory
        except OSError as exc:
            return f"cannot create /run/sshd for sshd ({exc.strerror})"
    return None


@dataclass(frozen=True)
class SSHServer:
    """A running test sshd.

    Attributes:
        port: where it listens (on every address of :data:`HOSTS`).
        user: the login user.
        key_file: the user's private key.
        known_hosts_file: the server's host key for every address and the port.
        directory: where everything lives.
    """

    port: int
    user: str
    key_file: Path
    known_hosts_file: Path
    directory: Path

    @property
    def hosts(self) -> tuple[str, ...]:
        """The addresses it answers on."""
        return HOSTS

    def set_gpu_script(self, host: str, script: str | None) -> None:
        """What ``nvidia-smi`` does for clients of ``host`` (shell); None: fail like no driver."""
        path = self.directory / "gpu" / f"{host}.sh"
        if script is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(script, encoding="utf-8")

    def set_gpus(self, host: str, *gpus: tuple[float, float]) -> None:
        """``nvidia-smi`` prints these (utilisation %, memory MiB) lines for ``host``."""
        lines = "".join(f"{util:g}, {memory:g}\\n" for util, memory in gpus)
        self.set_gpu_script(host, f"printf '{lines}'\n")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_key_pair(path: Path) -> str:
    """Generate an ed25519 key pair at ``path`` (``.pub`` beside it); the public line."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path.with_suffix(".pub").read_text(encoding="utf-8").strip()


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited: {log.read_text(encoding='utf-8')[-2000:]}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex((HOSTS[-1], port)) == 0:
                return
        time.sleep(0.02)  # waiting for a server to start, not timing anything
    raise RuntimeError(f"sshd did not listen within {_STARTUP_SECONDS:g} s")


@contextmanager
def running_sshd(directory: Path) -> Iterator[SSHServer]:
    """Start sshd for the ``with`` block (call :func:`sshd_missing` first)."""
    directory.mkdir(parents=True, exist_ok=True)
    bin_dir, gpu_dir = directory / "bin", directory / "gpu"
    bin_dir.mkdir(exist_ok=True)
    gpu_dir.mkdir(exist_ok=True)
    nvidia_smi = bin_dir / "nvidia-smi"
    nvidia_smi.write_text(_NVIDIA_SMI.format(gpu_dir=gpu_dir), encoding="utf-8")
    nvidia_smi.chmod(0o755)

    host_key = directory / "host_key"
    host_public = make_key_pair(host_key)
    user_key = directory / "user_key"
    (directory / "authorized_keys").write_text(make_key_pair(user_key) + "\n", encoding="utf-8")
    port = _free_port()
    known_hosts = directory / "known_hosts"
    known_hosts.write_text(
        "".join(f"[{host}]:{port} {host_public}\n" for host in HOSTS), encoding="utf-8"
    )
    config = directory / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                *(f"ListenAddress {host}" for host in HOSTS),
                f"HostKey {host_key}",
                f"AuthorizedKeysFile {directory / 'authorized_keys'}",
                f"PidFile {directory / 'sshd.pid'}",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "UsePAM no",
                "StrictModes no",
                "LogLevel ERROR",
                f"SetEnv PATH={bin_dir}:/usr/local/bin:/usr/bin:/bin",
                "",
            ]
        ),
        encoding="utf-8",
    )
    log = directory / "sshd.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config)], stdout=log_file, stderr=log_file
        )
    try:
        _wait_until_listening(process, port, log)
        yield SSHServer(
            port=port,
            user=getpass.getuser(),
            key_file=user_key,
            known_hosts_file=known_hosts,
            directory=directory,
        )
    finally:
        process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
