"""Monitoring: volume, errors, latency, tokens, cost and quality of live traffic over time."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import state
import streamlit as st
from components.context import workspace
from components.monitoring_charts import inert, line_chart, top_segments

from promptyard import monitoring as mon
from promptyard.monitoring import Granularity, MetricsQuery, Segment

ws = workspace()
HOUR_NS = 3_600 * 1_000_000_000
RANGES = {"Last 24 hours": 24, "Last 7 days": 24 * 7, "Last 30 days": 24 * 30}
ALL_TRAFFIC = "All traffic"


@st.cache_data(ttl=15, show_spinner=False)
def _bounds(url: str) -> tuple[datetime, datetime] | None:
    return mon.time_bounds(url)


@st.cache_data(ttl=15, show_spinner=False)
def _keys(url: str) -> list[str]:
    return mon.span_attribute_keys(url)


@st.cache_data(ttl=15, show_spinner="Computing the metrics…")
def _data(url: str, query: MetricsQuery) -> dict[str, object]:
    return {
        "series": mon.metric_series(url, query),
        "feedback": mon.feedback_series(url, query),
        "pass_rates": mon.pass_rate_series(url, query),
        "markers": mon.change_markers(url, query.since_ns, query.until_ns),
        "consumers": mon.top_consumers(url, query.since_ns, query.until_ns),
    }


st.title("📈 Monitoring")
st.caption(
    "Live traffic from your app's traces: volume, errors, latency, tokens, cost and quality "
    "per hour or day. Dotted lines mark where a new prompt version or provider model first "
    "appeared."
)

url = ws.database_url
bounds = _bounds(url)
if bounds is None:
    _bounds.clear()  # the first spans show up on the next visit, not 15 s later
    st.info(
        "No traces yet. Run `promptyard collect` and point your app's OpenTelemetry OTLP/HTTP "
        "exporter at it (`http://127.0.0.1:4318`); every LLM call it reports shows up here. "
        "See docs/traces.md for the SDK setup and the attributes that link a call to a prompt."
    )
    st.stop()

# --- pickers ------------------------------------------------------------------------------

with st.container(border=True):
    cols = st.columns([2, 2, 3, 3])
    range_name = cols[0].selectbox("Range", [*RANGES, ALL_TRAFFIC], key=state.MON_RANGE)
    granularity = Granularity(
        cols[1].radio(
            "Per", [g.value for g in Granularity], horizontal=True, key=state.MON_GRANULARITY
        )
    )
    segment = Segment(
        cols[2].selectbox(
            "Segment by",
            [s.value for s in Segment],
            format_func=lambda s: mon.SEGMENT_TITLES[Segment(s)],
            key=state.MON_SEGMENT,
        )
    )
    attribute = None
    if segment is Segment.ATTRIBUTE:
        keys = _keys(url)
        if not keys:
            cols[3].caption("No span attributes in recent traffic to segment by.")
            segment = Segment.NONE
        else:
            attribute = cols[3].selectbox("Attribute", keys, key=state.MON_ATTRIBUTE)

now_ns = int(datetime.now(UTC).timestamp()) * 1_000_000_000
last_ns = int(bounds[1].timestamp() * 1e9)
until_ns = (max(now_ns, last_ns) // HOUR_NS + 1) * HOUR_NS  # through the current hour
if range_name == ALL_TRAFFIC:
    since_ns = int(bounds[0].timestamp() * 1e9) // HOUR_NS * HOUR_NS
else:
    since_ns = until_ns - RANGES[range_name] * HOUR_NS
query = MetricsQuery(since_ns, until_ns, granularity, segment, attribute)
data = _data(url, query)
series: pd.DataFrame = data["series"]  # type: ignore[assignment]
markers: list[mon.ChangeMarker] = data["markers"]  # type: ignore[assignment]

if series.empty:
    st.info(
        f"No LLM calls in this range. The latest one started {bounds[1]:%Y-%m-%d %H:%M} UTC: "
        f"pick **{ALL_TRAFFIC}** or a longer range."
    )
    st.stop()

# --- headline -----------------------------------------------------------------------------

calls = int(series["calls"].sum())
errors = int(series["errors"].sum())
unknown = int(series["cost_unknown"].sum())
known_cost = series["cost_usd"].sum(min_count=1)
head = st.columns(4)
head[0].metric("Calls", f"{calls:,}")
head[1].metric("Error rate", f"{errors / calls:.1%}")
head[2].metric(
    "Tokens in / out",
    f"{int(series['input_tokens'].fillna(0).sum()):,} / "
    f"{int(series['output_tokens'].fillna(0).sum()):,}",
)
head[3].metric("Cost", "unknown" if pd.isna(known_cost) else f"${known_cost:,.4f}")
if unknown:
    st.caption(
        f"{unknown:,} of {calls:,} calls have no known price: they are left out of the cost "
        "(not counted as $0). Add their model to the price map to include them."
    )

# --- charts -------------------------------------------------------------------------------

segments = top_segments(series)
if series["segment"].nunique() > len(segments):
    st.caption(f"The {len(segments)} busiest segments are drawn; the rest are in the totals.")
unit = "hour" if granularity is Granularity.HOUR else "day"
left, right = st.columns(2)
left.plotly_chart(
    line_chart(series, "calls", f"Calls per {unit}", markers, segments),
    key="mon.calls",
    theme=None,
)
right.plotly_chart(
    line_chart(series, "error_rate", "Error rate", markers, segments, y_format=".0%"),
    key="mon.errors",
    theme=None,
)
if segment is Segment.NONE:
    latency = series.melt(
        id_vars=["time"],
        value_vars=["latency_p50", "latency_p95", "latency_p99"],
        var_name="percentile",
        value_name="ms",
    )
    latency["percentile"] = latency["percentile"].str.removeprefix("latency_")
    latency_fig = line_chart(
        latency, "ms", "Latency (ms, successful calls, nearest rank)", markers,
        ["p50", "p95", "p99"], group="percentile",
    )  # fmt: skip
else:
    pct = st.radio(
        "Latency percentile", ["p50", "p95", "p99"], index=1, horizontal=True,
        key=state.MON_PERCENTILE,
    )  # fmt: skip
    latency_fig = line_chart(
        series, f"latency_{pct}", f"Latency {pct} (ms, nearest rank)", markers, segments
    )
left, right = st.columns(2)
left.plotly_chart(latency_fig, key="mon.latency", theme=None)
right.plotly_chart(
    line_chart(series, "ttft_p50", "Time to first token p50 (ms)", markers, segments),
    key="mon.ttft",
    theme=None,
)
tokens = series.assign(tokens=series["input_tokens"].fillna(0) + series["output_tokens"].fillna(0))
left, right = st.columns(2)
left.plotly_chart(
    line_chart(tokens, "tokens", f"Tokens (in + out) per {unit}", markers, segments),
    key="mon.tokens",
    theme=None,
)
right.plotly_chart(
    line_chart(series, "cost_usd", f"Known cost per {unit} (USD)", markers, segments),
    key="mon.cost",
    theme=None,
)

# --- quality ------------------------------------------------------------------------------

st.subheader("Quality")
feedback: pd.DataFrame = data["feedback"]  # type: ignore[assignment]
pass_rates: pd.DataFrame = data["pass_rates"]  # type: ignore[assignment]
if feedback.empty and pass_rates.empty:
    st.caption(
        "No quality data in this range: end users' feedback (`promptyard.feedback(...)`, "
        "see docs/traces.md) and online evaluators' verdicts appear here."
    )
left, right = st.columns(2)
for i, name in enumerate(sorted(feedback["name"].astype(str).unique()) if len(feedback) else []):
    part = feedback[feedback["name"] == name]
    (left if i % 2 == 0 else right).plotly_chart(
        line_chart(part, "mean", f"Mean feedback: {inert(name)}", markers, segments),
        key=f"mon.feedback.{i}",
        theme=None,
    )
if len(pass_rates):
    pairs = pass_rates[["suite", "evaluator"]].drop_duplicates().sort_values(["suite", "evaluator"])
    for i, (suite, evaluator) in enumerate(pairs.itertuples(index=False)):
        part = pass_rates[(pass_rates["suite"] == suite) & (pass_rates["evaluator"] == evaluator)]
        (right if i % 2 == 0 else left).plotly_chart(
            line_chart(
                part, "pass_rate", f"Pass rate: {inert(suite)} / {inert(evaluator)}",
                markers, segments, y_format=".0%",
            ),
            key=f"mon.pass.{i}",
            theme=None,
        )  # fmt: skip

# --- top consumers and changes --------------------------------------------------------------

st.subheader("Top consumers")
st.caption("Users and services ranked by known cost, then tokens, over the range.")
consumers: pd.DataFrame = data["consumers"]  # type: ignore[assignment]
st.dataframe(
    consumers,
    hide_index=True,
    width="stretch",
    column_config={
        "kind": st.column_config.TextColumn("Kind"),
        "consumer": st.column_config.TextColumn("User or service"),
        "calls": st.column_config.NumberColumn("Calls", format="%d"),
        "input_tokens": st.column_config.NumberColumn("Tokens in", format="%d"),
        "output_tokens": st.column_config.NumberColumn("Tokens out", format="%d"),
        "tokens": st.column_config.NumberColumn("Tokens", format="%d"),
        "cost_usd": st.column_config.NumberColumn("Known cost (USD)", format="$%.4f"),
        "cost_unknown": st.column_config.NumberColumn("Calls without a price", format="%d"),
        "share_of_cost": st.column_config.ProgressColumn(
            "Share of cost", min_value=0.0, max_value=1.0, format="percent"
        ),
    },
    key="mon.consumers",
)
if markers:
    st.subheader("Changes in traffic")
    st.dataframe(
        pd.DataFrame(
            {
                "first seen (UTC)": [m.at.strftime("%Y-%m-%d %H:%M:%S") for m in markers],
                "what": [
                    "prompt version" if m.kind == "prompt_version" else "provider model"
                    for m in markers
                ],
                "name": [m.label for m in markers],
            }
        ),
        hide_index=True,
        width="stretch",
        key="mon.changes",
    )
