"""How every ``barrack-ops run ...`` command starts, fails and ends, in one place.

A run goes through the same steps whatever the recipe:

1. parameters are read and validated (:func:`load`);
2. settings, the API key, the notification configuration and the API itself are checked
   (:func:`preflight`), before Prefect starts, so a mistake costs a second, not a server
   start;
3. the Prefect API is chosen (:func:`choose_prefect_server`, called by ``main`` before
   anything imports Prefect) and named in one line;
4. the flow runs with Prefect's console logging cut to warnings, one line each; the full
   log, tracebacks included, goes to a file (:func:`log_file`), or to the console with
   ``--verbose``;
5. the report is printed and one last line gives the outcome and, for a non-zero exit,
   the reason (:func:`finish`).

Exit statuses, the same for every recipe (the README's table is this one):

====  =====================================================================================
0     done; nothing needs attention
1     done, and something needs attention: an alert fired, an action failed, or work was
      blocked (a dry run says what would be)
2     could not run: parameters, settings, notification configuration, the API key
      refused, or the API unreachable or not answering as Barrack
3     another run of the same recipe holds the run guard; nothing was done
4     an unexpected error (a bug): its traceback is in the log file
130   interrupted (Ctrl-C)
====  =====================================================================================
"""

from __future__ import annotations

import asyncio
import logging
import logging.handlers
import os
import sys
import tomllib
from collections.abc import Callable, Coroutine
from enum import IntEnum
from pathlib import Path
from typing import Any, Final, TypeVar

import httpx
import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape

from barrack import (
    APIConnectionError,
    AuthenticationError,
    BarrackError,
    ConfigurationError,
    NotFoundError,
    ProfileIncompleteError,
)
from barrack_ops.params_file import ParamsFileError, load_params

__all__ = [
    "ExitCode",
    "choose_prefect_server",
    "fail",
    "finish",
    "load",
    "log_file",
    "preflight",
    "run_flow",
    "set_verbose",
    "tune_ephemeral_server",
]

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


class ExitCode(IntEnum):
    """The exit statuses of every command (see the module docstring)."""

    DONE = 0
    ATTENTION = 1
    CANNOT_RUN = 2
    BUSY = 3
    INTERNAL = 4
    INTERRUPTED = 130


STACK_STATE: Final = Path(".run") / "stack.json"
"""Where ``make up`` records the running stack, under the repository root."""

_state: dict[str, Any] = {"verbose": False, "prefect": None, "handler": None}


def _err() -> Console:
    # Made per use, not at import, so COLUMNS and redirections set by the caller apply.
    return Console(stderr=True, soft_wrap=True, highlight=False)


def set_verbose(verbose: bool) -> None:
    """``--verbose``: Prefect's full console log, tracebacks included."""
    _state["verbose"] = verbose


def one_line(message: str) -> str:
    """A message of several lines (a list of problems) as one line."""
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


def fail(message: str, code: ExitCode = ExitCode.CANNOT_RUN) -> typer.Exit:
    """Print ``error: <message>`` on stderr, on one line, and return the exit to raise."""
    _err().print(f"[bold red]error:[/] {escape(one_line(message))}", markup=True)
    return typer.Exit(code=int(code))


def load(model: type[M], path: Path | None, **overrides: Any) -> M:
    """Recipe parameters from a file plus options; a bad one ends the command (exit 2)."""
    try:
        return load_params(model, path, **overrides)
    except ParamsFileError as exc:
        raise fail(str(exc)) from None


def log_file() -> Path:
    """Where a run's full log goes: ``BARRACK_OPS_LOG``, else ``$PREFECT_HOME/barrack-ops.log``."""
    explicit = os.environ.get("BARRACK_OPS_LOG")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("PREFECT_HOME") or str(Path.home() / ".prefect")
    return Path(home).expanduser() / "barrack-ops.log"


# -- before Prefect ------------------------------------------------------------------------


def _profile_api_url() -> str | None:
    """``PREFECT_API_URL`` of the active Prefect profile, read without importing Prefect."""
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or data.get("active") or "ephemeral"
    profile = data.get("profiles", {}).get(active, {})
    value = profile.get("PREFECT_API_URL") if isinstance(profile, dict) else None
    return str(value) if value else None


def _imported_api_url() -> str | None:
    """The API of a Prefect already imported and configured in this process (tests)."""
    if "prefect.settings" not in sys.modules:
        return None
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


def _stack_api_url(root: Path) -> str | None:
    """The Prefect API of a running ``make up`` stack of this checkout, or None."""
    import json

    try:
        state = json.loads((root / STACK_STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    api_url = state.get("api_url") if isinstance(state, dict) else None
    if not api_url or not state.get("ready"):
        return None
    try:
        answer = httpx.get(f"{str(api_url).rstrip('/')}/health", timeout=1.0)
    except httpx.HTTPError:
        return None
    return str(api_url) if answer.status_code == 200 else None


def choose_prefect_server(root: Path | None = None) -> str:
    """Pick the Prefect API for runs in this process and say which, in one line.

    In order: ``PREFECT_API_URL`` (environment or the active profile); the ``make up``
    stack of this checkout when it answers (``PREFECT_API_URL`` is set to it); else a
    temporary local server that Prefect starts for the run, tuned to start quickly (see
    docs/performance.md, "CLI overhead"). Must run before anything imports Prefect: its
    settings are read once, at import.
    """
    url = os.environ.get("PREFECT_API_URL") or _profile_api_url() or _imported_api_url()
    if url:
        line = f"Prefect: the server at {url} (PREFECT_API_URL)"
    else:
        from deployments.stack.config import repo_root

        url = _stack_api_url(root or repo_root())
        if url:
            os.environ["PREFECT_API_URL"] = url
            line = f"Prefect: the make up stack's server at {url}"
        else:
            line = (
                "Prefect: a temporary local server (a few seconds to start; set "
                "PREFECT_API_URL or run make up to skip it)"
            )
            tune_ephemeral_server()
    _state["prefect"] = line
    return line


def tune_ephemeral_server() -> None:
    """Settings that make Prefect's temporary server start sooner (each one measured).

    A user's own value always wins. See docs/performance.md, "CLI overhead".
    """
    # The first start migrates a new database, which takes longer than Prefect's 20 s
    # default on a small or busy machine. Offline, analytics would only fill the log.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def preflight(connection: Any, *, notify: bool) -> None:
    """Check settings, the key, the notification configuration and the API; exit 2 if not.

    The API check is one read-only call (the balance). An API that cannot be reached, a
    key it refuses and a base URL that is not Barrack's each end the command here with one
    line, before Prefect starts.
    """
    from tasks.connection import resolve_settings

    try:
        settings = asyncio.run(resolve_settings(connection))
        settings.require_api_key()
    except BarrackError as exc:
        raise fail(str(exc)) from None
    if notify:
        from notifications import Notifier
        from notifications.errors import NotificationConfigError

        try:
            Notifier.from_settings()  # what the flows' load_notifier does
        except NotificationConfigError as exc:
            raise fail(str(exc)) from None
    asyncio.run(_contact(settings))


async def _contact(settings: Any) -> None:
    from barrack import AsyncBarrack

    try:
        async with AsyncBarrack(settings=settings) as client:
            await client.balance.get()
    except Exception as exc:  # every failure becomes one line
        raise fail(describe_contact_error(exc, str(settings.base_url))) from None


def describe_contact_error(exc: BaseException, base_url: str) -> str:
    """One line for what went wrong on the first call to the API."""
    if isinstance(exc, NotFoundError):
        return (
            f"404 from {base_url}: is the base URL right? It should be the API's root, "
            "ending with /api (e.g. https://barrack.ai/api)"
        )
    if isinstance(exc, AuthenticationError):
        return (
            f"the API at {base_url} refused the key (401): check BARRACK_API_KEY, and "
            "BARRACK_AUTH_HEADER (barrack-ops doctor finds the header it takes)"
        )
    if isinstance(exc, ProfileIncompleteError):
        return f"the API at {base_url} refused the account (403): {exc}"
    if isinstance(exc, APIConnectionError):
        return f"cannot reach the API at {base_url}: {exc}"
    if isinstance(exc, BarrackError):
        return f"the API at {base_url} did not answer as Barrack does: {exc}"
    return f"cannot reach the API at {base_url}: {type(exc).__name__}: {exc}"


# -- the run -------------------------------------------------------------------------------


class _OneLine(logging.Formatter):
    """A console formatter: the record's first line, never a traceback."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self._inner = inner or logging.Formatter("%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        plain = logging.makeLogRecord(record.__dict__)
        plain.exc_info = None
        plain.exc_text = None
        plain.stack_info = None
        text = self._inner.format(plain)
        first = text.splitlines()[0] if text else text
        return first + (" (details in the log)" if record.exc_info or "\n" in text else "")


def _configure_logging() -> Path | None:
    """Prefect's console log cut to one-line warnings; everything to the log file."""
    from prefect.logging.configuration import ensure_logging_setup

    ensure_logging_setup()
    if _state["verbose"]:
        return None
    path = log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler | None = logging.handlers.RotatingFileHandler(
            path, maxBytes=5_000_000, backupCount=2, encoding="utf-8"
        )
    except OSError:
        handler = None
    if handler is not None:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s - %(message)s")
        )
        handler.setLevel(logging.DEBUG if os.environ.get("BARRACK_OPS_DEBUG") else logging.INFO)
    # Prefect puts its console handler on the root logger (and uvicorn's); the file
    # handler goes on the root, which every logger but Prefect's internals reaches.
    for name in ("", "uvicorn", "fastapi"):
        for existing in logging.getLogger(name or None).handlers:
            if isinstance(existing, logging.StreamHandler) and not isinstance(
                existing, logging.FileHandler
            ):
                existing.setLevel(max(existing.level, logging.WARNING))
                if not isinstance(existing.formatter, _OneLine):
                    existing.setFormatter(_OneLine(existing.formatter))
    if handler is not None:
        root = logging.getLogger()
        previous = _state.get("handler")
        if isinstance(previous, logging.Handler):
            root.removeHandler(previous)
            previous.close()
        root.addHandler(handler)
        _state["handler"] = handler
    for name in ("barrack", "flows", "tasks", "notifications"):
        logging.getLogger(name).setLevel(logging.INFO)
    if handler is not None:
        header = f"---- barrack-ops {' '.join(sys.argv[1:])}"
        logging.getLogger("barrack_ops").info(header)
    return path if handler is not None else None


def run_flow(start: Callable[[], Coroutine[Any, Any, R]], *, recipe: str) -> R:
    """Run a recipe's flow: one line on the Prefect server, then the flow, exceptions
    turned into one line and an exit status (see the module docstring)."""
    _err().print(_state["prefect"] or choose_prefect_server())
    path = _configure_logging()
    where = f" (details in {path})" if path else ""
    from flows.common.guard import RunInProgressError
    from notifications.errors import NotificationConfigError

    try:
        return asyncio.run(start())
    except KeyboardInterrupt:
        raise _ended(recipe, ExitCode.INTERRUPTED, "interrupted") from None
    except RunInProgressError as exc:
        raise _ended(recipe, ExitCode.BUSY, str(exc)) from None
    except (ConfigurationError, NotificationConfigError, APIConnectionError) as exc:
        raise _ended(recipe, ExitCode.CANNOT_RUN, str(exc)) from None
    except (AuthenticationError, ProfileIncompleteError) as exc:
        raise _ended(recipe, ExitCode.CANNOT_RUN, f"the API refused: {exc}") from None
    except BarrackError as exc:
        raise _ended(recipe, ExitCode.CANNOT_RUN, f"{exc}{where}") from None
    except Exception as exc:  # a bug: one line here, the traceback in the log
        logging.getLogger("barrack_ops").error("%s failed", recipe, exc_info=exc)
        raise _ended(
            recipe, ExitCode.INTERNAL, f"unexpected {type(exc).__name__}: {exc}{where}"
        ) from None


def _ended(recipe: str, code: ExitCode, reason: str) -> typer.Exit:
    first = one_line(reason)
    _err().print(f"[bold red]error:[/] {escape(first)}", markup=True)
    _err().print(f"{recipe}: not done (exit {int(code)}): {first}", markup=False)
    return typer.Exit(code=int(code))


def finish(
    recipe: str,
    report: Any,
    *,
    attention: Callable[[Any], str],
    console: Console | None = None,
) -> None:
    """Print the report, then the outcome line; exit 1 (with the reason) when not ok."""
    (console or Console()).print(Markdown(report.markdown()))
    summary = report.summary_line()
    if report.ok:
        _err().print(f"{recipe}: done (exit 0): {summary}", markup=False)
        return
    _err().print(
        f"{recipe}: done, needs attention (exit 1): {attention(report) or summary}",
        markup=False,
    )
    raise typer.Exit(code=int(ExitCode.ATTENTION))
