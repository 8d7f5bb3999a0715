"""Plotly line charts of the Monitoring page: one line per segment, change markers drawn.

Plotly reads a subset of HTML in names and annotations, so every segment name and marker
label (user, model and prompt text from traffic) is made inert first.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from promptyard.monitoring import ChangeKind, ChangeMarker
from promptyard.reading.charts import PALETTE, TEMPLATE_NAME

MAX_SEGMENTS = 8
MARKER_COLORS = {ChangeKind.PROMPT_VERSION: "#6b7280", ChangeKind.RESPONSE_MODEL: "#D55E00"}


def inert(value: object) -> str:
    """Text plotly shows as typed: &, < and > become entities, never tags."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def top_segments(series: pd.DataFrame, limit: int = MAX_SEGMENTS) -> list[str]:
    """The `limit` segments with the most calls over the range, busiest first."""
    totals = series.groupby("segment")["calls"].sum().sort_values(ascending=False, kind="stable")
    return [str(s) for s in totals.index[:limit]]


def line_chart(
    df: pd.DataFrame,
    column: str,
    title: str,
    markers: list[ChangeMarker],
    segments: list[str] | None = None,
    y_format: str | None = None,
    group: str = "segment",
) -> go.Figure:
    """One line per value of `group` (in `segments` order when given) of `column` over
    `time`, with a dotted vertical line and label at each change marker."""
    fig = go.Figure()
    fig.update_layout(template=TEMPLATE_NAME, title={"text": title}, height=340)
    names = segments if segments is not None else sorted(df[group].astype(str).unique())
    for i, name in enumerate(names):
        part = df[df[group].astype(str) == name].sort_values("time")
        if part.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=part["time"],
                y=part[column],
                mode="lines+markers",
                name=inert(name),
                line={"color": PALETTE[i % len(PALETTE)], "width": 2},
                marker={"size": 5},
                connectgaps=False,
            )
        )
    for marker in markers:
        fig.add_vline(
            x=marker.at.timestamp() * 1000,  # plotly takes epoch milliseconds on a date axis
            line={"color": MARKER_COLORS[marker.kind], "dash": "dot", "width": 1.5},
            annotation={"text": inert(marker.label), "textangle": -90, "font": {"size": 11}},
            annotation_position="top left",
        )
    if y_format:
        fig.update_yaxes(tickformat=y_format)
    fig.update_xaxes(title=None)
    fig.update_yaxes(rangemode="tozero")  # a flat line at 30 calls must not look like a swing
    return fig
