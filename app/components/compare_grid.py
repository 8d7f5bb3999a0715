"""The Compare grid as a fragment: column summaries, rows, keyboard rating, paging, export.

A rating (a key, or a click in a cell) reruns only this fragment: the pickers and filters
above it are not run again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import state
import streamlit as st

from components.compare_keys import focus_cells, keyboard_bar
from components.output_cell import escape_markdown, grid_cell, show_text, trace_view, widget_value
from promptyard import ratings
from promptyard.errors import PromptyardError
from promptyard.ratings import RatingScheme
from promptyard.reading import (
    ColumnSummary,
    GridFilters,
    GridRow,
    cell_trace,
    column_summaries,
    export_grid,
    grid_page,
)
from promptyard.runs import format_usd
from promptyard.workspace import Workspace

UNKNOWN = "—"
SHORT = 40  # an input this short shows as `name: value` on one line in compact mode


def summary_line(s: ColumnSummary) -> str:
    """`pass 92% · quality 3.7 / 5 · p50 812 ms · $0.0123 · 2 errors`; — where unknown."""
    rate = UNKNOWN if s.pass_rate is None else f"{s.pass_rate:.0%}"
    parts = [f"pass {rate}"]
    if s.scheme is not None:
        parts.append(f"{s.scheme.name} {s.rating_text() or UNKNOWN}")
    parts.append(f"p50 {UNKNOWN if s.p50_latency_ms is None else f'{s.p50_latency_ms:,.0f} ms'}")
    parts.append(f"cost {UNKNOWN if s.cost_usd is None else format_usd(s.cost_usd)}")
    parts.append(f"{s.errors} error{'' if s.errors == 1 else 's'}")
    return " · ".join(parts)


def _on_rate(ws: Workspace, cell_id: int, scheme_name: str, key: str) -> None:
    rater = (st.session_state.get(state.RATER_NAME) or "").strip()
    try:
        scheme = ratings.get_scheme(ws, scheme_name)
        value = widget_value(scheme, st.session_state.get(key))
        if value is None:
            return
        ratings.rate_cell(ws, cell_id, scheme_name, value, rater)
        st.session_state[state.COMPARE_FLASH] = (
            "success",
            f"Saved {scheme_name} for cell {cell_id}.",
        )
    except PromptyardError as exc:
        st.session_state[state.COMPARE_FLASH] = ("error", str(exc))


def _on_trace(cell_id: int) -> None:
    st.session_state[state.COMPARE_TRACE] = cell_id


def _close_trace() -> None:
    st.session_state[state.COMPARE_TRACE] = None


def _set_page(n: int) -> None:
    st.session_state[state.COMPARE_PAGE] = n


def _flash() -> None:
    flash = st.session_state.pop(state.COMPARE_FLASH, None)
    if flash:
        kind, message = flash
        (st.error if kind == "error" else st.toast)(message)


def _row_inputs(row: GridRow, compact: bool) -> None:
    st.caption(escape_markdown(f"#{row.row_index + 1} · {row.row_id}"))
    for name, value in row.inputs.items():
        if row.reference is not None and value == row.reference:
            continue  # the reference is shown once, as the reference
        shown = value if isinstance(value, str) else repr(value)
        if compact and len(shown) <= SHORT and "\n" not in shown:
            st.text(f"{name}: {shown}")  # a short field takes one line, not two
            continue
        st.caption(escape_markdown(str(name)))
        show_text(shown, key=f"in{row.row_id}{name}", collapse_at=200 if compact else 300)
    if row.reference:
        st.caption("reference")
        show_text(row.reference, key=f"ref{row.row_id}", collapse_at=160 if compact else 300)


def _trace_panel(ws: Workspace) -> None:
    trace_id = st.session_state.get(state.COMPARE_TRACE)
    if not trace_id:
        return
    with st.container(border=True):
        head = st.columns([6, 1])
        head[0].subheader("Trace")
        head[1].button(
            "Close", key="compare.trace_close", icon=":material/close:", on_click=_close_trace
        )
        try:
            trace_view(cell_trace(ws, int(trace_id)))
        except PromptyardError as exc:
            st.error(str(exc))


@st.fragment
def grid_fragment(
    ws: Workspace,
    run_ids: Sequence[int],
    filters: GridFilters,
    baseline: int | None,
    scheme: RatingScheme | None,
    page_size: int,
    rater: str,
    compact: bool,
) -> None:
    """The grid's page (the page number lives in session state), drawn and redrawn alone."""
    _flash()
    page_number = int(st.session_state.get(state.COMPARE_PAGE, 1) or 1)
    try:
        grid = grid_page(
            ws,
            run_ids,
            page=page_number - 1,
            page_size=page_size,
            filters=filters,
            baseline=baseline,
            rater=rater or None,
        )
        summaries = {s.variant_id: s for s in column_summaries(ws, run_ids, scheme)}
    except PromptyardError as exc:
        st.error(str(exc))
        return
    st.session_state[state.COMPARE_PAGE] = grid.page + 1  # clamped when filters shrank the grid
    counts: dict[str, int] = {}
    for rid in run_ids:
        for name, n in ratings.rating_counts(ws, rid).items():
            counts[name] = counts.get(name, 0) + n
    summary = " · ".join(f"{name}: {n}" for name, n in counts.items() if n) or "none yet"
    st.caption(
        f"{grid.total_rows:,} rows × {len(grid.columns)} columns · page {grid.page + 1} of {grid.pages}"
        f" · ratings {summary}"
    )
    _trace_panel(ws)
    if scheme is not None and not rater:
        st.info("Type your name (top right) to rate inline.")
    if scheme is not None and rater and grid.rows:
        keyboard_bar(ws, grid, scheme, rater)
    focus = st.session_state.get(state.COMPARE_FOCUS) if scheme is not None and rater else None
    if not grid.rows:
        st.info("No row matches these filters.")
    else:
        # compact: the input as wide as an output, so neither wraps into a tall column
        weights = [4] + [4] * len(grid.columns) if compact else [2] + [3] * len(grid.columns)
        header = st.columns(weights)
        header[0].markdown("**Row**")
        for col, column in zip(header[1:], grid.columns, strict=True):
            pin = " 📌" if column.variant_id == baseline else ""
            col.markdown(f"**{escape_markdown(column.label)}**{pin}")
            found = summaries.get(column.variant_id)
            if found is not None:
                col.caption(escape_markdown(summary_line(found)))
        focused = {c for c in focus_cells(grid) if c == focus}
        for row in grid.rows:
            with st.container(border=True):
                cols = st.columns(weights)
                with cols[0]:
                    _row_inputs(row, compact)
                for col, column in zip(cols[1:], grid.columns, strict=True):
                    with col:
                        cell = row.cells.get(column.variant_id)
                        if cell is not None and cell.cell_id in focused:
                            st.badge(
                                "keys rate this cell", icon=":material/keyboard:", color="blue"
                            )
                        key = (
                            state.compare_rating_key(cell.cell_id, scheme.name, rater)
                            if cell is not None and scheme is not None and rater
                            else None
                        )
                        grid_cell(
                            cell,
                            column,
                            scheme if rater else None,
                            key,
                            lambda *a: _on_rate(ws, *a),
                            _on_trace,
                            compact=compact,
                        )
    _pager(ws, run_ids, filters, grid.page, grid.pages)


def _pager(
    ws: Workspace, run_ids: Sequence[int], filters: GridFilters, page: int, pages: int
) -> None:
    nav = st.columns([1, 1, 2, 4])
    nav[0].button(
        "Previous",
        key="compare.prev",
        disabled=page == 0,
        on_click=_set_page,
        args=(page,),
        icon=":material/chevron_left:",
    )
    nav[1].button(
        "Next",
        key="compare.next",
        disabled=page + 1 >= pages,
        on_click=_set_page,
        args=(page + 2,),
        icon=":material/chevron_right:",
    )
    nav[2].number_input(
        "Page", min_value=1, max_value=pages, key=state.COMPARE_PAGE, label_visibility="collapsed"
    )

    def _export(fmt: str) -> Any:
        return lambda: export_grid(ws, run_ids, fmt, filters)

    with nav[3]:
        ex = st.columns(2)
        name = "-".join(str(r) for r in run_ids)
        ex[0].download_button(
            "Export CSV",
            _export("csv"),
            file_name=f"run-{name}.csv",
            mime="text/csv",
            key="compare.export_csv",
            icon=":material/download:",
        )
        ex[1].download_button(
            "Export JSONL",
            _export("jsonl"),
            file_name=f"run-{name}.jsonl",
            mime="application/jsonl",
            key="compare.export_jsonl",
            icon=":material/download:",
        )
