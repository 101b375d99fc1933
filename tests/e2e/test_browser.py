"""The Prefect UI of the stack, as an operator uses it, in Debian's headless Chromium.

Open the UI, find the nightly-snapshots deployment, start a custom run: first with a bad
value (the form refuses it), then with ``dry_run`` switched on; follow the run until it is
Completed and its artifact is listed; keep a screenshot. Playwright drives the system
browser (``executable_path``): no browser is downloaded.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest

from deployments.stack import RunningStack
from simulator.control import SimControl

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Response

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RUN_TIMEOUT_MS = 300_000
ARTIFACT_KEY = "nightly-snapshots-nightly"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    """Chromium with a fresh profile; closed (and its processes gone) after the test."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (make test installs Debian's chromium as root)")
    sync_api = pytest.importorskip("playwright.sync_api")
    profile = tmp_path / "chromium-profile"
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1400, "height": 900},
        )
        context.set_default_timeout(60_000)
        try:
            yield context
        finally:
            context.close()
    shutil.rmtree(profile, ignore_errors=True)


def _open_custom_run(page: Page, ui_url: str) -> None:
    """Dashboard -> Deployments -> nightly-snapshots -> Run -> Custom run."""
    page.goto(ui_url)
    page.get_by_role("link", name="Deployments", exact=True).click()
    page.get_by_role("link", name="nightly-snapshots", exact=True).first.click()
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Custom run").click()
    page.get_by_role("switch", name="Dry Run (Optional)").wait_for()


@contextlib.contextmanager
def _screenshot_on_failure(page: Page, path: Path) -> Iterator[None]:
    """Keep what the browser showed when a step failed (the path is in the failure)."""
    try:
        yield
    except Exception as exc:
        page.screenshot(path=str(path), full_page=True)
        exc.add_note(f"screenshot of the page: {path}")
        raise


def _creates_a_flow_run(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/create_flow_run")


def _submit(page: Page, tries: int = 3) -> Response:
    """Submit the form; submit again while the server answers 503.

    Prefect's server answers 503 for errors it calls retryable (SQLite busy under the
    stack's worker and scheduler): the transaction was rolled back and no run exists. Its
    Python client retries those; the UI shows an error and the operator clicks again.
    The test checks afterwards that exactly one run was created.
    """
    for _ in range(tries):
        with page.expect_response(_creates_a_flow_run) as created:
            page.get_by_role("button", name="Submit").click()
        response = created.value
        if response.status != 503:
            break
        page.wait_for_timeout(1_000)
    return response


def test_custom_dry_run_from_the_ui_completes_with_its_artifact(
    local_stack: RunningStack, sim: SimControl, browser: BrowserContext, tmp_path: Path
) -> None:
    from playwright.sync_api import expect
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.client.schemas.objects import StateType

    with SyncPrefectClient(local_stack.state.api_url) as client:
        deployment = client.read_deployment_by_name("nightly-snapshots/nightly-snapshots")
        before = {r.id for r in client.read_flow_runs(limit=200)}

    page = browser.new_page()
    with _screenshot_on_failure(page, tmp_path / "failure.png"):
        _open_custom_run(page, local_stack.state.ui_url)
        form_url = page.url

        # A bad value is refused by the form: nothing is submitted.
        max_deletions = page.get_by_label("Max Deletions (Optional)")
        max_deletions.fill("-1")
        page.get_by_role("button", name="Submit").click()
        assert max_deletions.evaluate("e => e.validationMessage")
        assert page.url == form_url
        max_deletions.fill("50")

        dry_run = page.get_by_role("switch", name="Dry Run (Optional)")
        dry_run.click()
        expect(dry_run).to_be_checked()
        response = _submit(page)
        assert response.ok, f"create_flow_run answered {response.status}: {response.text()}"
        run_id = UUID(response.json()["id"])
        run_name = response.json()["name"]
        # Back on the deployment's page, the new run is listed: open it.
        page.get_by_role("link", name=run_name, exact=True).first.click()
        page.wait_for_url(re.compile(rf".*/runs/flow-run/{run_id}.*"))

        expect(page.get_by_text("Completed", exact=True).first).to_be_visible(
            timeout=RUN_TIMEOUT_MS
        )
        # The page fetched the run's artifacts while it ran; an operator reloads to see them.
        page.reload()
        page.get_by_role("tab", name="Artifacts").click()
        expect(page.get_by_text(ARTIFACT_KEY, exact=True).first).to_be_visible(timeout=30_000)
        screenshot = tmp_path / "nightly-snapshots-dry-run.png"
        page.screenshot(path=str(screenshot), full_page=True)
        assert screenshot.stat().st_size > 10_000

    # What the UI showed is what happened: the run took dry_run from the form, completed,
    # published its report, and changed nothing on the (simulated) cloud.
    with SyncPrefectClient(local_stack.state.api_url) as client:
        run = client.read_flow_run(run_id)
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
        new_runs = [r for r in client.read_flow_runs(limit=200) if r.id not in before]
    params: dict[str, Any] = run.parameters  # the recipe's fields, at the top level
    assert params["dry_run"] is True
    assert params["max_deletions"] == 50
    assert run.state is not None
    assert run.state.type is StateType.COMPLETED
    assert ARTIFACT_KEY in {a.key for a in artifacts}
    assert run.deployment_id == deployment.id
    assert [r.id for r in new_runs] == [run_id], "the refused form created no run"
    writes = [e for e in sim.requests() if e["method"] in ("POST", "PUT", "PATCH", "DELETE")]
    assert writes == [], writes
