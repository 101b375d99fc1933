"""Sending one message to one destination, and knowing exactly how it went.

Each destination gets its own ``apprise.Apprise`` object holding only its service, so the
result of every send is known per destination: apprise's own result for a multi-service
call is one flag for all of them. A send never raises: whatever goes wrong becomes a
failed :class:`DeliveryResult` with a reason in which every secret is masked.

A send never outlives its deadline either: it runs on a daemon thread that is waited for
``timeout`` seconds and then abandoned. Socket timeouts bound each read, not a whole
answer, so a destination that trickles one byte at a time would otherwise hold a thread
(and, at exit, the whole process) for as long as it likes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from enum import StrEnum

import apprise
from pydantic import BaseModel, ConfigDict

from notifications.destinations import APPRISE_ASSET, Destination
from notifications.masking import Redactor
from notifications.render import Message

__all__ = ["DeliveryResult", "DeliveryStatus", "deliver", "takes_attachments"]

logger = logging.getLogger(__name__)

# Time given beyond the timeout to a send that is finishing on its own (apprise's own
# bookkeeping after the last read) before it is abandoned.
_ABANDON_GRACE_SECONDS = 1.0


class DeliveryStatus(StrEnum):
    """How one send ended."""

    DELIVERED = "delivered"
    FAILED = "failed"
    TIMEOUT = "timeout"


class DeliveryResult(BaseModel):
    """The outcome of one message sent to one destination.

    Attributes:
        destination: The masked URL.
        tags: The destination's routing tags.
        status: delivered, failed or timeout.
        reason: Why it failed (masked), None when delivered.
        fallback: True when the destination was used as a fallback.
        alerts: How many alerts the message carried.
        title: The message title (rendered from alerts; carries no secrets).
        elapsed_seconds: How long the send took.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    destination: str
    tags: list[str]
    status: DeliveryStatus
    reason: str | None = None
    fallback: bool = False
    alerts: int
    title: str
    elapsed_seconds: float

    @property
    def ok(self) -> bool:
        """True when the destination accepted the message."""
        return self.status is DeliveryStatus.DELIVERED


def deliver(
    destination: Destination,
    message: Message,
    *,
    timeout: float,
    redactor: Redactor,
    alerts: int = 1,
    fallback: bool = False,
    attachments: Sequence[str] = (),
) -> DeliveryResult:
    """Send ``message`` to ``destination`` within ``timeout`` seconds; never raises.

    Args:
        destination: Where to send.
        message: What to send; its body format should be ``destination.body_format``.
        timeout: Seconds for the whole send (connect and read included).
        redactor: Masks secrets in the failure reason.
        alerts: How many alerts the message carries (for the report).
        fallback: Whether the destination stands in for failed primaries (for the report).
        attachments: Files to attach (paths), for destinations whose apprise plugin
            takes attachments (email, some chat services); others get the message only.
    """
    started = time.monotonic()
    status, reason = _send(destination, message, timeout, redactor, tuple(attachments))
    result = DeliveryResult(
        destination=destination.display,
        tags=sorted(destination.tags),
        status=status,
        reason=reason,
        fallback=fallback,
        alerts=alerts,
        title=message.title,
        elapsed_seconds=round(time.monotonic() - started, 3),
    )
    if result.ok:
        logger.info("notification %r delivered to %s", message.title, destination.display)
    else:
        logger.warning(
            "notification %r to %s %s: %s",
            message.title,
            destination.display,
            "timed out" if status is DeliveryStatus.TIMEOUT else "failed",
            reason,
        )
    return result


def _send(
    destination: Destination,
    message: Message,
    timeout: float,
    redactor: Redactor,
    attachments: tuple[str, ...] = (),
) -> tuple[DeliveryStatus, str | None]:
    """Send on a daemon thread; past ``timeout`` the thread is left behind, never waited on."""
    outcome: list[tuple[DeliveryStatus, str | None]] = []

    def run() -> None:
        outcome.append(_send_now(destination, message, timeout, redactor, attachments))

    sender = threading.Thread(target=run, name="notification-send", daemon=True)
    sender.start()
    sender.join(timeout + _ABANDON_GRACE_SECONDS)
    if outcome:
        return outcome[0]
    return DeliveryStatus.TIMEOUT, (
        f"no complete answer within {timeout:g} s (abandoned; the destination may still be sending)"
    )


def takes_attachments(destination: Destination) -> bool:
    """Whether the destination's apprise plugin sends attachments (email, some chats)."""
    return bool(getattr(destination.service, "attachment_support", False))


def _send_now(
    destination: Destination,
    message: Message,
    timeout: float,
    redactor: Redactor,
    attachments: tuple[str, ...] = (),
) -> tuple[DeliveryStatus, str | None]:
    service = destination.service
    # The socket timeouts bound each connect and read; the caller's deadline bounds the
    # whole send (an SMTP dialogue is several reads). Lower only: a URL's own ?cto= wins.
    service.socket_connect_timeout = min(float(service.socket_connect_timeout), timeout)
    service.socket_read_timeout = min(float(service.socket_read_timeout), timeout)
    try:
        sender = apprise.Apprise(asset=APPRISE_ASSET)
        sender.add(service)
        result = sender.notify(
            body=message.body,
            title=message.title,
            notify_type=apprise.NotifyType(message.type.value),
            body_format=apprise.NotifyFormat(message.body_format.value),
            attach=list(attachments) if attachments and takes_attachments(destination) else None,
        )
    except Exception as error:  # a plugin bug must not reach the recipe
        return DeliveryStatus.FAILED, redactor.redact(f"{type(error).__name__}: {error}")
    if result:
        return DeliveryStatus.DELIVERED, None
    if result.status == apprise.AppriseResultStatus.TIMEOUT:
        return DeliveryStatus.TIMEOUT, f"no answer within {timeout:g} s"
    messages = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR")]
    reason = " / ".join(dict.fromkeys(messages)) or f"apprise reported {result.status.name}"
    return DeliveryStatus.FAILED, redactor.redact(reason)
