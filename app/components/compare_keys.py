"""Rating the Compare grid by keyboard: one focused cell, the Rate page's keys.

Digits (or Y/N for thumbs) rate the focused cell and move on to the next unrated one;
← and → move the focus, S skips to the next unrated cell, U takes back the last rating
given with a key. The focus is a cell id in session state; the grid marks its cell.
"""

from __future__ import annotations

from typing import Any

import state
import streamlit as st

from components.labeling import KEY_NEXT, KEY_PREVIOUS, KEY_SKIP, KEY_UNDO, key_legend, value_keys
from promptyard import ratings
from promptyard.errors import PromptyardError
from promptyard.ratings import RatingScheme
from promptyard.reading import GridPage
from promptyard.workspace import Workspace


def focus_cells(grid: GridPage) -> list[int]:
    """The page's cells (first repeats) in reading order: row by row, left to right."""
    return [
        row.cells[c.variant_id].cell_id
        for row in grid.rows
        for c in grid.columns
        if c.variant_id in row.cells and not row.cells[c.variant_id].is_error
    ]


def _forget_widget(cell_id: int, scheme: str, rater: str) -> None:
    # The cell's own rating widget starts again from the value now stored.
    st.session_state.pop(state.compare_rating_key(cell_id, scheme, rater), None)


def _after(cells: list[int], unrated: set[int], start: int) -> int:
    """The first unrated cell after position `start` (wrapping), else the next cell."""
    n = len(cells)
    for step in range(1, n + 1):
        cell = cells[(start + step) % n]
        if cell in unrated:
            return cell
    return cells[min(start + 1, n - 1)]


def _rate(
    ws: Workspace,
    cell_id: int,
    scheme: str,
    value: Any,
    rater: str,
    cells: list[int],
    unrated: set[int],
) -> None:
    try:
        rating = ratings.rate_cell(ws, cell_id, scheme, value, rater)
    except PromptyardError as exc:
        st.session_state[state.COMPARE_FLASH] = ("error", str(exc))
        return
    st.session_state.setdefault(state.COMPARE_UNDO, []).append(rating.id)
    _forget_widget(cell_id, scheme, rater)
    st.session_state[state.COMPARE_FOCUS] = _after(cells, unrated - {cell_id}, cells.index(cell_id))


def _move(cells: list[int], to: int) -> None:
    st.session_state[state.COMPARE_FOCUS] = cells[max(0, min(to, len(cells) - 1))]


def _skip(cells: list[int], unrated: set[int], at: int) -> None:
    st.session_state[state.COMPARE_FOCUS] = _after(cells, unrated, at)


def _undo(ws: Workspace, scheme: str, rater: str) -> None:
    stack: list[int] = st.session_state.get(state.COMPARE_UNDO) or []
    while stack:
        cell_id = ratings.take_back_rating(ws, stack.pop())
        if cell_id is not None:
            _forget_widget(cell_id, scheme, rater)
            st.session_state[state.COMPARE_FOCUS] = cell_id
            st.session_state[state.COMPARE_FLASH] = (
                "info",
                f"Took back the rating of cell {cell_id}.",
            )
            return
    st.session_state[state.COMPARE_FLASH] = (
        "info",
        "Nothing to undo: no rating given with a key yet.",
    )


def keyboard_bar(ws: Workspace, grid: GridPage, scheme: RatingScheme, rater: str) -> None:
    """The focused cell, the value keys and the moves, with the key legend."""
    cells = focus_cells(grid)
    if not cells:
        return
    unrated = {
        row.cells[c.variant_id].cell_id
        for row in grid.rows
        for c in grid.columns
        if c.variant_id in row.cells and scheme.name not in row.cells[c.variant_id].mine
    }
    focus = st.session_state.get(state.COMPARE_FOCUS)
    if focus not in cells:
        focus = next((c for c in cells if c in unrated), cells[0])
        st.session_state[state.COMPARE_FOCUS] = focus
    at = cells.index(focus)
    where = next(
        (
            f"row #{row.row_index + 1} · {c.label}"
            for row in grid.rows
            for c in grid.columns
            if c.variant_id in row.cells and row.cells[c.variant_id].cell_id == focus
        ),
        "",
    )
    with st.container(border=True):
        st.caption(
            f"Keyboard rating: {where} ({at + 1} of {len(cells)} on this page). "
            + key_legend(scheme).replace(" · `Enter` save", "")
        )
        bar = st.container(horizontal=True)
        if not scheme.multiple:
            for value, label, key in value_keys(scheme):
                bar.button(
                    label,
                    key=f"compare.key::{key}",
                    shortcut=key,
                    on_click=_rate,
                    args=(ws, focus, scheme.name, value, rater, cells, unrated),
                )
        bar.button(
            "Previous",
            key="compare.key_prev",
            shortcut=KEY_PREVIOUS,
            icon=":material/arrow_back:",
            on_click=_move,
            args=(cells, at - 1),
        )
        bar.button(
            "Next",
            key="compare.key_next",
            shortcut=KEY_NEXT,
            icon=":material/arrow_forward:",
            on_click=_move,
            args=(cells, at + 1),
        )
        bar.button(
            "Skip",
            key="compare.key_skip",
            shortcut=KEY_SKIP,
            icon=":material/skip_next:",
            on_click=_skip,
            args=(cells, unrated, at),
        )
        bar.button(
            "Undo",
            key="compare.key_undo",
            shortcut=KEY_UNDO,
            icon=":material/undo:",
            on_click=_undo,
            args=(ws, scheme.name, rater),
        )
