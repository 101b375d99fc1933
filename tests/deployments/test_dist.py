"""`make dist` and the image's install script: the installed copy works outside the repo.

One session fixture builds the wheel and sdist with `make dist` and installs the wheel
with `deployments/image/install.sh` (the Dockerfile's install step) into a new virtualenv
under a temporary directory; the tests then look inside the artifacts and run a recipe
from that virtualenv, from a directory outside the checkout, against the simulator it
carries.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
INSTALL_SH = ROOT / "deployments" / "image" / "install.sh"
PACKAGES = ("barrack", "simulator", "tasks", "flows", "notifications", "deployments", "barrack_ops")
DEV_ONLY = ("pytest", "hypothesis", "ruff", "mypy", "playwright", "aiosmtpd")


@dataclass(frozen=True)
class Installed:
    dist: Path
    prefix: Path

    @property
    def wheel(self) -> Path:
        return next(self.dist.glob("barrack_ops-*.whl"))

    @property
    def sdist(self) -> Path:
        return next(self.dist.glob("barrack_ops-*.tar.gz"))


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment of a fresh shell: no virtualenv, no PYTHONPATH, no BARRACK_*."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"} and not k.startswith("BARRACK_")
    }
    env.update(extra)
    return env


def _install(dist: Path, prefix: Path, *, offline: bool) -> subprocess.CompletedProcess[str]:
    env = _clean_env(
        UV=str(Path(sys.executable).with_name("uv")),
        PYTHON=sys.executable,
        BARRACK_OPS_INSTALL_OFFLINE="1" if offline else "0",
        BARRACK_OPS_COMPILE_BYTECODE="0",
    )
    return subprocess.run(
        ["sh", str(INSTALL_SH), str(prefix), str(dist)],
        env=env,
        cwd=prefix.parent,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    if shutil.which("make") is None or not Path(sys.executable).with_name("uv").exists():
        pytest.skip("needs make and uv in the virtualenv (make install puts it there)")
    base = tmp_path_factory.mktemp("dist")
    dist = base / "dist"
    built = subprocess.run(
        ["make", "-s", "dist", f"DIST={dist}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    # Offline from uv's cache (make install filled it); the registry only if that misses.
    prefix = base / "offline" / "venv"
    prefix.parent.mkdir()
    result = _install(dist, prefix, offline=True)
    if result.returncode != 0:
        prefix = base / "online" / "venv"
        prefix.parent.mkdir()
        result = _install(dist, prefix, offline=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"barrack-ops installed into {prefix}" in result.stdout
    return Installed(dist, prefix)


def test_the_wheel_holds_every_package_and_its_data_files(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for package in PACKAGES:
        assert f"{package}/__init__.py" in names, package
        assert f"{package}/py.typed" in names, package
    assert "deployments/prefect.yaml" in names
    assert "simulator/scenarios/demo.yaml" in names
    assert "deployments/image/install.sh" not in names  # build tooling stays out
    assert not any(name.startswith(("tests/", "benchmarks/")) for name in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(installed.wheel).read(entry_points).decode()
    assert "barrack-ops = barrack_ops.cli:main" in text


def test_every_source_data_file_is_in_the_wheel(installed: Installed) -> None:
    """A YAML/JSON file added to a package later must reach the wheel too."""
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.suffix in {".yaml", ".yml", ".json", ".typed"} and path.is_file():
                relative = path.relative_to(ROOT).as_posix()
                assert relative in names, relative


def test_the_sdist_builds_the_wheel(installed: Installed) -> None:
    with tarfile.open(installed.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", "requirements.lock"} <= names
    for package in PACKAGES:
        assert f"{package}/__init__.py" in names, package
    assert not any(name.startswith(".ci") for name in names)


def test_constraints_pin_the_runtime_at_the_locked_versions(installed: Installed) -> None:
    pin = re.compile(r"^([a-z0-9][a-z0-9._-]*)==([^\s;]+)", re.M)
    pins = dict(pin.findall((installed.dist / "constraints.txt").read_text()))
    locked = dict(pin.findall((ROOT / "requirements-dev.lock").read_text()))
    assert {"prefect", "httpx", "pydantic", "apprise", "asyncssh"} <= set(pins)
    assert not set(DEV_ONLY) & set(pins)
    for name, version in pins.items():
        assert locked.get(name) == version, f"{name}: {version} here, {locked.get(name)} locked"
    frozen = subprocess.run(
        [
            str(Path(sys.executable).with_name("uv")),
            "pip",
            "freeze",
            "--python",
            str(installed.prefix / "bin" / "python"),
        ],
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    normalised = {
        name.lower().replace("_", "-"): version
        for name, version in re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", frozen, re.M)
    }
    assert "barrack-ops @ file://" in frozen  # the wheel, not a checkout
    for name in ("prefect", "httpx", "pydantic", "apprise"):
        assert normalised[name] == pins[name], name
    assert not set(DEV_ONLY) & set(normalised)


def test_the_installed_copy_imports_from_the_virtualenv(
    installed: Installed, tmp_path: Path
) -> None:
    code = "import flows, simulator; print(flows.__file__); print(simulator.__file__)"
    result = subprocess.run(
        [str(installed.prefix / "bin" / "python"), "-c", code],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    for line in result.stdout.splitlines():
        assert Path(line).is_relative_to(installed.prefix), line


@pytest.mark.usefixtures("prefect_harness")
def test_the_installed_copy_runs_a_recipe_against_its_simulator(
    installed: Installed, tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    bin_dir = installed.prefix / "bin"
    env = _clean_env(
        PREFECT_API_URL=str(PREFECT_API_URL.value()),
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        BARRACK_OPS_STATE_DIR=str(tmp_path / "state"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
    )
    simulator = subprocess.Popen(
        [str(bin_dir / "barrack-ops"), "sim", "--port", "0", "--clock", "manual"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert simulator.stdout is not None
        exports = ""
        for line in simulator.stdout:
            if line.startswith("export BARRACK_BASE_URL="):
                exports = line
                break
        assert exports, "the installed simulator printed no address"
        found = dict(re.findall(r"(BARRACK_[A-Z_]+)=(\S+)", exports))
        result = subprocess.run(
            [str(bin_dir / "barrack-ops"), "run", "low-balance", "--dry-run"],
            cwd=tmp_path,
            env={**env, **found},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        simulator.terminate()
        simulator.wait(timeout=30)
    output = result.stdout + result.stderr
    # 0: nothing fires; 1: a threshold fires (the demo account may be low). 2 would be a
    # configuration or connection failure, and anything else a crash.
    assert result.returncode in (0, 1), output
    assert "Traceback" not in output
    assert "balance" in output.lower()


def test_the_install_script_refuses_a_dist_without_constraints(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "barrack_ops-0.1.0-py3-none-any.whl").write_bytes(b"")
    result = subprocess.run(
        ["sh", str(INSTALL_SH), str(tmp_path / "venv"), str(dist)],
        env=_clean_env(UV=str(Path(sys.executable).with_name("uv"))),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "constraints.txt is missing" in result.stderr
    assert not (tmp_path / "venv").exists()
