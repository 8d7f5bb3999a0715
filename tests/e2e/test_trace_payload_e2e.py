"""The trace view of a cell stored since m024 (its row and prompt shared by the run, its raw
response stored without what every chat completion has) shows the rendered messages, the
row's inputs and the whole raw response, as it did for a cell with its own copies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from promptyard import runs
from promptyard.reading import cell_trace
from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.e2e


def test_the_trace_of_a_shared_payload_cell_shows_every_field(
    workspace: Any, page: Any, app_url: str
) -> None:
    plan = runs.plan_run(
        workspace, [("summarize", None)], ["sim-fast", "sim-smart"], ("summaries", None),
        slice="head:2", repeats=2,
    )  # fmt: skip
    run_id = runs.create_run(workspace, plan)
    with ThreadPoolExecutor(1) as pool:  # Playwright owns this thread's event loop
        assert pool.submit(runs.run_sync, workspace, run_id).result(timeout=120).ok == 8
    first = next(iter(runs.iter_results(workspace, run_id)))
    trace = cell_trace(workspace, int(first["cell_id"]))
    page.goto(f"{app_url}/compare")
    wait_idle(page)
    page.get_by_text("2 rows × 2 columns").wait_for()
    # the row's inputs, from the run's shared row
    page.get_by_text(str(next(iter(first["inputs"].values())))[:40], exact=False).first.wait_for()
    page.get_by_role("button", name="Trace").first.click()
    wait_idle(page)
    page.get_by_text("Rendered messages").wait_for()
    user = next(m for m in trace.messages if m["role"] == "user")
    page.get_by_text(user["content"][:40], exact=False).first.wait_for()
    raw = page.locator('[data-testid="stCode"]', has_text='"chat.completion"').first
    raw.wait_for()
    text = raw.inner_text()
    for field in ('"object"', '"index": 0', '"role": "assistant"', '"finish_reason": "stop"',
                  '"total_tokens"', '"system_fingerprint"'):  # fmt: skip
        assert field in text, field
    assert (trace.output or "")[:30] in text
    raw.scroll_into_view_if_needed()
    screenshot(page, "trace-shared-payload")
    page.set_viewport_size({"width": 1024, "height": 768})
    wait_idle(page)
    raw.scroll_into_view_if_needed()
    screenshot(page, "trace-shared-payload-1024")
