"""The notifier: what recipes call. Dedup, routing, rendering and delivery in one place.

Example:
    >>> notifier = Notifier.from_settings()          # BARRACK_NOTIFY_* (validated here)
    >>> report = notifier.send(Alert(kind=AlertKind.SNAPSHOT_FAILED, ...))
    >>> report = notifier.resolve(AlertKind.SNAPSHOT_FAILED, Subject.for_instance("BRK-..."))
    >>> report = notifier.dispatch(alerts=run_alerts, cleared=cleared_keys)   # one digest
    >>> report.summary()
    '1 new, 2 suppressed; 2/2 deliveries ok'

No method raises once the notifier exists: failures are in the returned
:class:`~notifications.report.DeliveryReport` and in the log, with secrets masked.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from notifications.alerts import Alert, AlertKey, AlertKind, FactValue, Subject
from notifications.config import NotifySettings, SecretReader, load_url_entries
from notifications.dedup import AlertRecord, Notice, SendDecision, decide, record_sent
from notifications.delivery import DeliveryResult, deliver
from notifications.destinations import Destination, build_destinations
from notifications.links import current_flow_run_url
from notifications.masking import Redactor, environment_secrets
from notifications.render import Message, MessageType, alert_title, render_message
from notifications.report import AlertOutcome, DeliveryReport
from notifications.routing import RoutingRules
from notifications.sources import parse_url_list
from notifications.state import AlertLedger, AlertStateStore, select_store
from notifications.text import describe_error

__all__ = ["Notifier"]

logger = logging.getLogger(__name__)

DEFAULT_REPEAT_INTERVAL = timedelta(hours=6)
DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_PARALLEL_SENDS = 8

# A resolution is rendered as its own kind where one exists ("balance recovered").
_RESOLVED_KIND = {AlertKind.LOW_BALANCE: AlertKind.BALANCE_RESOLVED}
_EMAIL_SCHEMAS = frozenset({"mailto", "mailtos"})
"""apprise's email URL schemas: those destinations get the long body (the full table)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Clearance:
    key: AlertKey
    facts: dict[str, FactValue]
    flow_run_url: str | None


@dataclass
class _Planned:
    """One notice on its way out, and where it went."""

    notice: Notice
    key: AlertKey
    record: AlertRecord | None
    # What routing sees: the alert itself, or for a resolution the alert it resolves
    # (a "balance recovered" must reach the kind:low-balance destination).
    route_as: Alert
    routed: int = 0
    accepted_by: list[str] = dataclasses.field(default_factory=list)


class Notifier:
    """Sends alerts to the configured destinations, once per repeat interval.

    Args:
        destinations: Loaded destinations (:meth:`from_settings` and :meth:`from_urls`
            build them from configuration).
        routing: Which tags receive which alerts.
        store: The dedup ledger; default in memory (use a file or Prefect store to dedup
            across runs: :meth:`from_settings` does).
        repeat_interval: How long an open alert stays quiet before it is sent again.
        timeout: Seconds per destination per send.
        now: The clock (injectable so tests need not sleep); must return aware datetimes.
        extra_secrets: More strings to mask in everything sent and logged.
    """

    def __init__(
        self,
        destinations: Sequence[Destination] = (),
        *,
        routing: RoutingRules | None = None,
        store: AlertStateStore | None = None,
        repeat_interval: timedelta = DEFAULT_REPEAT_INTERVAL,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        now: Callable[[], datetime] = _utc_now,
        extra_secrets: Iterable[str] = (),
    ) -> None:
        if repeat_interval <= timedelta(0):
            raise ValueError("repeat_interval must be positive")
        if timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds")
        self.destinations = tuple(destinations)
        self.routing = routing or RoutingRules()
        self.store: AlertStateStore = store if store is not None else AlertLedger.in_memory()
        self.repeat_interval = repeat_interval
        self.timeout = timeout
        self._now = now
        secrets = {s for d in self.destinations for s in d.secrets}
        self._redactor = Redactor(secrets | environment_secrets() | set(extra_secrets))
        # One dispatch at a time: the ledger read-decide-write must not interleave.
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls,
        settings: NotifySettings | None = None,
        *,
        secret_reader: SecretReader | None = None,
        store: AlertStateStore | None = None,
        now: Callable[[], datetime] = _utc_now,
    ) -> Notifier:
        """Build a notifier from ``BARRACK_NOTIFY_*`` settings, validating every URL now.

        Args:
            settings: Default: read from the environment.
            secret_reader: Reads the Secret block (default: Prefect's ``Secret.load``).
            store: Default: chosen by ``settings.state`` (see :func:`select_store`).
            now: The clock.

        Raises:
            NotificationConfigError: Listing every malformed or unsupported URL (masked),
                bad tag, unreadable config file or Secret block.
        """
        settings = settings if settings is not None else NotifySettings()
        routing = RoutingRules().with_routes(settings.routes)
        destinations = build_destinations(
            load_url_entries(settings, secret_reader=secret_reader), routing
        )
        return cls(
            destinations,
            routing=routing,
            store=store if store is not None else select_store(settings.state, settings.state_file),
            repeat_interval=settings.repeat_interval,
            timeout=settings.timeout,
            now=now,
        )

    @classmethod
    def from_urls(
        cls, urls: str | Sequence[str], *, routing: RoutingRules | None = None, **options: Any
    ) -> Notifier:
        """Build a notifier from ``[tags=]url`` text (the ``BARRACK_NOTIFY_URLS`` syntax).

        Args:
            urls: One string or several; each may hold several entries.
            routing: Default: the standard tag routes.
            **options: Passed to the constructor (store, repeat_interval, timeout, now).

        Raises:
            NotificationConfigError: A URL or tag is malformed or unsupported.
        """
        text = urls if isinstance(urls, str) else " ".join(urls)
        routing = routing or RoutingRules()
        destinations = build_destinations(parse_url_list(text, "urls"), routing)
        return cls(destinations, routing=routing, **options)

    def send(self, alerts: Alert | Iterable[Alert]) -> DeliveryReport:
        """Report one or several alerts; those due go out, several as one digest per destination."""
        return self.dispatch(alerts=[alerts] if isinstance(alerts, Alert) else alerts)

    def resolve(
        self,
        kind: AlertKind,
        subject: Subject,
        *,
        facts: dict[str, FactValue] | None = None,
        flow_run_url: str | None = None,
    ) -> DeliveryReport:
        """Report a condition cleared: one "resolved" message if an alert about it was sent.

        Safe to call on every run where the condition is absent: when nothing is open it
        sends nothing (decision ``not-open``).
        """
        clearance = _Clearance(
            AlertKey(kind=kind, subject=subject), dict(facts or {}), flow_run_url
        )
        return self._guarded(lambda: self._dispatch([], [clearance]))

    def dispatch(
        self, alerts: Iterable[Alert] = (), cleared: Iterable[AlertKey] = ()
    ) -> DeliveryReport:
        """Report a run's alerts and cleared conditions together: one message per destination.

        Args:
            alerts: Conditions present now. The same key twice counts once, at its worst.
            cleared: Conditions found absent now; open ones get a resolved line.
        """
        clearances = [_Clearance(key, {}, None) for key in cleared]
        return self._guarded(lambda: self._dispatch(list(alerts), clearances))

    def send_document(
        self,
        alert: Alert,
        *,
        short_body: str,
        long_body: str,
        attachments: Sequence[str] = (),
    ) -> DeliveryReport:
        """Send a report (a digest), not a condition: no dedup ledger, no repeat, no resolve.

        ``alert`` routes it (its kind and severity pick the destinations, as an alert's
        would) and titles it. Email destinations get ``long_body`` (the full table) and the
        attachments; chat destinations get ``short_body`` (a Slack-length summary) and the
        attachments when their apprise plugin takes them. Both bodies are Markdown (plain
        text destinations receive them as they are). Never raises.
        """
        return self._guarded(lambda: self._send_document(alert, short_body, long_body, attachments))

    def _send_document(
        self, alert: Alert, short_body: str, long_body: str, attachments: Sequence[str]
    ) -> DeliveryReport:
        title = self._redactor.redact(alert_title(alert))
        report = DeliveryReport()
        for destination in self.destinations:
            if self.routing.is_fallback(destination.tags) or not self.routing.accepts(
                destination.tags, alert
            ):
                continue
            email = destination.schema in _EMAIL_SCHEMAS
            message = Message(
                title=title,
                body=self._redactor.redact(long_body if email else short_body),
                type=MessageType.INFO,
                body_format=destination.body_format,
            )
            report.deliveries.append(
                deliver(
                    destination,
                    message,
                    timeout=self.timeout,
                    redactor=self._redactor,
                    attachments=attachments,
                )
            )
        return report

    def open_alerts(self) -> list[AlertRecord]:
        """The alerts sent and not resolved yet, oldest first (empty if the ledger fails)."""
        try:
            records = self.store.all().values()
        except Exception as error:
            logger.warning("notification ledger unreadable: %s", self._describe_error(error))
            return []
        return sorted(records, key=lambda record: record.first_sent_at)

    def describe(self) -> list[str]:
        """One line per destination: its masked URL, tags, format and what it receives."""
        return [
            f"{d.label} ({d.body_format.value}): {self.routing.describe(d.tags)}"
            for d in self.destinations
        ]

    def __repr__(self) -> str:
        labels = ", ".join(d.label for d in self.destinations)
        return f"Notifier([{labels}], store={self.store.describe()!r})"

    # -- the pipeline --------------------------------------------------------------------

    def _guarded(self, run: Callable[[], DeliveryReport]) -> DeliveryReport:
        try:
            with self._lock:
                return run()
        except Exception as error:  # the promise: a notifier never breaks the recipe
            problem = f"notifier error: {self._describe_error(error)}"
            logger.error(problem)
            return DeliveryReport(problems=[problem])

    def _dispatch(self, alerts: list[Alert], clearances: list[_Clearance]) -> DeliveryReport:
        now = self._now()
        report = DeliveryReport()
        worst: dict[str, Alert] = {}
        for alert in alerts:
            known = worst.get(alert.key.id)
            if known is None or alert.severity >= known.severity:
                worst[alert.key.id] = alert
        run_url = current_flow_run_url()
        planned: list[_Planned] = []
        for alert in worst.values():
            if alert.flow_run_url is None and run_url:
                alert = alert.with_changes(flow_run_url=run_url)
            item = self._plan_alert(alert, now, report)
            if item is not None:
                planned.append(item)
        for clearance in clearances:
            if clearance.key.id in worst:
                continue  # reported present in the same call: the alert wins
            item = self._plan_clearance(clearance, run_url, report)
            if item is not None:
                planned.append(item)
        if planned:
            report.deliveries.extend(self._deliver(planned))
        for item in planned:
            report.outcomes.append(self._settle(item, now, report))
        undelivered = report.undelivered
        if undelivered:
            logger.warning(
                "%d notification(s) reached no destination: %s",
                len(undelivered),
                ", ".join(f"{o.key} ({o.note})" for o in undelivered),
            )
        return report

    def _plan_alert(self, alert: Alert, now: datetime, report: DeliveryReport) -> _Planned | None:
        key = alert.key
        record = self._read(key, report)
        decision = decide(record, alert.severity, now, self.repeat_interval)
        if decision is SendDecision.SUPPRESSED:
            assert record is not None  # only an open record suppresses
            self._write(
                key, record.model_copy(update={"suppressed": record.suppressed + 1}), report
            )
            report.outcomes.append(_outcome(key, alert, decision, note="sent recently"))
            return None
        notice = Notice(
            alert=alert,
            decision=decision,
            open_since=record.first_sent_at if record else None,
            previous_severity=record.severity if record else None,
            suppressed=record.suppressed if record else 0,
        )
        return _Planned(notice=notice, key=key, record=record, route_as=alert)

    def _plan_clearance(
        self, clearance: _Clearance, run_url: str | None, report: DeliveryReport
    ) -> _Planned | None:
        key = clearance.key
        record = self._read(key, report)
        if record is None:
            report.outcomes.append(
                AlertOutcome(
                    key=key.id,
                    kind=key.kind,
                    subject=key.subject.label,
                    decision=SendDecision.NOT_OPEN,
                    note="no alert was open",
                )
            )
            return None
        # Routed as the alert last sent: the pager that was paged hears the all-clear.
        route_as = Alert(kind=record.kind, severity=record.severity, subject=record.subject)
        resolved_kind = _RESOLVED_KIND.get(record.kind)
        alert = Alert(
            kind=resolved_kind or record.kind,
            severity=record.severity,
            subject=record.subject,
            title=None if resolved_kind else record.title,
            facts=clearance.facts,
            flow_run_url=clearance.flow_run_url or run_url,
        )
        notice = Notice(
            alert=alert, decision=SendDecision.RESOLVED, open_since=record.first_sent_at
        )
        return _Planned(notice=notice, key=key, record=record, route_as=route_as)

    def _deliver(self, planned: list[_Planned]) -> list[DeliveryResult]:
        primaries = [d for d in self.destinations if not self.routing.is_fallback(d.tags)]
        fallbacks = [d for d in self.destinations if self.routing.is_fallback(d.tags)]
        jobs = [
            (
                destination,
                [p for p in planned if self.routing.accepts(destination.tags, p.route_as)],
            )
            for destination in primaries
        ]
        jobs = [(destination, items) for destination, items in jobs if items]
        for _, items in jobs:
            for item in items:
                item.routed += 1
        results = self._run(jobs, fallback=False, note=None)
        stranded = [p for p in planned if p.routed and not p.accepted_by]
        if stranded and fallbacks:
            failed = sorted({r.destination for r in results if not r.ok})
            note = "Sent to the fallback destination: every primary destination failed (" + (
                ", ".join(failed) + ")."
            )
            fallback_jobs = [
                (
                    destination,
                    [
                        p
                        for p in stranded
                        if self.routing.accepts_as_fallback(destination.tags, p.route_as)
                    ],
                )
                for destination in fallbacks
            ]
            results += self._run([(d, i) for d, i in fallback_jobs if i], fallback=True, note=note)
        return results

    def _run(
        self,
        jobs: list[tuple[Destination, list[_Planned]]],
        *,
        fallback: bool,
        note: str | None,
    ) -> list[DeliveryResult]:
        def send(job: tuple[Destination, list[_Planned]]) -> DeliveryResult:
            destination, items = job
            message = self._render([item.notice for item in items], destination, note)
            result = deliver(
                destination,
                message,
                timeout=self.timeout,
                redactor=self._redactor,
                alerts=len(items),
                fallback=fallback,
            )
            if result.ok:
                for item in items:
                    item.accepted_by.append(destination.display)
            return result

        if len(jobs) <= 1:
            return [send(job) for job in jobs]
        # A destination that hangs until its timeout must not hold up the others.
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_SENDS, len(jobs))) as pool:
            return list(pool.map(send, jobs))

    def _render(self, notices: list[Notice], destination: Destination, note: str | None) -> Message:
        # Mask before rendering as well as after: Markdown escaping rewrites text
        # (``brk_live`` becomes ``brk\\_live``), so a secret escaped first would no longer
        # match the redactor.
        masked = [dataclasses.replace(n, alert=self._masked(n.alert)) for n in notices]
        message = render_message(masked, destination.body_format, note=note)
        return dataclasses.replace(
            message,
            title=self._redactor.redact(message.title),
            body=self._redactor.redact(message.body),
        )

    def _masked(self, alert: Alert) -> Alert:
        def mask(value: FactValue) -> FactValue:
            if isinstance(value, str):
                return self._redactor.redact(value)
            if isinstance(value, list):
                return [self._redactor.redact(v) for v in value]
            return value

        title = self._redactor.redact(alert.title) if alert.title else alert.title
        facts = {label: mask(value) for label, value in alert.facts.items()}
        return alert.with_changes(title=title, facts=facts)

    def _settle(self, item: _Planned, now: datetime, report: DeliveryReport) -> AlertOutcome:
        notice, key = item.notice, item.key
        if item.accepted_by:
            if notice.decision is SendDecision.RESOLVED:
                self._delete(key, report)
            else:
                title = self._redactor.redact(alert_title(notice.alert))
                self._write(key, record_sent(item.record, notice.alert, title, now), report)
            note = None
        elif not self.destinations:
            # Not recorded: once a destination is configured, the next run sends it.
            note = "no notification destination is configured"
        elif not item.routed:
            # Not recorded: if routes change, the next run sends it.
            note = f"no destination receives {notice.alert.severity.value} {key.kind.value} alerts"
        else:
            # Not recorded either: the next run tries again.
            note = "every destination failed"
        return _outcome(
            key,
            notice.alert,
            notice.decision,
            delivered=bool(item.accepted_by),
            destinations=item.accepted_by,
            note=note,
        )

    # -- the ledger, fail-open: a broken ledger means repeats, never silence ----------

    def _read(self, key: AlertKey, report: DeliveryReport) -> AlertRecord | None:
        try:
            return self.store.get(key.id)
        except Exception as error:
            report.problems.append(
                f"ledger read failed for {key.id}: {self._describe_error(error)}"
            )
            return None

    def _write(self, key: AlertKey, record: AlertRecord, report: DeliveryReport) -> None:
        try:
            self.store.put(key.id, record)
        except Exception as error:
            report.problems.append(
                f"ledger write failed for {key.id}: {self._describe_error(error)}"
            )

    def _delete(self, key: AlertKey, report: DeliveryReport) -> None:
        try:
            self.store.delete(key.id)
        except Exception as error:
            report.problems.append(
                f"ledger delete failed for {key.id}: {self._describe_error(error)}"
            )

    def _describe_error(self, error: BaseException) -> str:
        return self._redactor.redact(describe_error(error))[:500]


def _outcome(
    key: AlertKey,
    alert: Alert,
    decision: SendDecision,
    *,
    delivered: bool = False,
    destinations: Sequence[str] = (),
    note: str | None = None,
) -> AlertOutcome:
    return AlertOutcome(
        key=key.id,
        kind=key.kind,
        subject=key.subject.label,
        severity=alert.severity,
        decision=decision,
        delivered=delivered,
        destinations=list(destinations),
        note=note,
    )
