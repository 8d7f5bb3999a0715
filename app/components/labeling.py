"""Keyboard-first labeling: one cell at a time in a fragment, a key for every action.

Pressing a key (or clicking its button) reruns only `labeling_fragment`: the rating is
stored in the button's callback, then the fragment draws the next cell. The rest of the
Rate page (run, scheme, mode) is not run again.
"""

from __future__ import annotations

from typing import Any

import state
import streamlit as st

from components.output_cell import escape_markdown, rating_input, show_text, widget_value
from promptyard import ratings
from promptyard.errors import PromptyardError
from promptyard.ratings import RatingScheme, SessionItem
from promptyard.workspace import Workspace

KEY_PREVIOUS = "Left"
KEY_NEXT = "Right"
KEY_SKIP = "S"
KEY_UNDO = "U"
KEY_SAVE = "Enter"
THUMB_KEYS = {True: "Y", False: "N"}
THUMB_LABELS = {True: "👍", False: "👎"}


def value_keys(scheme: RatingScheme) -> list[tuple[Any, str, str]]:
    """(value, button label, key) for each value a key rates with; empty when typed.

    Thumbs take Y and N; a whole-number scale within 0..10 takes its own digits (10 as
    0); other short lists of values or labels take 1..9 and 0 in order.
    """
    if scheme.kind == "boolean":
        return [(v, THUMB_LABELS[v], THUMB_KEYS[v]) for v in (True, False)]
    if scheme.kind == "text":
        return []
    options = scheme.options
    if not options or len(options) > 10:
        return []
    whole = all(isinstance(v, int) and not isinstance(v, bool) for v in options)
    if whole and all(0 <= v <= 10 for v in options) and not {0, 10} <= set(options):
        return [(v, str(v), str(v % 10)) for v in options]
    return [(v, str(v), str((i + 1) % 10)) for i, v in enumerate(options)]


def key_legend(scheme: RatingScheme) -> str:
    """The keys of this scheme's labeling, as one line of markdown."""
    keyed = value_keys(scheme)
    if scheme.kind == "boolean":
        values = "`Y` 👍 · `N` 👎"
    elif keyed and scheme.multiple:
        values = f"`{keyed[0][2]}`–`{keyed[-1][2]}` toggle a label · `Enter` save"
    elif keyed:
        values = f"`{keyed[0][2]}`–`{keyed[-1][2]}` rate"
    else:
        values = "type the value, `Enter` saves"
    return f"**Keys:** {values} · `←` previous · `→` next · `S` skip · `U` undo"


def keep_rater_name() -> None:
    """Put the typed rater name back before `rater_field()` draws its box, when Streamlit
    dropped it (leaving a page whose last runs were fragment reruns); remember it after."""
    kept = st.session_state.get(state.RATER_NAME_KEPT)
    if kept and state.RATER_NAME not in st.session_state:  # dropped, not cleared by the user
        st.session_state[state.RATER_NAME] = kept


def remember_rater_name(name: str) -> None:
    st.session_state[state.RATER_NAME_KEPT] = name


def _flash(message: str, kind: str = "info") -> None:
    st.session_state[state.RATE_FLASH] = (kind, message)


def _later() -> list[int]:
    later: list[int] = st.session_state.setdefault(state.RATE_SKIPPED, [])
    return later


def _after_rating(ws: Workspace, session_id: int, rater: str, cell_id: int) -> None:
    """Move on: to the cell rated after this one when going through earlier ones, else
    to the next cell due."""
    if cell_id in _later():
        _later().remove(cell_id)
    if st.session_state.get(state.RATE_CELL) != cell_id:
        # A new cell is the last one rated: the next one due follows (no lookup needed).
        st.session_state[state.RATE_CELL] = None
        return
    following = ratings.following_cell(ws, session_id, rater, cell_id)
    st.session_state[state.RATE_CELL] = following.cell_id if following else None


def _rate(
    ws: Workspace, session_id: int, scheme: str, rater: str, cell_id: int, value: Any
) -> None:
    comment = st.session_state.get(state.rate_comment_key(session_id, cell_id)) or ""
    try:
        ratings.rate_cell(ws, cell_id, scheme, value, rater, comment, session_id)
    except PromptyardError as exc:
        _flash(str(exc), "error")
        return
    _after_rating(ws, session_id, rater, cell_id)


def _rate_pending(
    ws: Workspace, session_id: int, scheme: RatingScheme, rater: str, cell_id: int
) -> None:
    key = state.rate_value_key(session_id, cell_id)
    value = widget_value(scheme, st.session_state.get(key))
    if value is None:
        _flash("Pick a value first, or skip this cell (S).", "warning")
        return
    _rate(ws, session_id, scheme.name, rater, cell_id, value)


def _toggle(key: str, label: str) -> None:
    picked = list(st.session_state.get(key) or [])
    st.session_state[key] = (
        [p for p in picked if p != label] if label in picked else [*picked, label]
    )


def _previous(ws: Workspace, session_id: int, rater: str, cell_id: int | None) -> None:
    back = ratings.previous_cell(ws, session_id, rater, cell_id)
    if back is None:
        _flash("This is the first cell you rated in this session.")
    else:
        st.session_state[state.RATE_CELL] = back.cell_id


def _next(ws: Workspace, session_id: int, rater: str, cell_id: int) -> None:
    following = ratings.following_cell(ws, session_id, rater, cell_id)
    st.session_state[state.RATE_CELL] = following.cell_id if following else None


def _skip(cell_id: int, reviewing: bool) -> None:
    if not reviewing:
        # To the end of the queue: it comes back once every other cell is rated.
        later = _later()
        if cell_id in later:
            later.remove(cell_id)
        later.append(cell_id)
    st.session_state[state.RATE_CELL] = None


def _undo(ws: Workspace, session_id: int, rater: str) -> None:
    try:
        cell_id = ratings.undo_last_rating(ws, session_id, rater)
    except PromptyardError as exc:
        _flash(str(exc), "error")
        return
    if cell_id is None:
        _flash("Nothing to undo: you have not rated a cell in this session.")
        return
    st.session_state[state.RATE_CELL] = cell_id
    _flash(f"Took back your last rating (cell {cell_id}).")


def _show_flash() -> None:
    flash = st.session_state.pop(state.RATE_FLASH, None)
    if flash:
        kind, message = flash
        {"error": st.error, "warning": st.warning}.get(kind, st.toast)(message)


def _item_view(item: SessionItem) -> None:
    for name, value in item.inputs.items():
        if item.reference is not None and value == item.reference:
            continue  # the reference is shown once, below
        st.caption(escape_markdown(str(name)))
        show_text(
            value if isinstance(value, str) else repr(value), key=f"in{name}", collapse_at=1500
        )
    if item.reference:
        st.caption("reference")
        show_text(item.reference, key="ref", collapse_at=1500)
    st.markdown("**Output**")
    with st.container(border=True):
        show_text(item.output, key="out", collapse_at=4000)


def _value_row(
    ws: Workspace, session_id: int, scheme: RatingScheme, rater: str, item: SessionItem
) -> None:
    keyed = value_keys(scheme)
    pending_key = state.rate_value_key(session_id, item.cell_id)
    if not keyed:
        with st.form(key=f"rate.form::{session_id}::{item.cell_id}", border=False):
            rating_input(scheme, pending_key, item.value, label=scheme.name, collapsed=False)
            st.form_submit_button(
                "Change rating" if item.value is not None else "Save and next",
                type="primary",
                icon=":material/check:",
                on_click=_rate_pending,
                args=(ws, session_id, scheme, rater, item.cell_id),
            )
        return
    if scheme.multiple:
        if pending_key not in st.session_state:
            st.session_state[pending_key] = list(item.value or [])
        picked = st.session_state[pending_key]
    row = st.container(horizontal=True)
    for value, label, key in keyed:
        if scheme.multiple:
            row.button(
                label,
                key=f"rate.key::{key}",
                shortcut=key,
                type="primary" if value in picked else "secondary",
                on_click=_toggle,
                args=(pending_key, value),
            )
        else:
            row.button(
                label,
                key=f"rate.key::{key}",
                shortcut=key,
                type="primary" if item.value == value and item.value is not None else "secondary",
                on_click=_rate,
                args=(ws, session_id, scheme.name, rater, item.cell_id, value),
                help=f"Rate {label} and go on",
            )
    if scheme.multiple:
        row.button(
            "Save and next",
            key="rate.save",
            shortcut=KEY_SAVE,
            type="primary",
            icon=":material/check:",
            on_click=_rate_pending,
            args=(ws, session_id, scheme, rater, item.cell_id),
        )


def _nav_row(
    ws: Workspace, session_id: int, rater: str, item: SessionItem | None, reviewing: bool
) -> None:
    cell_id = item.cell_id if item else None
    row = st.container(horizontal=True)
    row.button(
        "Previous",
        key="rate.back",
        shortcut=KEY_PREVIOUS,
        icon=":material/arrow_back:",
        on_click=_previous,
        args=(ws, session_id, rater, cell_id if reviewing else None),
    )
    row.button(
        "Next",
        key="rate.next",
        shortcut=KEY_NEXT,
        icon=":material/arrow_forward:",
        disabled=not reviewing or item is None,
        on_click=_next,
        args=(ws, session_id, rater, cell_id or 0),
        help="The cell you rated after this one, then the next one due",
    )
    row.button(
        "Skip",
        key="rate.skip",
        shortcut=KEY_SKIP,
        icon=":material/skip_next:",
        disabled=item is None,
        on_click=_skip,
        args=(cell_id or 0, reviewing),
        help="Leave this cell for now: it comes back at the end of the session",
    )
    row.button(
        "Undo",
        key="rate.undo",
        shortcut=KEY_UNDO,
        icon=":material/undo:",
        on_click=_undo,
        args=(ws, session_id, rater),
        help="Take back your last rating in this session",
    )


@st.fragment
def labeling_fragment(ws: Workspace, session_id: int, scheme: RatingScheme, rater: str) -> None:
    """One cell of the session with its value keys, comment, navigation and progress."""
    _show_flash()
    shown_id = st.session_state.get(state.RATE_CELL)
    try:
        sess = ratings.get_session(ws, session_id)
        item = (
            ratings.session_item(ws, session_id, rater, int(shown_id))
            if shown_id
            else ratings.next_cell(ws, session_id, rater, later=_later())
        )
        progress = ratings.session_progress(ws, session_id, rater)
    except PromptyardError as exc:
        st.error(str(exc))
        return
    reviewing = bool(shown_id) and item is not None and item.value is not None
    skipped_back = item is not None and not shown_id and item.cell_id in _later()
    st.progress(
        progress.fraction,
        text=f"You rated {progress.rated_by_me:,} · {progress.complete:,} of {progress.total:,} "
        f"cells have {sess.raters_per_cell} rating(s)",
    )
    st.caption(key_legend(scheme))
    if item is None:
        st.success("All done: every cell has its ratings. Thank you!")
        _nav_row(ws, session_id, rater, None, False)
        return
    if skipped_back:
        st.caption("A cell you skipped earlier: the other cells are done.")
    if scheme.instructions:
        st.info(escape_markdown(scheme.instructions), icon=":material/help:")
    _item_view(item)
    if reviewing:
        st.caption(f"Rated earlier: {escape_markdown(str(item.value))}. A key changes it.")
    _value_row(ws, session_id, scheme, rater, item)
    if scheme.kind != "text":
        st.text_input(
            "Comment (optional)",
            value=item.comment or "",
            key=state.rate_comment_key(session_id, item.cell_id),
            help="Saved with the rating; press Esc or Tab to leave the box, then a key",
        )
    _nav_row(ws, session_id, rater, item, reviewing)
