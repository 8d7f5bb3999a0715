"""The Traces list: one dense, selectable page of spans, with Newer/Older paging."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pandas as pd
import state
import streamlit as st

from promptyard import traces
from promptyard.csv_safety import neutralise_cell
from promptyard.traces import SpanFilters, SpanPage, SpanRow
from promptyard.workspace import Workspace

PAGE_SIZES = [25, 50, 100, 200]


def _feedback(row: SpanRow) -> str:
    if row.feedback is None:
        return ""
    mean = "—" if row.feedback.mean is None else f"{row.feedback.mean:.2f}"
    return f"{mean} ({row.feedback.count})"


def _frame(rows: list[SpanRow]) -> pd.DataFrame:
    """The page as a table; text from the app is neutralised for the CSV download."""
    records = [
        {
            "started (UTC)": r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            "name": r.name,
            "prompt": r.prompt or "",
            "model": r.response_model or r.request_model or "",
            "in tok": r.input_tokens,
            "out tok": r.output_tokens,
            "latency ms": round(r.duration_ms, 1),
            "cost": "unknown" if r.cost_usd is None else f"${r.cost_usd:.6f}",
            "user": r.user_id or "",
            "session": r.session_id or "",
            "status": "error" if r.status == "error" else "ok",  # OTel "unset" = no error
            "feedback": _feedback(r),
            "output": (r.output_preview or "").replace("\n", " "),
            "trace id": r.trace_id,
            "span id": r.span_id,
        }
        for r in rows
    ]
    frame = pd.DataFrame(records)
    if not frame.empty:
        frame = frame.map(neutralise_cell)
    return frame


def table_key(
    filters: SpanFilters, cursor: str | None, size: int, when: tuple[object, ...] = ("all",)
) -> str:
    """The list dataframe's key: a fresh selection per page, page size and filters.

    `when` is the time widgets' choice: a relative range ("last hour") makes a new `since`
    on every run, which must not drop the selection.
    """
    steady = replace(filters, since=None, until=None)
    text = f"{steady!r}|{when!r}|{cursor}|{size}"
    return state.traces_table_key(hashlib.sha1(text.encode()).hexdigest()[:12])


def _when() -> tuple[object, ...]:
    picked = st.session_state.get(state.TRACES_RANGE, "all")
    if picked != "custom":
        return (picked,)
    return (
        picked,
        st.session_state.get(state.TRACES_SINCE),
        st.session_state.get(state.TRACES_UNTIL),
    )


def _older(cursor: str) -> None:
    st.session_state.setdefault(state.TRACES_CURSORS, []).append(cursor)


def _newer() -> None:
    cursors = st.session_state.get(state.TRACES_CURSORS) or []
    if cursors:
        cursors.pop()


def trace_list(ws: Workspace, filters: SpanFilters) -> tuple[SpanPage, list[SpanRow]]:
    """Draw the current page; returns it and the rows the user selected."""
    cursors: list[str] = st.session_state.setdefault(state.TRACES_CURSORS, [])
    cursor = cursors[-1] if cursors else None
    size = int(st.session_state.get(state.TRACES_PAGE_SIZE, 50))
    page = traces.list_spans(ws, filters, cursor, size)
    count, capped = traces.count_spans(ws, filters)
    where = f"of {count:,}{'+' if capped else ''} spans"
    if filters.search:
        where += " (before the search)"
    first = len(cursors) * size + 1
    shown = f"{first:,}–{first + len(page.spans) - 1:,}" if page.spans else "none"
    st.caption(f"Showing {shown} {where}, newest first")
    if not page.spans:
        if page.window_exhausted:
            st.info(
                f"No match among the next {traces.TEXT_SCAN_WINDOW:,} spans; "
                "**Older** searches further back."
            )
        else:
            st.info("No span matches these filters.")
    selected: list[SpanRow] = []
    if page.spans:
        event = st.dataframe(
            _frame(page.spans),
            hide_index=True,
            width="stretch",
            on_select="rerun",
            selection_mode="multi-row",
            key=table_key(filters, cursor, size, _when()),
            column_config={
                "output": st.column_config.TextColumn(width="large"),
                "trace id": st.column_config.TextColumn(width="small"),
            },
        )
        picked = event.selection.rows if event else []
        selected = [page.spans[i] for i in picked if i < len(page.spans)]
    nav = st.columns([1, 1, 1, 4], vertical_alignment="center")
    nav[0].button("← Newer", disabled=not cursors, on_click=_newer, key="traces.newer")
    nav[1].button(
        "Older →",
        disabled=page.next_cursor is None,
        on_click=_older,
        args=(page.next_cursor,),
        key="traces.older",
    )
    nav[2].selectbox(
        "Per page",
        PAGE_SIZES,
        index=PAGE_SIZES.index(50),
        key=state.TRACES_PAGE_SIZE,
        label_visibility="collapsed",
        on_change=lambda: st.session_state.__setitem__(state.TRACES_CURSORS, []),
    )
    if page.window_exhausted and page.spans:
        nav[3].caption(
            f"The search looked through {traces.TEXT_SCAN_WINDOW:,} spans for this page."
        )
    return page, selected
