"""Prefect flow hooks: a critical ``flow-failed`` alert when a recipe fails or crashes.

Example:
    >>> from prefect import flow
    >>> from notifications import Notifier, failure_hooks, recovery_hook
    >>> on_failure, on_crashed = failure_hooks(Notifier.from_settings)
    >>> @flow(on_failure=[on_failure], on_crashed=[on_crashed],
    ...       on_completion=[recovery_hook(Notifier.from_settings)])
    ... def nightly_snapshots() -> None: ...

The alert is about the flow (not the run), so a flow failing every ten minutes pages once
per repeat interval, and :func:`recovery_hook` sends one "resolved" when it next succeeds.
It carries the run's name, the state message (the error's type and text, secrets masked)
and the run's page in the Prefect UI when ``PREFECT_UI_URL`` is known. A hook never raises:
a broken notification setup is logged, and the flow's own state is what Prefect records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from notifications.alerts import Alert, AlertKind, Severity, Subject
from notifications.errors import NotificationConfigError
from notifications.links import flow_run_ui_url
from notifications.masking import Redactor, environment_secrets
from notifications.notifier import Notifier
from notifications.text import describe_error

__all__ = ["FailureHooks", "failure_hooks", "flow_failure_alert", "recovery_hook"]

logger = logging.getLogger(__name__)

if TYPE_CHECKING:  # Prefect is imported by the flow that uses the hooks, not here
    from prefect import Flow
    from prefect.client.schemas.objects import FlowRun, State
    from prefect.flows import FlowStateHook

    FlowHook = FlowStateHook[..., Any]
    """A Prefect flow state hook: ``hook(flow, flow_run, state)``, for any flow."""

NotifierSource = Notifier | Callable[[], Notifier]

MAX_ERROR_LENGTH = 500


class FailureHooks(NamedTuple):
    """The two hooks, for ``@flow(on_failure=[...], on_crashed=[...])``."""

    on_failure: FlowHook
    on_crashed: FlowHook


def failure_hooks(notifier: NotifierSource) -> FailureHooks:
    """Hooks that send a critical ``flow-failed`` alert for a failed or crashed flow run.

    Args:
        notifier: A notifier, or a factory such as ``Notifier.from_settings`` called when
            a hook fires (in the process that runs the flow, with its environment).
    """

    def on_failure(flow: Flow[..., Any], flow_run: FlowRun, state: State[Any]) -> None:
        _send_failure(notifier, flow, flow_run, state, crashed=False)

    def on_crashed(flow: Flow[..., Any], flow_run: FlowRun, state: State[Any]) -> None:
        _send_failure(notifier, flow, flow_run, state, crashed=True)

    return FailureHooks(on_failure=on_failure, on_crashed=on_crashed)


def recovery_hook(notifier: NotifierSource) -> FlowHook:
    """An ``on_completion`` hook: resolves the flow's open ``flow-failed`` alert, if any."""

    def on_completion(flow: Flow[..., Any], flow_run: FlowRun, state: State[Any]) -> None:
        try:
            report = _build(notifier).resolve(
                AlertKind.FLOW_FAILED,
                Subject.for_flow(flow.name),
                flow_run_url=flow_run_ui_url(flow_run.id),
            )
            if report.problems or report.undelivered:
                logger.warning("flow recovery notification: %s", report.summary())
        except Exception as error:  # a hook must not change the flow's outcome
            logger.error("flow recovery notification not sent: %s", _describe(error))

    return on_completion


def flow_failure_alert(
    *,
    flow_name: str,
    run_name: str,
    state_name: str,
    message: str | None,
    run_url: str | None,
    crashed: bool,
) -> Alert:
    """The alert for a failed or crashed run (pure; the hooks call it).

    The message is masked: secret-looking values and the values of secret environment
    variables (``BARRACK_API_KEY``...) are replaced with ``****``.
    """
    error = Redactor(environment_secrets()).redact(message or "no message")
    if len(error) > MAX_ERROR_LENGTH:
        error = error[: MAX_ERROR_LENGTH - 1] + "…"
    verb = "crashed" if crashed else "failed"
    return Alert(
        kind=AlertKind.FLOW_FAILED,
        severity=Severity.CRITICAL,
        subject=Subject.for_flow(flow_name),
        title=f"Flow {flow_name} {verb}: run {run_name}",
        facts={"flow_run": run_name, "state": state_name, "error": error},
        flow_run_url=run_url,
    )


def _send_failure(
    notifier: NotifierSource,
    flow: Flow[..., Any],
    flow_run: FlowRun,
    state: State[Any],
    *,
    crashed: bool,
) -> None:
    try:
        alert = flow_failure_alert(
            flow_name=flow.name,
            run_name=flow_run.name,
            state_name=state.name or state.type.value,
            message=state.message,
            run_url=flow_run_ui_url(flow_run.id),
            crashed=crashed,
        )
        report = _build(notifier).send(alert)
        if report.problems or report.undelivered:
            logger.warning("flow failure notification: %s", report.summary())
    except Exception as error:  # a hook must not change the flow's outcome
        logger.error("flow failure notification not sent: %s", _describe(error))


def _describe(error: Exception) -> str:
    # A configuration error's text is masked by construction; any other error may quote
    # anything, so only its type is logged.
    return describe_error(error, quote_message=isinstance(error, NotificationConfigError))


def _build(notifier: NotifierSource) -> Notifier:
    return notifier if isinstance(notifier, Notifier) else notifier()
