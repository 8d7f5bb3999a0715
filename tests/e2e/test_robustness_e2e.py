"""A person opens a robustness run in Compare: the consistency table per kind and version,
then a broken variant beside its original; typed markup in a row stays text."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from promptyard import robustness as rb
from promptyard import runs
from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.e2e


def _robustness_run(ws: Any) -> int:
    path = ws.datasets_dir / "tickets.jsonl"
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace(
        "I was charged twice", "<img src=x onerror='window.__pwned=1'> I was charged twice"
    )
    path.write_text("\n".join(lines) + "\n")
    rplan = rb.plan_robustness(
        ws,
        [("support_reply", "v1"), ("support_reply", None)],
        ["echo"],
        ("tickets", None),
        slice="head:4",
        kinds="case,typos",
        seed=2,
    )
    run_id = rb.create_robustness_run(ws, rplan)

    def run_and_score() -> None:
        runs.run_sync(ws, run_id)
        rb.score_robustness(ws, run_id)

    # Playwright's sync API owns this thread's event loop; the run gets a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(run_and_score).result(timeout=120)
    return run_id


def test_compare_shows_consistency_and_a_broken_pair(
    workspace: Any, page: Any, app_url: str
) -> None:
    run_id = _robustness_run(workspace)
    page.goto(f"{app_url}/compare?run={run_id}")
    wait_idle(page)
    panel = page.get_by_text("Robustness: consistency per perturbation kind")
    panel.wait_for()
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    screenshot(page, "robustness-compare-table")
    header = page.get_by_text("t-001 · typos · support_reply v1 · echo · ❌ broke")
    header.wait_for()
    header.scroll_into_view_if_needed()
    page.get_by_text("variant output").first.wait_for()
    screenshot(page, "robustness-compare-pair")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src='x']").count() == 0
    # Equivalent pairs are hidden until "Broken only" is off.
    assert page.get_by_text("· case · support_reply v1 · echo · ✅ equivalent").count() == 0
    page.get_by_text("Broken only").click()
    wait_idle(page)
    page.get_by_text("· case · support_reply v1 · echo · ✅ equivalent").first.wait_for()
