"""The Prompts page's Diff tab: the changes with a few lines of context, unchanged runs
collapsed, long lines whole and wrapped."""

from __future__ import annotations

import re
from pathlib import Path

import state
from streamlit.testing.v1 import AppTest

from promptyard import prompts
from promptyard.versioning import side_by_side, with_context
from promptyard.workspace import Workspace

PAGE = str(Path(__file__).resolve().parents[1] / "app" / "views" / "prompts.py")
LONG = "Reply in the customer's language. " * 12  # ~400 characters on one line


def _shown(cell: str) -> str:
    """A table cell as the page shows it: markdown escapes and kept indentation undone."""
    return re.sub(r"\\(.)", r"\1", cell).replace("\u00a0", " ")


def _prompt(lines: list[str]) -> str:
    body = "\n".join(lines)
    return f"---\nname: long\nmodel:\n  id: sim-fast\n---\nsystem:\n{body}\n\nuser:\n{{{{ q }}}}\n"


def test_the_diff_table_shows_the_changes_in_context_and_whole_long_lines(
    workspace: Workspace,
) -> None:
    lines = [f"Rule {n}: be kind." for n in range(1, 26)]
    prompts.save_prompt("long", _prompt(lines), "first", workspace=workspace)
    lines[20] = "Rule 21: be kind and brief."
    lines.insert(21, LONG)
    prompts.save_prompt("long", _prompt(lines), "second", workspace=workspace)

    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state[state.PROMPT_SELECTED] = "long"
    at.session_state[state.PROMPT_PLAIN_EDITOR] = True
    at.run()
    assert not at.exception
    assert any("1 changed, 1 added" in c.value for c in at.caption)
    assert len(at.table) == 1, "the diff is a table that wraps long lines"
    frame = at.table[0].value
    right = [_shown(c) for c in frame["v2"]]
    # first a collapsed run, then 3 lines of context, the changes, 3 lines after, collapsed
    assert right[0].startswith("⋯ ") and "unchanged lines" in right[0]
    assert right[1:4] == ["Rule 18: be kind.", "Rule 19: be kind.", "Rule 20: be kind."]
    assert right[4] == "Rule 21: be kind and brief."
    assert right[5] == LONG  # whole, not cut
    assert right[6:9] == ["Rule 22: be kind.", "Rule 23: be kind.", "Rule 24: be kind."]
    assert right[9].startswith("⋯ ")
    assert len(right) == 10


def test_markup_in_a_prompt_shows_as_typed_with_its_indentation(workspace: Workspace) -> None:
    prompts.save_prompt(
        "md", _prompt(["**bold** line", "  indented", "plain"]), "first", workspace=workspace
    )
    prompts.save_prompt(
        "md", _prompt(["**bold** line", "  indented", "plain too"]), "second", workspace=workspace
    )
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state[state.PROMPT_SELECTED] = "md"
    at.session_state[state.PROMPT_PLAIN_EDITOR] = True
    at.run()
    cells = list(at.table[0].value["v2"])
    assert r"\*\*bold\*\* line" in cells  # escaped: st.table reads markdown
    assert "\u00a0\u00a0indented" in cells  # leading spaces kept (YAML needs them)
    assert all(c.strip() != "---" for c in cells)  # front matter fences stay text


def test_with_context_keeps_everything_when_nothing_changed() -> None:
    rows = side_by_side("a\nb\n", "a\nb\n")
    assert with_context(rows) == rows
    many = side_by_side("\n".join("x" * 8), "\n".join("x" * 7 + "y"))
    kept = with_context(many, context=2)
    assert [r.kind for r in kept] == ["skipped", "equal", "equal", "changed"]
    assert kept[0].left == "⋯ 5 unchanged lines"
