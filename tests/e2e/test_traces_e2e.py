"""In a real browser: the Traces list, one trace's detail, and three traces into a dataset."""

from __future__ import annotations

from typing import Any

import pytest

from promptyard import datasets
from tests.e2e.conftest import screenshot, wait_idle
from tests.traces_seed import add, feedback, llm_span, root_span, trace_id

pytestmark = pytest.mark.e2e

ROW_PX = 35  # st.dataframe's row height (and its header's)


def _seed(ws: Any) -> None:
    spans = []
    for n in range(1, 6):
        root = root_span(n, user_id="alice", session_id="chat-1")
        spans += [
            root,
            llm_span(
                n,
                1,
                parent_span_id=root.span_id,
                session_id="chat-1",
                output=f"Answer {n}: a new leg ships today.",
            ),  # fmt: skip
        ]
    add(ws, *spans)
    add(ws, feedback(5, 1.0, comment="solved it"))


def test_list_detail_and_three_traces_into_a_dataset(
    page: Any, app_url: str, workspace: Any
) -> None:
    _seed(workspace)
    page.goto(f"{app_url}/traces")
    wait_idle(page)
    page.get_by_text("Showing 1–5 of 5 spans, newest first").wait_for()
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for()
    box = grid.bounding_box()
    assert box is not None

    # Select the newest row: its trace opens below the list.
    page.mouse.click(box["x"] + 12, box["y"] + ROW_PX * 1.5)
    wait_idle(page)
    page.get_by_text(f"Trace {trace_id(5)[:12]}…").wait_for()
    page.locator(".js-plotly-plot .main-svg").first.wait_for()
    page.get_by_text("Answer 5: a new leg ships today.").first.wait_for()
    page.get_by_text("solved it").first.wait_for(state="attached")
    page.get_by_role("button", name="Open summarize v1 on the Prompts page").wait_for()

    # Two more rows, then "Add 3 to a dataset".
    for row in (1, 2):
        page.mouse.click(box["x"] + 12, box["y"] + ROW_PX * (row + 1.5))
        wait_idle(page)
    page.get_by_role("button", name="Add 3 to a dataset").click()
    wait_idle(page)
    page.get_by_role("textbox", name="Dataset name").fill("from_prod")
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Add rows").click()
    wait_idle(page)
    page.get_by_text("Added 3 traces to from_prod v1 (new dataset).").wait_for()
    screenshot(page, "traces")
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    wait_idle(page)
    screenshot(page, "traces-detail")

    ds = datasets.load_dataset(workspace, "from_prod")
    assert {row["trace_id"] for row in ds.rows} == {trace_id(n) for n in (3, 4, 5)}
    assert not page.errors, page.errors
