"""The Prompts page's live preview with a hostile template: it ends and says it timed out."""

from __future__ import annotations

from pathlib import Path

import pytest
import state
from streamlit.testing.v1 import AppTest

from promptyard.workspace import Workspace

PAGE = str(Path(__file__).resolve().parents[1] / "app" / "views" / "prompts.py")
NESTED = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


@pytest.mark.timeout(120)
def test_live_preview_of_a_hostile_template_times_out(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTYARD_RENDER_TIMEOUT", "0.3")
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state[state.PROMPT_SELECTED] = "summarize"
    at.session_state[state.PROMPT_PLAIN_EDITOR] = True
    at.run()
    editor = next(t for t in at.text_area if str(t.key).startswith("prompts.editor::"))
    editor.set_value(editor.value + "\n" + NESTED).run()
    assert not at.exception
    assert any("Rendering timed out after 0.3 s" in w.value for w in at.warning)
    assert any("time limit" in e.value for e in at.error)
    assert not at.chat_message  # no half-rendered messages are shown


def test_a_conflicted_prompt_is_flagged_in_the_list(workspace: Workspace) -> None:
    """Mid-merge, the working-tree file has markers: the list flags it (the editor opens
    the latest saved version, which has none)."""
    from tests.test_conflicts import conflicting_merge

    conflicting_merge(workspace.root)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state[state.PROMPT_SELECTED] = "summarize"
    at.session_state[state.PROMPT_PLAIN_EDITOR] = True
    at.run()
    assert not at.exception
    [option] = [o for o in at.radio[0].options if o.startswith("summarize")]
    assert "⚠️" in option
