"""The Prompts page in-process (AppTest): edit, preview, save, errors, history, diff, labels."""

from __future__ import annotations

from pathlib import Path

import state
from streamlit.testing.v1 import AppTest

from promptyard import prompts
from promptyard.workspace import Workspace

PAGE = str(Path(__file__).resolve().parents[1] / "app" / "views" / "prompts.py")


def _open(name: str = "summarize") -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state[state.PROMPT_SELECTED] = name
    at.session_state[state.PROMPT_PLAIN_EDITOR] = True
    return at.run()


def _editor(at: AppTest):  # type: ignore[no-untyped-def]
    return next(t for t in at.text_area if str(t.key).startswith("prompts.editor::"))


def test_lists_the_prompts_with_versions(workspace: Workspace) -> None:
    at = _open()
    assert not at.exception
    options = at.radio[0].options
    assert any(o.startswith("summarize · v2") for o in options)


def test_preview_renders_samples_with_token_counts(workspace: Workspace) -> None:
    at = _open()
    captions = " ".join(c.value for c in at.caption)
    assert "2 messages" in captions and "tokens in total" in captions
    texts = [t.value for t in at.text]
    assert any("standing desk" in t for t in texts)  # the sample input, rendered


def test_edit_and_save_makes_v3(workspace: Workspace) -> None:
    at = _open()
    editor = _editor(at)
    editor.set_value(editor.value.replace("at most three sentences", "one sentence")).run()
    at.text_input(key=state.PROMPT_MESSAGE).set_value("Shorter summaries").run()
    at.button(key="prompts.save").click().run()
    assert not at.exception
    assert any("Saved summarize v3" in s.value for s in at.success)
    history = prompts.prompt_history("summarize", workspace)
    assert history[-1].tag == "v3" and history[-1].message == "Shorter summaries"
    assert "one sentence" in prompts.get_prompt("summarize", "v3", workspace=workspace).source_text


def test_save_is_disabled_without_changes(workspace: Workspace) -> None:
    at = _open()
    assert at.button(key="prompts.save").disabled


def test_syntax_error_is_shown_with_line_and_column_and_not_saved(workspace: Workspace) -> None:
    at = _open()
    editor = _editor(at)
    editor.set_value(editor.value + "\n{{ text ").run()
    errors = [e.value for e in at.error]
    assert any("Line" in e and "column" in e and "syntax error" in e for e in errors)
    at.button(key="prompts.save").click().run()
    assert len(prompts.prompt_history("summarize", workspace)) == 2


def test_new_variable_gets_a_sample_input(workspace: Workspace) -> None:
    at = _open()
    editor = _editor(at)
    editor.set_value(editor.value + "\nAudience: {{ audience }}").run()
    labels = [t.label for t in at.text_area]
    assert "audience" in labels


def test_conflicting_save_shows_both_sides(workspace: Workspace) -> None:
    at = _open()
    # Someone else saves a new version while this editor is open.
    current = prompts.get_prompt("summarize", workspace=workspace).source_text
    prompts.save_prompt(
        "summarize", current.replace("precise", "exacting"), "theirs", workspace=workspace
    )
    editor = _editor(at)
    editor.set_value(editor.value.replace("three", "two")).run()
    at.button(key="prompts.save").click().run()
    assert any("conflict" in e.value for e in at.error)
    assert any("exacting" in c.value for c in at.code)
    assert prompts.prompt_history("summarize", workspace)[-1].message == "theirs"


def test_create_a_new_prompt(workspace: Workspace) -> None:
    at = _open()
    at.text_input(key=state.PROMPT_NEW_NAME).set_value("classify").run()
    at.button(key="prompts.create").click().run()
    assert (workspace.root / "prompts" / "classify.prompty").is_file()
    assert at.session_state[state.PROMPT_SELECTED] == "classify"


def test_bad_new_name_is_refused(workspace: Workspace) -> None:
    at = _open()
    at.text_input(key=state.PROMPT_NEW_NAME).set_value("../evil").run()
    at.button(key="prompts.create").click().run()
    assert any("path separator" in e.value for e in at.error)
    assert not (workspace.root / "evil.prompty").exists()


def test_move_label_and_see_the_move(workspace: Workspace) -> None:
    at = _open()
    history = prompts.prompt_history("summarize", workspace)
    latest = history[-1].sha
    at.selectbox(key=state.for_version(state.PROMPT_LABEL_NAME, latest)).set_value("production")
    at.selectbox(key=state.for_version(state.PROMPT_LABEL_REF, latest)).set_value(history[0])
    at.button[[b.label for b in at.button].index("🏷️ Move label")].click().run()
    assert not at.exception
    assert (
        prompts.get_prompt("summarize", label="production", workspace=workspace).version.tag == "v1"
    )


def test_restore_an_old_version(workspace: Workspace) -> None:
    at = _open()
    v1 = prompts.prompt_history("summarize", workspace)[0]
    history = prompts.prompt_history("summarize", workspace)
    key = state.for_version(state.PROMPT_RESTORE_REF, history[-1].sha)
    at.selectbox(key=key).set_value(v1).run()
    at.button(key="prompts.restore").click().run()
    history = prompts.prompt_history("summarize", workspace)
    assert history[-1].tag == "v3"
    assert "You summarize text." in prompts.get_prompt("summarize", workspace=workspace).source_text


def test_diff_counts_changed_lines(workspace: Workspace) -> None:
    at = _open()
    assert any("changed" in c.value and "v1" in c.value and "v2" in c.value for c in at.caption)


def test_empty_workspace_says_what_to_do(empty_workspace: Workspace) -> None:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert any("No prompts yet" in i.value for i in at.info)


def test_every_example_prompt_opens(workspace: Workspace) -> None:
    for summary in prompts.list_prompts(workspace):
        at = _open(summary.name)
        assert not at.exception, summary.name
        assert not at.error, (summary.name, [e.value for e in at.error])
