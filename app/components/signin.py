"""The sign-in gate of app/main.py: sign in, sign out, strangers refused, pages by role,
and drafts kept across a new sign-in when the old one ended."""

from __future__ import annotations

import threading
import time
from typing import Any

import state
import streamlit as st

from components.context import workspace
from components.identity import SIGNED_OUT, current_identity, register, signin_on
from components.output_cell import escape_markdown
from promptyard.errors import PromptyardError
from promptyard.ratings import is_assigned
from promptyard.team import (
    ROLE_PERMISSIONS,
    TEAM_FILE,
    Identity,
    Permission,
    Role,
    load_team,
    role_of,
    signin_config,
)

# Which permission a page needs to be shown (others need READ). A rater sees only Rate:
# every other page names the models a blind session hides.
PAGE_NEEDS: dict[str, set[Permission]] = {
    "settings": {Permission.MANAGE_SETTINGS},
    "playground": {Permission.START_RUNS},
    "rate": {Permission.READ, Permission.RATE_ASSIGNED},
}

# Text a person typed, kept when they leave to sign in again after their sign-in ended:
# identity key -> (when, page, {session-state key: text}). Process memory only, one entry
# each, handed back to the same identity in each new session for DRAFTS_KEPT_S (the
# browser may load the app more than once on its way back from the provider).
_DRAFTS: dict[str, tuple[float, str, dict[str, str]]] = {}
DRAFTS_KEPT_S = 300.0
_DRAFTS_LOCK = threading.Lock()


def _sign_in_page(message: str | None = None) -> None:
    st.title("🌱 Promptyard")
    st.subheader("Sign in to use this workbench")
    if message:
        st.info(message)
    st.button(
        "Sign in", type="primary", icon=":material/login:", on_click=st.login, key="signin.in"
    )
    st.stop()


def _keep_drafts(who: Identity, page: str) -> None:
    texts = {
        str(k): v
        for k, v in st.session_state.items()
        if isinstance(v, str) and v.strip() and not str(k).startswith("signin.")
    }
    with _DRAFTS_LOCK:
        _DRAFTS[who.key] = (time.monotonic(), page, texts)
    st.login()


def _restore_drafts(who: Identity) -> str | None:
    """Put back what `who` had typed before signing in again; the page they were on."""
    if st.session_state.get(state.SIGNIN_RESTORED) is not None:
        return None  # this session has them already
    with _DRAFTS_LOCK:
        for key in [k for k, v in _DRAFTS.items() if time.monotonic() - v[0] > DRAFTS_KEPT_S]:
            del _DRAFTS[key]
        kept = _DRAFTS.get(who.key)
    if kept is None:
        return None
    _, page, texts = kept
    for key, value in texts.items():
        try:
            st.session_state[key] = value
        except st.errors.StreamlitAPIException:
            continue  # a button's or form's key cannot be set; its text never was a draft
    st.session_state[state.SIGNIN_RESTORED] = len(texts)
    return page


def gate() -> Identity | None:
    """Stop the script unless the visitor may use the workbench; who they are (None when
    sign-in is off). The library is told to ask the same question on every call."""
    register()
    ws = workspace()
    if not signin_on():
        return None
    try:
        signin_config(ws)
    except PromptyardError as exc:
        st.error(f"Sign-in is misconfigured: {exc}")
        st.stop()
    who = current_identity()
    if who is None or not st.user.is_logged_in:
        _sign_in_page()
    assert who is not None
    team = load_team(ws)
    role = role_of(ws, who)
    if role is None:
        st.title("🌱 Promptyard")
        st.error(
            f"{who.key} is not a member of this workspace's team. Ask an admin to add you to"
            f" {TEAM_FILE}, then sign in again."
        )
        st.button("Sign out", on_click=st.logout, key="signin.out_refused")
        st.stop()
    with st.sidebar:
        st.caption(f"Signed in as **{escape_markdown(who.display)}** · {role}")
        st.button("Sign out", on_click=st.logout, key="signin.out", icon=":material/logout:")
        if team.warning and role is Role.ADMIN:
            st.warning(team.warning, icon=":material/group:")
    if who.expired:
        st.warning(
            "Your sign-in has ended: nothing can be saved until you sign in again. What you"
            " typed on this page is kept and put back after you sign in.",
            icon=":material/lock_clock:",
        )
        st.button(
            "Sign in again",
            type="primary",
            key="signin.again",
            on_click=_keep_drafts,
            args=(who, str(st.session_state.get(state.SIGNIN_PAGE) or "")),
        )
    return who


def restore_after_signin(pages: dict[str, list[Any]], shown: str) -> None:
    """After a new sign-in, put the drafts back and return to the page they were typed on
    (`shown`: the url path of the page about to run)."""
    who = current_identity()
    if who is None or who is SIGNED_OUT:
        return
    page = _restore_drafts(who)
    if page is None:
        return
    if page == shown:
        return
    for page_object in (p for group in pages.values() for p in group):
        if page_object.url_path == page:
            st.switch_page(page_object)


def visible_pages(pages: dict[str, list[Any]], who: Identity | None) -> dict[str, list[Any]]:
    """`pages` without the ones `who`'s role may not use (all of them without sign-in)."""
    if who is None:
        return pages
    role = role_of(workspace(), who)
    granted = ROLE_PERMISSIONS[role] if role else frozenset()
    out: dict[str, list[Any]] = {}
    for group, group_pages in pages.items():
        kept = [p for p in group_pages if granted & PAGE_NEEDS.get(p.url_path, {Permission.READ})]
        if kept:
            out[group] = kept
    return out


def may(permission: Permission) -> bool:
    """Whether the role of the person using the page may do `permission` (always without
    sign-in): whether to draw its controls. By role only: after a sign-in ends the controls
    stay, so nothing typed is lost, and the library refuses the action with the reason."""
    who = current_identity()
    if who is None:
        return True
    role = role_of(workspace(), who)
    return role is not None and permission in ROLE_PERMISSIONS[role]


def may_open(page_file: str) -> bool:
    """Whether the person may open the page in `page_file` ("views/NAME.py"): a link to a
    page their role hides would stop the page that draws it."""
    needs = PAGE_NEEDS.get(page_file.rsplit("/", 1)[-1].removesuffix(".py"), {Permission.READ})
    return any(may(p) for p in needs)


def may_or_say(permission: Permission, what: str) -> bool:
    """`may(permission)`; when not, a caption in place of the controls: "Your role (viewer)
    may not `what`." (`what`: e.g. "edit prompts")."""
    if may(permission):
        return True
    role = role_of(workspace(), current_identity())
    st.caption(f"Your role ({role or 'none'}) may not {what}.")
    return False


def may_rate_or_say(session_id: int) -> bool:
    """Whether the person may rate in labeling session `session_id` (a role that rates
    anywhere, or a rater assigned to it); when not, a caption saying why."""
    if may(Permission.RATE_ANY):
        return True
    who = current_identity()
    if not may(Permission.RATE_ASSIGNED):
        st.caption(f"Your role ({role_of(workspace(), who) or 'none'}) may not rate.")
        return False
    if who is not None and is_assigned(workspace(), session_id, who.key):
        return True
    st.caption(
        f"Labeling session #{session_id} is not assigned to you: an editor assigns raters"
        " on the Rate page."
    )
    return False
