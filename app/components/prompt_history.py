"""A prompt's History tab (versions, show, restore) and Diff tab (side by side, unified)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import state
import streamlit as st

from components.output_cell import escape_markdown
from components.prompt_editor import bump_generation
from components.signin import may
from components.versions import version_label, version_picker
from promptyard import prompts
from promptyard.errors import PromptyardError
from promptyard.team import Permission
from promptyard.versioning import diff_stats, side_by_side, with_context
from promptyard.workspace import Workspace


def prompt_history(ws: Workspace, name: str) -> None:
    """The versions of prompt `name` in a table; show one, restore it as a new version."""
    versions = prompts.prompt_versions(name, ws)
    if not versions:
        st.info("This prompt has no saved versions yet.")
        return
    table = pd.DataFrame(
        [
            {
                "version": v.tag,
                "sha": v.short_sha,
                "date": v.date.strftime("%Y-%m-%d %H:%M"),
                "author": v.author,
                "message": v.message,
                "labels": ", ".join(v.labels),
                "deleted": "yes" if v.deleted else "",
            }
            for v in reversed(versions)
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch")
    chosen = version_picker(
        "Show a version",
        versions,
        key=state.for_version(state.PROMPT_RESTORE_REF, versions[-1].sha),
    )
    if chosen is None:
        return
    if chosen.deleted:
        st.caption("This version deleted the file.")
        return
    st.code(prompts.prompt_text(name, chosen, workspace=ws), language="yaml", line_numbers=True)
    if (
        chosen.sha != versions[-1].sha
        and may(Permission.EDIT_PROMPTS)
        and st.button(f"↩️ Restore {chosen.tag} as a new version", key="prompts.restore")
    ):
        try:
            version = prompts.restore_prompt(name, chosen.sha, workspace=ws)
        except PromptyardError as exc:
            st.error(str(exc))
            return
        st.session_state[state.PROMPT_FLASH] = f"Restored {chosen.tag} as {version.tag}."
        st.session_state.setdefault(state.PROMPT_BASE_SHA, {})[name] = version.sha
        bump_generation()
        st.rerun()


def _cell(text: str) -> str:
    """A line as st.table shows it: its markdown escaped, its indentation kept."""
    stripped = text.lstrip(" ")
    return "\u00a0" * (len(text) - len(stripped)) + escape_markdown(stripped)


def _style_rows(frame: pd.DataFrame, kinds: list[str]) -> Any:
    colors = {
        "changed": ("#fff3cd", "#fff3cd"),
        "added": ("", "#d4f7dc"),
        "removed": ("#ffd7d5", ""),
        "equal": ("", ""),
        "skipped": ("#f0f2f6", "#f0f2f6"),
    }

    def paint(row: pd.Series) -> list[str]:
        left, right = colors[kinds[row.name]]
        return [
            "",
            f"background-color: {left}" if left else "",
            "",
            f"background-color: {right}" if right else "",
        ]

    # hide the index: st.table shows what the Styler shows
    return frame.style.apply(paint, axis=1).hide(axis="index")


def prompt_diff(ws: Workspace, name: str) -> None:
    """Two versions of prompt `name` side by side, changed lines coloured; the unified diff."""
    versions = prompts.prompt_versions(name, ws)
    if len(versions) < 2:
        st.info("A diff needs two versions: save a change first.")
        return
    c1, c2 = st.columns(2)
    with c1:
        a = version_picker(
            "From",
            versions,
            key=state.for_version(state.PROMPT_DIFF_A, versions[-1].sha),
            default_index=len(versions) - 2,
        )
    with c2:
        b = version_picker(
            "To", versions, key=state.for_version(state.PROMPT_DIFF_B, versions[-1].sha)
        )
    if a is None or b is None:
        return
    text_a = "" if a.deleted else prompts.prompt_text(name, a, workspace=ws)
    text_b = "" if b.deleted else prompts.prompt_text(name, b, workspace=ws)
    all_rows = side_by_side(text_a, text_b)
    stats = diff_stats(all_rows)
    st.caption(
        f"{version_label(a)} → {version_label(b)}: {stats['changed']} changed, "
        f"{stats['added']} added, {stats['removed']} removed lines"
    )
    # The changes with 3 lines of context; longer unchanged runs collapse to one row.
    rows = with_context(all_rows, context=3)
    right_name = b.tag if b.tag != a.tag else f"{b.tag} "
    frame = pd.DataFrame(
        {
            "#": [str(r.left_no or "") for r in rows],
            a.tag: [_cell(r.left) for r in rows],
            "# ": [str(r.right_no or "") for r in rows],
            right_name: [_cell(r.right) for r in rows],
        }
    )
    # st.table wraps long lines (a data grid cuts them); it reads cells as markdown, so each
    # line is escaped: shown as typed, never run as markup or HTML.
    st.table(_style_rows(frame, [r.kind for r in rows]))
    with st.expander("Unified diff"):
        unified = prompts.diff_prompt(name, a.sha, b.sha, workspace=ws)
        st.code(unified or "No changes.", language="diff")
