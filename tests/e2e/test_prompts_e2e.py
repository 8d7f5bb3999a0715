"""A newcomer edits an example prompt in the browser, saves it, and sees v3 and its diff."""

from __future__ import annotations

import re
from typing import Any

import pytest

from promptyard import prompts
from tests.cli import run_cli
from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.e2e


def _wait_for_one_editor(page: Any) -> None:
    """The editor of the prompt just opened: stale iframes of the one before must be gone."""
    # Streamlit drops a run's stale elements when the run ends: once idle, one must be left.
    wait_idle(page)
    page.wait_for_function(
        "document.querySelectorAll('iframe[title*=\"streamlit_ace\"]').length === 1"
    )


def test_edit_save_and_see_v3_in_history_and_diff(page: Any, app_url: str, workspace: Any) -> None:
    page.goto(app_url)
    wait_idle(page)
    assert not page.errors
    page.get_by_role("link", name="Prompts").first.click()
    wait_idle(page)
    page.get_by_text("summarize · v2").click()
    wait_idle(page)
    screenshot(page, "prompts")

    # Type into the code editor (Ace, inside the component's iframe).
    page.get_by_role("heading", name=re.compile(r"^summarize")).wait_for()
    wait_idle(page)
    _wait_for_one_editor(page)
    editor = page.frame_locator('iframe[title*="streamlit_ace"]').locator(".ace_content")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\nAnswer in plain English.")
    # the editor sends its value after a short pause; the page then knows of the edit
    page.get_by_text("Unsaved changes").wait_for()
    wait_idle(page)
    page.get_by_label("Change message").fill("Ask for plain English")
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Save").click()
    wait_idle(page)
    page.get_by_text("Saved summarize v3").wait_for()

    history = prompts.prompt_history("summarize", workspace)
    assert [v.tag for v in history][-1] == "v3"
    assert (
        "Answer in plain English."
        in prompts.get_prompt("summarize", "v3", workspace=workspace).source_text
    )

    page.get_by_role("tab", name="History").click()
    # The history shows the newest version's file.
    page.locator('[data-testid="stCode"]').filter(
        has_text="Answer in plain English."
    ).first.wait_for()
    page.get_by_role("tab", name="Diff").click()
    caption = page.get_by_text(re.compile(r"→ v3 ·")).first
    caption.wait_for()
    assert "Ask for plain English" in caption.inner_text()
    assert re.search(r"[1-9]\d* added", caption.inner_text())
    screenshot(page, "prompts-diff")

    # Move `production` to the new version; the CLI then renders it.
    page.get_by_role("tab", name="Labels").click()
    page.get_by_role("button", name="Move label").click()
    wait_idle(page)
    screenshot(page, "prompts-labels")
    page.get_by_text("production now points at summarize v3").wait_for()
    out = run_cli(
        "prompt",
        "render",
        "summarize@production",
        "--var",
        "text=The desk arrived broken.",
        home=workspace.root,
        check=True,
    ).stdout
    assert "Answer in plain English." in out and "The desk arrived broken." in out
    assert not page.errors
