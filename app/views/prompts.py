"""Prompts: list, create, edit with a live preview, save, history, diff, restore, labels."""

from __future__ import annotations

import hashlib

import state
import streamlit as st
from components.context import workspace
from components.prompt_editor import bump_generation, prompt_editor
from components.prompt_history import prompt_diff, prompt_history
from components.prompt_labels import prompt_labels
from components.signin import may, may_or_say

from promptyard import prompts
from promptyard.errors import PromptyardError
from promptyard.prompts import dump_prompt
from promptyard.team import Permission
from promptyard.versioning import Version

NEW_PROMPT_BODY = "system:\nYou are a helpful assistant.\n\nuser:\n{{ question }}\n"

ws = workspace()
st.title("📝 Prompts")


def _flash() -> None:
    message = st.session_state.pop(state.PROMPT_FLASH, None)
    if message:
        st.success(message, icon="✅")


def _new_prompt() -> None:
    with st.popover("➕ New prompt", width="stretch"):
        new_name = st.text_input(
            "Name",
            key=state.PROMPT_NEW_NAME,
            placeholder="e.g. classify_intent",
            help="Letters, digits, '_', '-' and '.'; it becomes prompts/NAME.prompty",
        )
        if st.button("Create", type="primary", key="prompts.create"):
            try:
                if prompts.prompt_exists(new_name.strip(), ws):
                    st.error(f"A prompt named {new_name!r} already exists.")
                else:
                    text = dump_prompt(
                        NEW_PROMPT_BODY,
                        name=new_name.strip(),
                        inputs={"question": {"kind": "string", "example": "What can you do?"}},
                    )
                    version = prompts.save_prompt(
                        new_name.strip(), text, f"Create prompt {new_name.strip()}", workspace=ws
                    )
                    st.session_state[state.PROMPT_SELECTED] = new_name.strip()
                    st.session_state[state.PROMPT_FLASH] = (
                        f"Created {new_name.strip()} {version.tag}."
                    )
                    st.rerun()
            except PromptyardError as exc:
                st.error(str(exc))


def _sidebar_list() -> str | None:
    summaries = prompts.list_prompts(ws, search=st.session_state.get(state.PROMPT_SEARCH, ""))
    st.text_input("Search prompts", key=state.PROMPT_SEARCH, placeholder="name or description")
    if may(Permission.EDIT_PROMPTS):
        _new_prompt()
    if not summaries:
        if st.session_state.get(state.PROMPT_SEARCH):
            st.info("No prompt matches the search.")
        else:
            st.info(
                "No prompts yet. Create one above, or run `promptyard init` to get the examples."
            )
        return None
    names = [s.name for s in summaries]
    if st.session_state.get(state.PROMPT_SELECTED) not in names:
        st.session_state[state.PROMPT_SELECTED] = names[0]
    by_name = {s.name: s for s in summaries}

    def describe(name: str) -> str:
        s = by_name[name]
        tag = s.latest.tag if s.latest else "unsaved"
        labels = " ".join(f"🏷️{k}" for k in sorted(s.labels))
        flag = " ⚠️" if s.error else ""
        return f"{name} · {tag} {labels}{flag}"

    # The key changes with the list's labels (a save makes a new vN), so the radio starts
    # from the selection kept in PROMPT_SELECTED instead of a stale position.
    signature = hashlib.sha1("|".join(map(describe, names)).encode()).hexdigest()[:10]
    selected = st.radio(
        "Prompts",
        names,
        index=names.index(st.session_state[state.PROMPT_SELECTED]),
        format_func=describe,
        label_visibility="collapsed",
        key=state.prompt_list_key(signature),
    )
    st.session_state[state.PROMPT_SELECTED] = selected
    return selected


def _delete(name: str, base_sha: str | None) -> None:
    with st.popover("🗑️ Delete"):
        st.write(f"Delete **{name}**? Its history stays in git and it can be restored.")
        if st.button("Delete prompt", type="primary", key="prompts.delete"):
            try:
                prompts.delete_prompt(name, base=base_sha, workspace=ws)
            except PromptyardError as exc:
                st.error(str(exc))
                return
            st.session_state.pop(state.PROMPT_SELECTED, None)
            st.session_state.get(state.PROMPT_BASE_SHA, {}).pop(name, None)
            st.session_state[state.PROMPT_FLASH] = f"Deleted {name}."
            st.rerun()


with st.sidebar:
    selected = _sidebar_list()


def _edit_base(name: str, history: list[Version]) -> tuple[str, str | None]:
    """The text and sha an edit starts from: pinned when the prompt is opened.

    Pinning keeps an edit in progress when someone else saves meanwhile; the save is then
    refused as a conflict instead of silently replacing their version.
    """
    bases = st.session_state.setdefault(state.PROMPT_BASE_SHA, {})
    live = [v for v in history if not v.deleted]
    latest = history[-1] if history else None
    base = next((v for v in live if v.sha == bases.get(name)), None)
    if base is None:
        base = latest if latest is not None and not latest.deleted else None
        bases[name] = base.sha if base else None
    if base is None:
        return prompts.prompt_text(name, workspace=ws), None
    if latest is not None and base.sha != latest.sha:
        st.warning(
            f"{name} {latest.tag} was saved by {latest.author} after you started editing"
            f" {base.tag}. Saving now is refused as a conflict.",
            icon="⚠️",
        )
        if st.button(f"Load {latest.tag} (drops your unsaved edit)", key="prompts.reload"):
            bases[name] = latest.sha
            bump_generation()
            st.rerun()
    return prompts.prompt_text(name, base, workspace=ws), base.sha


_flash()
if selected is not None:
    history = prompts.prompt_versions(selected, ws)
    latest = history[-1] if history else None
    head, actions = st.columns([5, 1])
    badges = " ".join(f":violet-badge[🏷️ {k}]" for k in sorted(prompts.prompt_labels(selected, ws)))
    head.subheader(f"{selected}  :gray-badge[{latest.tag if latest else 'unsaved'}] {badges}")
    try:
        file_text, base_sha = _edit_base(selected, history)
    except PromptyardError as exc:
        st.error(str(exc))
        st.stop()
    if may(Permission.EDIT_PROMPTS):
        with actions:
            _delete(selected, base_sha)
    # Keyed: the open tab is the tab's own state, not its place on the page, so a flash
    # shown after a save (and gone on the next run) no longer sends the user back to Edit.
    edit_tab, history_tab, diff_tab, labels_tab = st.tabs(
        ["✏️ Edit", "🕘 History", "↔️ Diff", "🏷️ Labels"], key=state.PROMPT_TAB
    )
    with edit_tab:
        if may_or_say(Permission.EDIT_PROMPTS, "edit prompts"):
            prompt_editor(ws, selected, file_text, base_sha)
        else:
            st.code(file_text, language="yaml", line_numbers=True)
    with history_tab:
        prompt_history(ws, selected)
    with diff_tab:
        prompt_diff(ws, selected)
    with labels_tab:
        prompt_labels(ws, selected)
