"""The import arrows, read from the source: every ``import`` in every ``.py`` file, by ast.

``flows -> tasks -> barrack`` and ``simulator -> barrack``; nothing below imports what is
above it; only ``barrack/`` and ``simulator/`` (and their own tests) reach into barrack's
private modules; the pure rule modules import no I/O. Lazy imports inside functions count
as much as those at the top of a file.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parent.parent
PACKAGES: Final = (
    "barrack",
    "simulator",
    "tasks",
    "flows",
    "notifications",
    "deployments",
    "barrack_ops",
    "benchmarks",
    "tests",
)

FORBIDDEN: Final[dict[str, frozenset[str]]] = {
    # The client knows nothing of what is built on it.
    "barrack": frozenset(PACKAGES) - {"barrack"},
    # The fake Barrack shares the client's models and wire table, nothing else.
    "simulator": frozenset(PACKAGES) - {"barrack", "simulator"},
    # One API intent per task: tasks know the client, never a recipe or the simulator.
    "tasks": frozenset({"flows", "simulator", "deployments", "barrack_ops", "benchmarks", "tests"}),
    # Alerts are built by recipes, not the other way round.
    "notifications": frozenset(PACKAGES) - {"notifications"},
    # Recipes run against any Barrack: no simulator, no command line, no test scaffolding.
    "flows": frozenset({"simulator", "deployments", "barrack_ops", "benchmarks", "tests"}),
    "deployments": frozenset({"barrack_ops", "benchmarks", "tests"}),
    "barrack_ops": frozenset({"benchmarks", "tests"}),
}
"""Per product package, the first-party packages it must not import."""

MAY_USE_PRIVATE: Final = ("barrack/", "simulator/", "tests/barrack/", "tests/simulator/")
"""Where barrack's private modules (``barrack._*``, ``barrack.models._*``) may be imported:
barrack itself, the simulator (it mounts the wire table) and the tests of those two."""

PURE_MODULES: Final = (
    "barrack._retry",
    "barrack.models._rules",
    "flows.common.burn",
    "flows.common.report",
    "flows.common.runway",
    "flows.common.schedules",
    "flows.common.selection",
    "flows.hibernate_idle.remembered",
    "flows.hibernate_idle.rules",
    "flows.hibernate_idle.savings",
    "flows.hibernate_idle.streaks",
    "flows.low_balance.assessment",
    "flows.low_balance.runway",
    "flows.low_balance.thresholds",
    "flows.nightly_snapshots.ownership",
    "flows.spend_report.aggregate",
    "flows.spend_report.anomaly",
    "flows.spend_report.charges",
    "flows.spend_report.periods",
    "flows.spend_report.waste",
    "flows.nightly_snapshots.retention",
    "flows.restore.candidates",
    "flows.restore.guards",
    "flows.restore.naming",
    "flows.restore.plan",
)
"""Decisions made from plain data: they, and every first-party module they name, import
no I/O library (a package's ``__init__`` that Python runs on the way is not counted:
importing ``tasks.probes.base`` names that module, not the probes beside it)."""

IO_LIBRARIES: Final = frozenset(
    {
        "aiosmtpd",
        "anyio",
        "apprise",
        "asyncssh",
        "http.client",
        "http.server",
        "httpx",
        "prefect",
        "smtplib",
        "socket",
        "sqlite3",
        "starlette",
        "subprocess",
        "urllib.request",
        "uvicorn",
    }
)


@dataclass(frozen=True)
class Import:
    """One imported module, as written in a file (``from a.b import c`` names ``a.b.c``
    when that is a module, else ``a.b``)."""

    source: Path
    line: int
    module: str

    @property
    def top(self) -> str:
        return self.module.split(".")[0]

    def __str__(self) -> str:
        return f"{self.source.relative_to(ROOT)}:{self.line} imports {self.module}"


@cache
def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports_of(path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(path, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                dotted = f"{base}.{alias.name}"
                found.append(Import(path, node.lineno, dotted if _is_module(dotted) else base))
    return found


def _source_files() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


@cache
def _graph() -> dict[str, list[Import]]:
    return {_module_name(path): _imports_of(path) for path in _source_files()}


def test_the_graph_is_read() -> None:
    """The walk sees the files and the arrows it is meant to check (else it checks nothing)."""
    graph = _graph()
    assert {"barrack", "flows.restore.plan", "tasks.restore", "simulator.app"} <= set(graph)
    assert any(i.module == "barrack.models" for i in graph["flows.restore.plan"])
    assert any(i.module.startswith("barrack._") for i in graph["barrack"])
    assert any(i.top == "tasks" for i in graph["flows.restore.flow"])


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_arrows_point_one_way(package: str) -> None:
    wrong = [
        str(found)
        for module, imports in _graph().items()
        if module.split(".")[0] == package
        for found in imports
        if found.top in FORBIDDEN[package]
    ]
    assert not wrong, f"{package} must not import {sorted(FORBIDDEN[package])}:\n" + "\n".join(
        wrong
    )


def _private(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "barrack" and any(part.startswith("_") for part in parts[1:])


def test_private_barrack_modules_stay_inside() -> None:
    wrong = [
        str(found)
        for imports in _graph().values()
        for found in imports
        if _private(found.module)
        and not str(found.source.relative_to(ROOT)).startswith(MAY_USE_PRIVATE)
    ]
    assert not wrong, "import these from barrack, barrack.models or barrack.wire:\n" + "\n".join(
        wrong
    )


def _reached(module: str) -> set[str]:
    graph, seen, todo = _graph(), set(), [module]
    while todo:
        current = todo.pop()
        if current in seen or current not in graph:
            continue
        seen.add(current)
        todo += [i.module for i in graph[current] if i.module in graph]
    return seen


def _is_io(module: str) -> bool:
    parts = module.split(".")
    return any(".".join(parts[:n]) in IO_LIBRARIES for n in range(1, len(parts) + 1))


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_rule_modules_import_no_io(module: str) -> None:
    graph = _graph()
    assert module in graph, f"{module} is gone: update PURE_MODULES"
    wrong = sorted(
        {
            str(found)
            for reached in _reached(module)
            for found in graph[reached]
            if _is_io(found.module)
        }
    )
    assert not wrong, f"{module} reaches I/O:\n" + "\n".join(wrong)
