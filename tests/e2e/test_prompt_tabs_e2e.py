"""After a save on the Prompts page, the first widget change in another tab keeps that tab."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import wait_idle

pytestmark = pytest.mark.e2e


def _selected_tab(page: Any) -> str:
    return str(page.locator('[role="tab"][aria-selected="true"]').first.inner_text())


def test_picking_from_in_the_diff_tab_after_a_save_stays_in_the_diff_tab(
    page: Any, app_url: str
) -> None:
    page.goto(f"{app_url}/prompts")
    wait_idle(page)
    page.get_by_text("summarize · v2").click()
    wait_idle(page)
    page.wait_for_function(
        "document.querySelectorAll('iframe[title*=\"streamlit_ace\"]').length === 1"
    )
    editor = page.frame_locator('iframe[title*="streamlit_ace"]').locator(".ace_content")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\nAnswer in plain English.")
    page.get_by_text("Unsaved changes").wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Save").click()
    wait_idle(page)
    page.get_by_text("Saved summarize v3").wait_for()

    page.get_by_role("tab", name="Diff").click()
    wait_idle(page)
    assert "Diff" in _selected_tab(page)
    page.get_by_text(re.compile(r"→ v3 ·")).first.wait_for()
    # Pick From = v1 (the first widget change since the save).
    page.get_by_role("tabpanel").locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name=re.compile(r"^v1\b")).click()
    wait_idle(page)
    page.get_by_text(re.compile(r"^v1 ·.*→ v3 ·")).first.wait_for()
    assert "Diff" in _selected_tab(page), "the page jumped back to another tab"
    assert not page.errors
