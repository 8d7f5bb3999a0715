"""Dashboard: which prompt version and model to ship, on quality, latency and cost."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

import state
import streamlit as st
from components.context import workspace
from components.finetune_button import finetune_button
from components.guardrails import guardrail_section
from components.leaderboard_table import leaderboard_frame
from components.robustness_column import robustness_column
from components.trace_feedback import feedback_section

from promptyard import ratings
from promptyard.csv_safety import neutralise_cell
from promptyard.reading import analytics, charts
from promptyard.reading.analytics import METRIC_TITLES, DashboardData, FilterOptions, Filters

ws = workspace()

# --- a pick in the table or on a chart opens Compare ---------------------------------


def _open(run_id: int, variant_id: int) -> None:
    st.session_state[state.DASH_OPEN] = (int(run_id), int(variant_id))


def _on_table_select(targets: list[tuple[int, int]]) -> None:
    event = st.session_state.get(state.DASH_TABLE)
    rows = event.selection.rows if event else []
    if rows and rows[0] < len(targets):
        _open(*targets[rows[0]])


def _on_chart_select(key: str) -> None:
    event = st.session_state.get(key)
    points = event.selection.points if event else []
    for point in points:
        custom = point.get("customdata")
        if custom and len(custom) >= 2:
            _open(custom[0], custom[1])
            return


target = st.session_state.pop(state.DASH_OPEN, None)
if target:
    run_id, variant_id = target
    st.session_state[state.COMPARE_RUN_ID] = run_id
    st.session_state[state.COMPARE_VARIANT_ID] = variant_id
    # The Compare page's own widgets, so it opens on that run with the variant pinned.
    st.session_state[state.COMPARE_RUN] = run_id
    st.session_state[state.COMPARE_BASELINE] = variant_id
    st.session_state[state.COMPARE_PAGE] = 1
    st.switch_page("views/compare.py")

# --- data (cached briefly: a widget change must not recompute a million cells) -------


@st.cache_data(ttl=15, show_spinner=False)
def _options(url: str) -> FilterOptions:
    return analytics.filter_options(url)


@st.cache_data(ttl=15, show_spinner="Computing the dashboard…")
def _data(url: str, filters: Filters, metric: str) -> DashboardData:
    return analytics.dashboard_data(url, filters, metric)


st.title("📊 Dashboard")
st.caption("Quality, latency and cost per prompt version and model: what to ship.")

url = ws.database_url
options = _options(url)
if options.empty:
    _options.clear()  # the first run shows up on the next visit, not 15 s later
    st.info(
        "Nothing to show yet. Start a run on the **Runs** page (or `promptyard run …`), "
        "then rate its outputs on the **Rate** page: the leaderboard, latency and cost "
        "charts fill in as cells finish."
    )
    feedback_section(url)
    st.stop()

# --- filters --------------------------------------------------------------------------

ALL = "All"
with st.container(border=True):
    top = st.columns([2, 2, 3, 3])
    prompt = top[0].selectbox("Prompt", [ALL, *options.prompts], key=state.DASH_PROMPT)
    dataset = top[1].selectbox("Dataset", [ALL, *options.datasets], key=state.DASH_DATASET)
    models = top[2].multiselect(
        "Models", options.models, key=state.DASH_MODELS, placeholder="all models"
    )
    run_labels = {
        int(r.id): f"#{r.id} {r.name or 'run'} · {r.dataset_name or 'no dataset'}"
        for r in options.runs.itertuples()
    }
    runs = top[3].multiselect(
        "Runs",
        list(run_labels),
        format_func=lambda r: run_labels[r],
        key=state.DASH_RUNS,
        placeholder="all runs",
    )
    bottom = st.columns([3, 2, 2, 1])
    dates: Any = ()
    if options.first_date and options.last_date:
        dates = bottom[0].date_input(
            "Run dates",
            value=(options.first_date, options.last_date),
            key=state.DASH_DATES,
            format="YYYY-MM-DD",
        )
    # One scheme at a time: thumbs and 1-5 scores do not average into one figure.
    scheme_defs = {s.name: s for s in ratings.load_schemes(ws)}
    rated_schemes = sorted(
        options.schemes, key=lambda n: list(scheme_defs).index(n) if n in scheme_defs else 99
    )
    scheme = bottom[1].selectbox(
        "Rating scheme",
        rated_schemes or [None],
        key=state.DASH_SCHEME,
        format_func=lambda n: "— no ratings yet —" if n is None else n,
        help="Human scores of one scheme, on its own scale",
    )
    metric = bottom[2].selectbox(
        "Quality means",
        ["auto", *analytics.QUALITY_METRICS],
        format_func=lambda m: "automatic" if m == "auto" else METRIC_TITLES[m],
        key=state.DASH_METRIC,
        help="Automatic: human scores when there are any, else evaluator pass rate, "
        "else pairwise win rate",
    )
    bottom[3].write("")
    if bottom[3].button("Refresh", help="Recompute now (results are kept for 15 s)"):
        st.cache_data.clear()

since = until = None
# The full range means "any date", so runs started later are not left out.
full_range = (options.first_date, options.last_date)
if isinstance(dates, tuple | list) and len(dates) == 2 and tuple(dates) != full_range:
    since, until = dates
filters = Filters(
    prompt=None if prompt == ALL else prompt,
    dataset=None if dataset == ALL else dataset,
    models=tuple(models),
    run_ids=tuple(int(r) for r in runs),
    since=since if isinstance(since, date) else None,
    until=until if isinstance(until, date) else None,
    scheme=scheme or None,
)
volume = float(st.session_state.get(state.DASH_VOLUME, 1_000_000))
data = _data(url, filters, metric)
board = analytics.project_monthly_cost(data.board, volume)  # the volume needs no new query

if data.empty:
    st.info(
        "No finished cells match these filters. Widen them (clear models, runs or dates), "
        "or wait for a running run to finish cells."
    )
    st.stop()

# --- headline and monthly cost ----------------------------------------------------------

quality_title = METRIC_TITLES[str(board["quality_metric"].iloc[0])]
if board["quality"].isna().all():
    st.warning(
        "No quality data for these variants yet: rate cells on the **Rate** page (or add "
        "evaluators) to rank them. Latency and cost are below."
    )

with st.container(border=True):
    cols = st.columns([3, 4, 6])
    cols[0].number_input(
        "Calls a month",
        min_value=1,
        value=1_000_000,
        step=100_000,
        key=state.DASH_VOLUME,
        help="Projects each variant's monthly cost from its mean cost per call",
    )
    labels = board["label"].tolist()
    if st.session_state.get(state.DASH_COST_VARIANT) not in labels:
        st.session_state[state.DASH_COST_VARIANT] = labels[0]
    chosen = cols[1].selectbox("Variant", labels, key=state.DASH_COST_VARIANT)
    row = board[board["label"] == chosen].iloc[0]
    cols[2].markdown(" ")
    cols[2].markdown(f"**{analytics.monthly_cost_sentence(row, volume)}**")

# --- leaderboard table ------------------------------------------------------------------

st.subheader("Leaderboard")
st.caption(
    f"Quality = {quality_title} with its 95% interval"
    + (
        f" ({scheme}, on its own scale)"
        if scheme and quality_title.startswith("mean human")
        else ""
    )
    + ". — marks a figure that does not exist yet. Latency is nearest-rank over "
    "successful calls not served from the cache. Select a row to open its cells in Compare."
)
scheme_def = scheme_defs.get(scheme) if scheme else None
table, order, columns = leaderboard_frame(robustness_column(url, board), scheme_def)
targets = [(int(r), int(v)) for r, v in zip(board["run_id"], board["variant_id"], strict=True)]
st.dataframe(
    table,
    column_order=order,
    column_config=columns,
    hide_index=True,
    width="stretch",
    on_select=partial(_on_table_select, targets),
    selection_mode="single-row",
    key=state.DASH_TABLE,
)

# --- charts -----------------------------------------------------------------------------


def _chart(name: str, fig: Any) -> None:
    key = state.dash_chart_key(name)
    st.plotly_chart(
        fig, key=key, on_select=partial(_on_chart_select, key), selection_mode="points", theme=None
    )


figures: dict[str, Any] = {}
left, right = st.columns(2)
with left:
    figures["leaderboard"] = charts.leaderboard_chart(board)
    _chart("leaderboard", figures["leaderboard"])
with right:
    figures["quality-vs-cost"] = charts.quality_cost_chart(board)
    _chart("quality-vs-cost", figures["quality-vs-cost"])

left, right = st.columns(2)
with left:
    prompts = sorted(board["prompt_name"].unique())
    by_version = data.by_version
    if len(prompts) > 1:
        if st.session_state.get(state.DASH_VERSIONS_PROMPT) not in prompts:
            st.session_state[state.DASH_VERSIONS_PROMPT] = data.versions_prompt
        shown = st.selectbox("Versions of", prompts, key=state.DASH_VERSIONS_PROMPT)
        by_version = analytics.versions_of(board, str(shown))
    figures["versions"] = charts.quality_by_version_chart(by_version)
    _chart("versions", figures["versions"])
with right:
    kind = st.segmented_control(
        "Latency as", ["box", "violin"], default="box", key=state.DASH_LATENCY_KIND
    )
    figures["latency"] = charts.latency_chart(data.samples, board, kind=kind or "box")
    _chart("latency", figures["latency"])

left, right = st.columns(2)
with left:
    figures["cost"] = charts.cost_chart(board, volume)
    _chart("cost", figures["cost"])
with right:
    figures["tokens"] = charts.tokens_chart(board)
    _chart("tokens", figures["tokens"])

feedback_section(url)
guardrail_section(ws)
finetune_button(ws, sorted(set(board["run_id"].astype(int))), "dashboard")

# --- export -----------------------------------------------------------------------------

with st.expander("Export", icon="⬇️"):
    st.download_button(
        "Leaderboard (CSV)",
        # Cells like "=HYPERLINK(...)" in a name would run in a spreadsheet: neutralised.
        data=board.drop(columns=["quality_metric"]).map(neutralise_cell).to_csv(index=False),
        file_name="leaderboard.csv",
        mime="text/csv",
        icon="📄",
    )
    png = charts.png_available()
    if not png:
        st.caption("Charts export as standalone HTML (works offline). PNG needs `kaleido`.")
    grid = st.columns(3)
    for i, (name, fig) in enumerate(figures.items()):
        with grid[i % 3]:
            st.download_button(
                f"{name} (HTML)",
                data=partial(charts.figure_html, fig),
                file_name=f"{name}.html",
                mime="text/html",
                key=f"dashboard.export.html::{name}",
                on_click="ignore",
            )
            if png:
                st.download_button(
                    f"{name} (PNG)",
                    data=partial(charts.figure_png, fig),  # type: ignore[arg-type]
                    file_name=f"{name}.png",
                    mime="image/png",
                    key=f"dashboard.export.png::{name}",
                    on_click="ignore",
                )
