"""Scan everything a scenario produced for secrets: logs, artifacts, states, notifications.

The API key and the notification URL's tokens must appear nowhere: not in a log line
(captured in the process, or stored by Prefect), not in an artifact or a run's state
message read back through the Prefect API, not in a notification, not in a report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from tests.chaos.invariants import Violation

__all__ = ["SecretScan", "prefect_texts", "scan"]


@dataclass
class SecretScan:
    """Texts gathered from every source, with where each came from."""

    texts: list[tuple[str, str]] = field(default_factory=list)

    def add(self, source: str, text: str | None) -> None:
        """Keep a text to scan (None and empty are ignored)."""
        if text:
            self.texts.append((source, text))

    def extend(self, source: str, texts: Iterable[str | None]) -> None:
        """Keep several texts from one source."""
        for text in texts:
            self.add(source, text)


def scan(texts: Iterable[tuple[str, str]], secrets: Sequence[str]) -> list[Violation]:
    """A violation for every secret found, naming the source (never the secret)."""
    found = []
    for source, text in texts:
        for index, secret in enumerate(secrets):
            if secret and secret in text:
                found.append(Violation("no secret exposed", f"secret #{index + 1} in {source}"))
    return found


async def prefect_texts(
    flow_run_ids: Iterable[str], *, flow_name: str | None = None, since: float | None = None
) -> list[tuple[str, str]]:
    """Logs, artifacts and state messages of flow runs (and their task runs), via the API.

    Args:
        flow_run_ids: the runs to read.
        flow_name: also read every run of this flow that started after ``since`` (a
            killed child's run, whose id the test never learned).
        since: a Unix time.
    """
    from prefect import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogHandler

    ids = {UUID(i) for i in flow_run_ids}
    await APILogHandler.aflush()
    texts: list[tuple[str, str]] = []
    async with get_client() as client:
        if flow_name is not None and since is not None:
            recent = await client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
                flow_run_filter=FlowRunFilter(
                    expected_start_time=FlowRunFilterExpectedStartTime(
                        after_=cast(Any, datetime.fromtimestamp(since - 1, UTC))
                    )
                ),
            )
            ids |= {r.id for r in recent}
        if not ids:
            return []
        every = list(ids)
        offset = 0
        while True:
            logs = await client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=every)),
                limit=200,
                offset=offset,
            )
            texts += [(f"prefect log {log.name}", log.message) for log in logs]
            if len(logs) < 200:
                break
            offset += 200
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=every))
        )
        texts += [(f"artifact {a.key}", f"{a.data} {a.description or ''}") for a in artifacts]
        by_id = FlowRunFilter(id=FlowRunFilterId(any_=every))
        runs = await client.read_flow_runs(flow_run_filter=by_id)
        texts += [
            (f"flow run {r.name}", f"{r.state.message if r.state else ''} {r.parameters}")
            for r in runs
        ]
        task_runs = await client.read_task_runs(flow_run_filter=by_id)
        texts += [
            (f"task run {t.name}", t.state.message)
            for t in task_runs
            if t.state is not None and t.state.message
        ]
    return texts
