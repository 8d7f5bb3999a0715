"""Compare: outputs side by side, word diffs from a pinned column, inline rating, traces."""

from __future__ import annotations

import state
import streamlit as st
from components.compare_grid import grid_fragment
from components.context import workspace
from components.evaluate import evaluate_panel
from components.labeling import keep_rater_name, remember_rater_name
from components.rater import rater_field
from components.robustness_panel import robustness_panel
from components.signin import may, may_or_say

from promptyard import ratings
from promptyard.errors import PromptyardError
from promptyard.reading import PAGE_SIZES, GridFilters, columns_for
from promptyard.runs import list_runs
from promptyard.team import Permission

ws = workspace()
st.title("🔍 Compare")


def _reset_page() -> None:
    st.session_state[state.COMPARE_PAGE] = 1


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
rater = ""
if may(Permission.RATE_ANY):  # rating here is outside any labeling session
    with top[2]:
        keep_rater_name()
        rater = rater_field()
        remember_rater_name(rater)
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
    g = st.columns([4, 3, 2, 2], vertical_alignment="bottom")
    if st.session_state.get(state.COMPARE_BASELINE) not in [None, *label_of]:
        st.session_state[state.COMPARE_BASELINE] = None
    baseline = g[0].selectbox(
        "Pin a baseline column (highlight differences from it)",
        [None, *label_of],
        format_func=lambda v: "— no baseline —" if v is None else label_of[v],
        key=state.COMPARE_BASELINE,
    )
    scheme_name = None
    with g[1]:
        if may_or_say(Permission.RATE_ANY, "rate outside a labeling session"):
            scheme_name = st.selectbox(
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
        index=1,
        key=state.COMPARE_PAGE_SIZE,
        on_change=_reset_page,
    )
    compact = g[3].toggle(
        "Compact",
        value=True,
        key=state.COMPARE_COMPACT,
        help="Wide input and output columns, long texts cut sooner",
    )

filters = GridFilters(
    errors_only=errors_only,
    differ_only=differ_only,
    rated=rated or "any",
    low_rated=low_rated,
    scheme=scheme_name,  # rated/unrated/low-rated follow the inline scheme when one is picked
    search=search or "",
)
with st.expander("🧪 Evaluate this run: eval suites and judge calibration"):
    evaluate_panel(ws, run_id)
robustness_panel(ws, run_id)
grid_fragment(
    ws,
    run_ids,
    filters,
    baseline,
    scheme_by_name.get(scheme_name) if scheme_name else None,
    page_size,
    rater,
    compact,
)
