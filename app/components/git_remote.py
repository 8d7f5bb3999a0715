"""Settings' git remote: the branch, the remote, ahead/behind; fetch, pull and push; a pull
that conflicts shows both sides of each file and changes nothing until a side is chosen."""

from __future__ import annotations

import state
import streamlit as st

from components.signin import may
from promptyard.errors import PromptyardError
from promptyard.team import Permission
from promptyard.versioning import (
    Side,
    SyncResult,
    SyncStatus,
    pending_conflicts,
    pull,
    push,
    remote_status,
    resolve,
)
from promptyard.workspace import Workspace

_KEEP = {"keep mine (this workspace)": Side.OURS, "take the remote's": Side.THEIRS}


def _after(result: SyncResult) -> None:
    if result.status is SyncStatus.CONFLICT:
        st.session_state[state.SETTINGS_SYNC_THEIRS] = result.theirs
    else:
        st.session_state.pop(state.SETTINGS_SYNC_THEIRS, None)
        st.session_state[state.SETTINGS_SYNC_FLASH] = result.message.capitalize() + "."
    st.rerun()


def _text(side: str | None) -> str:
    return side if side is not None else "(deleted on this side)"


def _conflicts(ws: Workspace, theirs: str) -> None:
    try:
        conflicts = pending_conflicts(ws, theirs)
    except PromptyardError as exc:
        st.error(str(exc))
        return
    if not conflicts:
        st.session_state.pop(state.SETTINGS_SYNC_THEIRS, None)
        return
    st.warning(
        "The pull conflicts with your commits. Nothing was changed: for each file, keep "
        "yours or take the remote's, then finish the merge.",
        icon="⚠️",
    )
    choices: dict[str, Side | str] = {}
    for n, conflict in enumerate(conflicts):
        st.markdown(f"**`{conflict.path}`**")
        mine, remote = st.columns(2)
        mine.caption("Yours (this workspace)")
        mine.code(_text(conflict.ours), language=None, wrap_lines=True, height=320)
        remote.caption("The remote's")
        remote.code(_text(conflict.theirs), language=None, wrap_lines=True, height=320)
        picked = st.radio(
            f"Resolve {conflict.path}",
            list(_KEEP),
            index=None,
            horizontal=True,
            key=f"settings.sync_side::{n}",
        )
        if picked is not None:
            choices[conflict.path] = _KEEP[picked]
    done = len(choices) == len(conflicts)
    go, cancel = st.columns([1, 4])
    if go.button("Finish the merge", type="primary", disabled=not done, key="settings.resolve"):
        try:
            _after(resolve(ws, theirs, choices))
        except PromptyardError as exc:
            st.error(str(exc))
    if cancel.button("Not now", key="settings.resolve_cancel"):
        st.session_state.pop(state.SETTINGS_SYNC_THEIRS, None)
        st.rerun()


def git_remote(ws: Workspace) -> None:
    """The workspace's remote, with Fetch, Pull and Push, and any conflict to resolve."""
    st.subheader("Git remote")
    flash = st.session_state.pop(state.SETTINGS_SYNC_FLASH, None)
    if flash:
        st.success(flash, icon="✅")
    try:
        status = remote_status(ws)
    except PromptyardError as exc:
        st.error(str(exc))
        return
    if status.remote is None:
        st.info(
            f"Branch `{status.branch or 'detached'}` has no remote. Add one from a terminal "
            "(`git remote add origin URL`), then pull and push here or with `promptyard sync`."
        )
        return
    cols = st.columns([2, 3, 1, 1])  # the remote's name is the widest figure
    cols[0].metric("Branch", status.branch or "detached")
    cols[1].metric("Remote", status.upstream or status.remote)
    cols[2].metric("Ahead", "—" if status.ahead is None else status.ahead)
    cols[3].metric("Behind", "—" if status.behind is None else status.behind)
    st.caption(f"{status.remote}: {status.url} · behind counts as of the last fetch")
    theirs = st.session_state.get(state.SETTINGS_SYNC_THEIRS)
    buttons = st.columns([1, 1, 1, 5])
    try:
        if buttons[0].button("Fetch", key="settings.fetch"):
            remote_status(ws, fetch=True)
            st.rerun()
        syncs = may(Permission.MANAGE_SETTINGS)
        if syncs and buttons[1].button("Pull", key="settings.pull", disabled=bool(theirs)):
            _after(pull(ws))
        if syncs and buttons[2].button("Push", key="settings.push", disabled=bool(theirs)):
            _after(push(ws))
    except PromptyardError as exc:
        st.error(str(exc))
    if theirs:
        _conflicts(ws, theirs)
