"""Every page of the app opens without an exception, in a full and in an empty workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
import state
from streamlit.testing.v1 import AppTest

from promptyard.workspace import Workspace

APP = Path(__file__).resolve().parents[1] / "app"
MAIN = str(APP / "main.py")
PAGES = sorted(p.name for p in (APP / "views").glob("*.py"))


def _open(page: str) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=90).run()
    assert not at.exception, [e.value for e in at.exception]
    return at.switch_page(f"views/{page}").run()


@pytest.mark.parametrize("page", PAGES)
def test_page_opens_on_the_examples(workspace: Workspace, page: str) -> None:
    at = _open(page)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, f"{page} has no title"


@pytest.mark.parametrize("page", PAGES)
def test_page_opens_on_an_empty_workspace(empty_workspace: Workspace, page: str) -> None:
    at = _open(page)
    assert not at.exception, [e.value for e in at.exception]


def test_home_lists_the_example_prompts_and_opens_one(workspace: Workspace) -> None:
    at = AppTest.from_file(MAIN, default_timeout=90).run()
    assert int(at.metric[0].value) >= 3  # the three example prompts (and the judges)
    at.button(key="home.open::summarize").click().run()
    assert not at.exception
    assert at.session_state[state.PROMPT_SELECTED] == "summarize"
    assert any(t.value == "📝 Prompts" for t in at.title)
