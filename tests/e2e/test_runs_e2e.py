"""A newcomer starts a run on an example dataset, reloads the page mid-run, sees it finish."""

from __future__ import annotations

from typing import Any

import pytest

from promptyard import runs
from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server_env() -> dict[str, str | None]:
    """Simulated answers take ~3 s, so the run is still going when the page reloads."""
    return {"PROMPTYARD_SIMULATOR_URL": None, "PROMPTYARD_SIMULATOR_LATENCY_MS": "3000"}


def test_start_run_reload_mid_run_and_see_it_finish(
    workspace: Any, page: Any, app_url: str
) -> None:
    page.goto(f"{app_url}/runs")
    wait_idle(page)
    assert not page.errors
    # The form opens with a plan that fits: an example prompt on a dataset it can use.
    page.get_by_text("Calls").first.wait_for()
    page.get_by_role("button", name="Start run").click()
    page.get_by_role("heading", name="Run 1 · running").wait_for(timeout=60_000)
    screenshot(page, "runs-running")

    progress = runs.run_progress(workspace, 1)
    assert progress.done < progress.total, "the run ended before the reload"
    page.reload()
    wait_idle(page)
    # After the reload the run is still there and still going (it lives in a worker).
    page.get_by_text("Run 1 ·").first.wait_for()
    page.get_by_role("heading", name="Run 1 · completed").wait_for(timeout=120_000)
    screenshot(page, "runs-completed")

    summary = runs.run_summary(workspace, 1)
    assert summary.status == "completed"
    assert summary.ok == summary.cells > 0 and summary.errors == 0
    # The progress fragment catches up within a poll or two of the heading.
    page.get_by_text(f"{summary.cells:,} / {summary.cells:,} cells").first.wait_for(timeout=30_000)
    assert not page.errors
