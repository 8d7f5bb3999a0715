"""Traces: what the application did in production, call by call, and conversation by conversation."""

from __future__ import annotations

import state
import streamlit as st
from components.context import workspace
from components.trace_detail import trace_view
from components.trace_filters import trace_filters
from components.trace_list import trace_list
from components.trace_sessions import sessions_view
from components.trace_to_dataset import add_to_dataset

from promptyard import traces
from promptyard.errors import PromptyardError

VIEWS = {"list": "📋 Traces", "sessions": "💬 Sessions"}

ws = workspace()
st.title("🔭 Traces")


@st.cache_data(ttl=15, show_spinner=False)
def _options(url: str) -> traces.TraceOptions:
    # What the filter widgets offer, read off the newest 20,000 spans: cached briefly so a
    # widget change does not read them again.
    return traces.trace_options(url)


options = _options(ws.database_url)
if options.empty:
    _options.clear()  # the first span shows up on the next visit, not 15 s later
    st.info(
        "No traces yet. Start the collector with `promptyard collect` (OpenTelemetry "
        "OTLP/HTTP on port 4318; `scripts/start.sh` starts it beside the workbench), then "
        "point your app's exporter at `http://127.0.0.1:4318/v1/traces`, e.g. "
        "`OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318`. Attach the prompt version with "
        "`prompt.trace_attributes`. See docs/traces.md.",
        icon="📡",
    )
    st.stop()

message = st.session_state.pop(state.TRACES_FLASH, None)
if message:
    st.success(message, icon="✅")

wanted = st.query_params.get("trace")
if wanted and state.TRACES_OPEN not in st.session_state:
    st.session_state[state.TRACES_OPEN] = wanted

with st.sidebar:
    st.subheader("Filters", anchor=False)
    try:
        filters = trace_filters(options)
    except PromptyardError as exc:
        st.error(str(exc))
        st.stop()

view = st.segmented_control(
    "View", list(VIEWS), format_func=VIEWS.get, default="list", key=state.TRACES_VIEW,
    label_visibility="collapsed",
)  # fmt: skip

if view == "sessions":
    sessions_view(ws)
else:
    try:
        page, selected = trace_list(ws, filters)
    except PromptyardError as exc:
        st.error(str(exc))
        st.stop()
    add_to_dataset(ws, selected)
    if selected:
        st.session_state[state.TRACES_OPEN] = selected[-1].trace_id

opened = st.session_state.get(state.TRACES_OPEN)
if opened:
    st.divider()
    try:
        detail = traces.trace_detail(ws, opened)
    except PromptyardError as exc:
        st.error(str(exc))
    else:
        trace_view(detail, traces.span_scores(ws, [n.id for n in detail.llm_spans]))
