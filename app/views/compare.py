"""Compare: outputs side by side, word diffs from a pinned column, inline rating, traces."""

from __future__ import annotations

from typing import Any

import state
import streamlit as st
from components.context import workspace
from components.evaluate import evaluate_panel
from components.output_cell import escape_markdown, grid_cell, show_text, trace_view, widget_value
from components.rater import rater_field
from components.robustness_panel import robustness_panel

from promptyard import ratings
from promptyard.errors import PromptyardError
from promptyard.reading import (
    PAGE_SIZES,
    GridFilters,
    cell_trace,
    columns_for,
    export_grid,
    grid_page,
)
from promptyard.runs import list_runs

ws = workspace()
st.title("🔍 Compare")


def _on_rate(cell_id: int, scheme_name: str, key: str) -> None:
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


def _reset_page() -> None:
    st.session_state[state.COMPARE_PAGE] = 1


def _flash() -> None:
    flash = st.session_state.pop(state.COMPARE_FLASH, None)
    if flash:
        kind, message = flash
        (st.error if kind == "error" else st.toast)(message)


runs = list_runs(ws, kind=None)
if not runs:
    st.info("No runs yet. Start one on the Runs page, or with `promptyard run`.")
    st.stop()
by_id = {r.run_id: r for r in runs}


def _run_label(run_id: int | None) -> str:
    if run_id is None:
        return "— none —"
    r = by_id[run_id]
    kind = "" if r.kind == "run" else f" [{r.kind}]"
    return f"#{r.run_id} {r.name or 'run'}{kind} · {r.dataset or 'no dataset'} · {r.cells:,} cells"


wanted = st.query_params.get("run")
if (
    wanted
    and wanted.isdigit()
    and int(wanted) in by_id
    and state.COMPARE_RUN not in st.session_state
):
    st.session_state[state.COMPARE_RUN] = int(wanted)
if st.session_state.get(state.COMPARE_RUN) not in by_id:
    st.session_state[state.COMPARE_RUN] = runs[0].run_id

top = st.columns([3, 3, 2])
run_id = top[0].selectbox(
    "Run", list(by_id), format_func=_run_label, key=state.COMPARE_RUN, on_change=_reset_page
)
same_dataset = [r.run_id for r in runs if r.run_id != run_id and r.dataset == by_id[run_id].dataset]
if st.session_state.get(state.COMPARE_RUN_B) not in [None, *same_dataset]:
    st.session_state[state.COMPARE_RUN_B] = None
run_b = top[1].selectbox(
    "Compare with run (same dataset)",
    [None, *same_dataset],
    format_func=_run_label,
    key=state.COMPARE_RUN_B,
    on_change=_reset_page,
)
with top[2]:
    rater = rater_field()
run_ids = [run_id] + ([run_b] if run_b else [])

schemes = ratings.load_schemes(ws)
scheme_by_name = {s.name: s for s in schemes}
try:
    columns = columns_for(ws, run_ids)
except PromptyardError as exc:
    st.error(str(exc))
    st.stop()
label_of = {c.variant_id: c.label for c in columns}

with st.container(border=True):
    f = st.columns([2, 2, 2, 3], vertical_alignment="center")
    errors_only = f[0].checkbox("Errors only", key=state.COMPARE_ERRORS_ONLY, on_change=_reset_page)
    differ_only = f[1].checkbox(
        "Columns differ",
        key=state.COMPARE_DIFFER_ONLY,
        on_change=_reset_page,
        help="Rows where the variants gave different outputs",
    )
    rated = f[3].segmented_control(
        "Rated",
        ["any", "rated", "unrated"],
        default="any",
        key=state.COMPARE_RATED,
        on_change=_reset_page,
        label_visibility="collapsed",
    )
    low_rated = f[2].checkbox(
        "Low-rated",
        key=state.COMPARE_LOW_RATED,
        on_change=_reset_page,
        help="Rows with a rating at or under half the scale",
    )
    search = st.text_input(
        "Search",
        key=state.COMPARE_SEARCH,
        placeholder="search inputs, outputs, references",
        on_change=_reset_page,
        label_visibility="collapsed",
    )
    g = st.columns([3, 2, 1])
    if st.session_state.get(state.COMPARE_BASELINE) not in [None, *label_of]:
        st.session_state[state.COMPARE_BASELINE] = None
    baseline = g[0].selectbox(
        "Pin a baseline column (highlight differences from it)",
        [None, *label_of],
        format_func=lambda v: "— no baseline —" if v is None else label_of[v],
        key=state.COMPARE_BASELINE,
    )
    scheme_name = g[1].selectbox(
        "Rate inline with",
        [None, *scheme_by_name],
        format_func=lambda v: (
            "— no inline rating —" if v is None else f"{v} ({scheme_by_name[v].describe()})"
        ),
        key=state.COMPARE_SCHEME,
    )
    page_size = g[2].selectbox(
        "Rows per page",
        PAGE_SIZES,
        index=0,
        key=state.COMPARE_PAGE_SIZE,
        on_change=_reset_page,
    )

_flash()
filters = GridFilters(
    errors_only=errors_only,
    differ_only=differ_only,
    rated=rated or "any",
    low_rated=low_rated,
    scheme=scheme_name,  # rated/unrated/low-rated follow the inline scheme when one is picked
    search=search or "",
)
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
except PromptyardError as exc:
    st.error(str(exc))
    st.stop()
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
with st.expander("🧪 Evaluate this run: eval suites and judge calibration"):
    evaluate_panel(ws, run_id)
robustness_panel(ws, run_id)

trace_id = st.session_state.get(state.COMPARE_TRACE)
if trace_id:
    with st.container(border=True):
        head = st.columns([6, 1])
        head[0].subheader("Trace")
        if head[1].button("Close", key="compare.trace_close", icon=":material/close:"):
            st.session_state[state.COMPARE_TRACE] = None
            st.rerun()
        try:
            trace_view(cell_trace(ws, int(trace_id)))
        except PromptyardError as exc:
            st.error(str(exc))

scheme = scheme_by_name.get(scheme_name) if scheme_name else None
if scheme is not None and not rater:
    st.info("Type your name (top right) to rate inline.")

if not grid.rows:
    st.info("No row matches these filters.")
else:
    weights = [2] + [3] * len(grid.columns)
    header = st.columns(weights)
    header[0].markdown("**Row**")
    for col, column in zip(header[1:], grid.columns, strict=True):
        pin = " 📌" if column.variant_id == baseline else ""
        col.markdown(f"**{escape_markdown(column.label)}**{pin}")
    for row in grid.rows:
        with st.container(border=True):
            cols = st.columns(weights)
            with cols[0]:
                st.caption(escape_markdown(f"#{row.row_index + 1} · {row.row_id}"))
                for name, value in row.inputs.items():
                    st.caption(escape_markdown(str(name)))
                    show_text(
                        value if isinstance(value, str) else repr(value),
                        key=f"in{row.row_id}{name}",
                        collapse_at=300,
                    )
                if row.reference:
                    st.caption("reference")
                    show_text(row.reference, key=f"ref{row.row_id}", collapse_at=300)
            for col, column in zip(cols[1:], grid.columns, strict=True):
                with col:
                    cell = row.cells.get(column.variant_id)
                    key = (
                        state.compare_rating_key(cell.cell_id, scheme.name, rater)
                        if cell is not None and scheme is not None and rater
                        else None
                    )
                    grid_cell(cell, column, scheme if rater else None, key, _on_rate, _on_trace)


def _set_page(n: int) -> None:
    st.session_state[state.COMPARE_PAGE] = n


nav = st.columns([1, 1, 2, 4])
nav[0].button(
    "Previous",
    key="compare.prev",
    disabled=grid.page == 0,
    on_click=_set_page,
    args=(grid.page,),
    icon=":material/chevron_left:",
)
nav[1].button(
    "Next",
    key="compare.next",
    disabled=grid.page + 1 >= grid.pages,
    on_click=_set_page,
    args=(grid.page + 2,),
    icon=":material/chevron_right:",
)
nav[2].number_input(
    "Page",
    min_value=1,
    max_value=grid.pages,
    key=state.COMPARE_PAGE,
    label_visibility="collapsed",
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
