"""Plotly figures built from the DataFrames of `promptyard.reading.analytics`: pure functions.

Every figure shares one look (the "promptyard" template: white, a quiet grid, one
colour per model across all charts) and carries `customdata = [run_id, variant_id]` on
its points, so a page can open the cells behind a clicked point.
"""

from __future__ import annotations

import importlib.util
import logging
import math
from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from promptyard.reading.analytics import METRIC_TITLES, pareto_frontier

log = logging.getLogger(__name__)

# Okabe-Ito: tells apart for colour-blind readers, prints well.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
FONT = "Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
TEMPLATE_NAME = "promptyard"


def _register_template() -> None:
    base = pio.templates["plotly_white"]
    template = go.layout.Template(base)
    template.layout.update(
        font={"family": FONT, "size": 13, "color": "#1f2937"},
        title={"font": {"size": 16}, "x": 0.0, "xanchor": "left", "y": 0.98, "yanchor": "top"},
        colorway=list(PALETTE),
        # The legend sits between the title and the plot, never on an axis title.
        margin={"l": 60, "r": 32, "t": 92, "b": 56},
        hoverlabel={"font": {"family": FONT}},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0.0, "xanchor": "left"},
        xaxis={"automargin": True},
        yaxis={"automargin": True},
    )
    pio.templates[TEMPLATE_NAME] = template


_register_template()


def model_colors(models: Iterable[str]) -> dict[str, str]:
    """One colour per model, the same in every chart (models sorted by name)."""
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(sorted(set(models)))}


def _figure(title: str, height: int = 420) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(template=TEMPLATE_NAME, title={"text": title}, height=height)
    return fig


def empty_figure(title: str, message: str) -> go.Figure:
    """A figure with no data and a sentence saying what to do to get some."""
    fig = _figure(title, height=260)
    fig.add_annotation(
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
        font={"size": 14, "color": "#6b7280"},
    )  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _custom(df: pd.DataFrame) -> list[list[int]]:
    return [[int(r), int(v)] for r, v in zip(df["run_id"], df["variant_id"], strict=True)]


def _metric_title(board: pd.DataFrame) -> str:
    metric = str(board["quality_metric"].iloc[0]) if len(board) else "human"
    return METRIC_TITLES.get(metric, "quality")


def _axis_title(board: pd.DataFrame) -> str:
    """The quality axis: human scores are drawn on 0..1 whatever their scheme, and say so."""
    title = _metric_title(board)
    return f"{title} (rescaled to 0–1)" if title == METRIC_TITLES["human"] else title


def _nan(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def leaderboard_chart(board: pd.DataFrame) -> go.Figure:
    """Horizontal bars of quality per variant, best on top, with 95% interval error bars."""
    rated = board[board["quality"].notna()] if len(board) else board
    title = f"Leaderboard: {_metric_title(board)}"
    if rated.empty:
        return empty_figure(title, "No ratings or scores yet: rate cells on the Rate page.")
    rated = rated.sort_values("quality")
    colors = model_colors(board["model"])
    low = (rated["quality"] - rated["quality_low"]).fillna(0)
    high = (rated["quality_high"] - rated["quality"]).fillna(0)
    n_col = {"human": "n_rated", "evaluator": "n_scores", "win_rate": "n_votes"}
    n = rated[n_col.get(str(board["quality_metric"].iloc[0]), "n_rated")]
    fig = _figure(title, height=max(260, 60 + 44 * len(rated)))
    fig.add_bar(
        x=rated["quality"],
        y=rated["label"],
        orientation="h",
        marker_color=[colors[m] for m in rated["model"]],
        error_x={"type": "data", "array": high, "arrayminus": low, "color": "#374151"},
        customdata=[[*c, k] for c, k in zip(_custom(rated), n, strict=True)],
        hovertemplate="%{y}<br>%{x:.3f} (n=%{customdata[2]})<extra></extra>",
        name="quality",
    )
    # Values go right of each bar's interval, away from the variant names on the axis.
    for q, hi, label in zip(rated["quality"], rated["quality_high"], rated["label"], strict=True):
        fig.add_annotation(
            x=max(float(q), 0.0 if _nan(hi) else float(hi)) + 0.02, y=label, text=f"{q:.2f}",
            showarrow=False, xanchor="left", font={"size": 12, "color": "#111827"},
        )  # fmt: skip
    fig.update_xaxes(range=[0, 1.2], tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1], title=_axis_title(board))
    fig.update_layout(showlegend=False)
    return fig


def quality_by_version_chart(df: pd.DataFrame) -> go.Figure:
    """Quality over versions v1..vN of one prompt: one line per model, 95% bands."""
    data = df[df["quality"].notna()] if len(df) else df
    title = "Quality across versions"
    if len(df):
        title = f"{df['prompt_name'].iloc[0]}: quality across versions"
    if data.empty:
        return empty_figure(title, "Rate or score cells of two or more versions to see a trend.")
    colors = model_colors(df["model"])
    fig = _figure(title)
    for model, part in data.groupby("model", sort=True):
        part = part.sort_values("prompt_version")
        color = colors[str(model)]
        band = part[part["quality_low"].notna() & part["quality_high"].notna()]
        if len(band):
            fig.add_scatter(
                x=list(band["prompt_version"]) + list(band["prompt_version"])[::-1],
                y=list(band["quality_high"]) + list(band["quality_low"])[::-1],
                fill="toself", fillcolor=color, opacity=0.15, line={"width": 0},
                hoverinfo="skip", showlegend=False, name=f"{model} 95% CI",
            )  # fmt: skip
        fig.add_scatter(
            x=part["prompt_version"],
            y=part["quality"],
            mode="lines+markers",
            name=str(model),
            line={"color": color, "width": 2.5},
            marker={"size": 9},
            customdata=_custom(part),
            hovertemplate=f"{model} v%{{x}}<br>%{{y:.3f}}<extra></extra>",
        )
    versions = sorted(int(v) for v in data["prompt_version"].unique())
    fig.update_xaxes(tickvals=versions, ticktext=[f"v{v}" for v in versions], title="version")
    fig.update_yaxes(range=[0, 1.05], title=_axis_title(df))  # the shade is the 95% band
    return fig


def latency_chart(samples: pd.DataFrame, board: pd.DataFrame, kind: str = "box") -> go.Figure:
    """Latency per variant as horizontal boxes (or violins), the SQL p50 and p95 marked."""
    title = "Latency per variant (ms)"
    if samples.empty:
        return empty_figure(title, "No successful calls yet: start a run on the Runs page.")
    colors = model_colors(board["model"] if len(board) else samples["model"])
    order = sorted(samples["label"].unique(), reverse=True)  # first label on top
    fig = _figure(title, height=max(300, 120 + 56 * len(order)))
    # One position (y0) per trace and the values as a typed array: a small figure to send.
    for label in order:
        part = samples[samples["label"] == label]
        color = colors[str(part["model"].iloc[0])]
        if kind == "violin":
            fig.add_violin(
                x=part["latency_ms"].to_numpy(dtype=float), y0=label, name=label,
                orientation="h", line_color=color, box_visible=True, points=False, showlegend=False,
                spanmode="hard", hoverinfo="x",
            )  # fmt: skip
        else:
            fig.add_box(
                x=part["latency_ms"].to_numpy(dtype=float), y0=label, name=label,
                orientation="h", marker_color=color, boxpoints="outliers", showlegend=False,
            )  # fmt: skip
    marks = board[board["label"].isin(order)] if len(board) else board
    for col, symbol, name in (
        ("latency_p50", "diamond", "p50"),
        ("latency_p95", "triangle-right", "p95"),
    ):
        if len(marks):
            fig.add_scatter(
                x=marks[col], y=marks["label"], mode="markers", name=name,
                marker={"symbol": symbol, "size": 12, "color": "#111827",
                        "line": {"color": "white", "width": 1}},
                customdata=_custom(marks),
                hovertemplate=f"%{{y}}<br>{name} %{{x:.0f}} ms<extra></extra>",
            )  # fmt: skip
    fig.update_yaxes(categoryorder="array", categoryarray=order)
    fig.update_xaxes(title="latency (ms)", rangemode="tozero")
    return fig


def cost_chart(board: pd.DataFrame, calls_per_month: float | None = None) -> go.Figure:
    """Cost per 1,000 calls per variant; with a volume, the monthly cost is in the hover."""
    title = "Cost per 1,000 calls (USD)"
    priced = board[board["cost_per_call"].notna()] if len(board) else board
    if priced.empty:
        return empty_figure(title, "No priced calls yet: run a prompt on a model with a price.")
    colors = model_colors(board["model"])
    priced = priced.sort_values("cost_per_1k")
    hover = "%{y}<br>$%{x:.4f} per 1,000 calls"
    custom = _custom(priced)
    if calls_per_month:
        monthly = priced["cost_per_call"] * calls_per_month
        custom = [[*c, m] for c, m in zip(custom, monthly, strict=True)]
        hover += f"<br>${{customdata[2]:,.2f}} a month at {calls_per_month:,.0f} calls"
    fig = _figure(title, height=max(260, 60 + 40 * len(priced)))
    fig.add_bar(
        x=priced["cost_per_1k"], y=priced["label"], orientation="h",
        marker_color=[colors[m] for m in priced["model"]],
        text=[f"${c:.4g}" for c in priced["cost_per_1k"]], textposition="outside",
        cliponaxis=False,
        customdata=custom, hovertemplate=hover + "<extra></extra>", name="cost",
    )  # fmt: skip
    unknown = board[board["cost_per_call"].isna()]["label"].tolist() if len(board) else []
    if unknown:
        fig.add_annotation(
            text="price unknown: " + ", ".join(unknown), showarrow=False, xref="paper",
            yref="paper", x=0, y=-0.25, font={"size": 12, "color": "#6b7280"},
        )  # fmt: skip
    fig.update_xaxes(
        title="USD per 1,000 calls", range=[0, float(priced["cost_per_1k"].max()) * 1.2]
    )
    fig.update_layout(showlegend=False)
    return fig


def quality_cost_chart(board: pd.DataFrame) -> go.Figure:
    """Quality against cost per call; the Pareto frontier (nothing beats it on both) drawn."""
    title = f"{_metric_title(board).capitalize()} against cost per call"
    known = (
        board[board["quality"].notna() & board["cost_per_call"].notna()] if len(board) else board
    )
    if known.empty:
        return empty_figure(title, "Needs variants that are both rated and priced.")
    df = pareto_frontier(known)
    colors = model_colors(board["model"])
    fig = _figure(title, height=460)
    for model, part in df.groupby("model", sort=True):
        fig.add_scatter(
            x=part["cost_per_call"], y=part["quality"], mode="markers", name=str(model),
            marker={
                "color": colors[str(model)], "size": [16 if f else 11 for f in part["on_frontier"]],
                "symbol": ["star" if f else "circle" for f in part["on_frontier"]],
                "line": {"color": "white", "width": 1},
            },
            text=part["label"], customdata=_custom(part),
            hovertemplate="%{text}<br>$%{x:.5f} per call<br>quality %{y:.3f}<extra></extra>",
        )  # fmt: skip
    front = df[df["on_frontier"]].sort_values(["cost_per_call", "quality"])
    fig.add_scatter(
        x=front["cost_per_call"], y=front["quality"], mode="lines+text", name="Pareto frontier",
        line={"color": "#111827", "width": 1.5, "dash": "dot", "shape": "hv"},
        text=front["label"], textfont={"size": 11}, cliponaxis=False,
        # a label reads away from the nearer side, so none runs off the plot
        textposition=_label_sides(front["cost_per_call"], df["cost_per_call"]),
        hoverinfo="skip",
    )  # fmt: skip
    costs = df["cost_per_call"]
    log = bool(costs.min() > 0 and costs.max() / costs.min() > 20)
    fig.update_xaxes(
        title="USD per call", type="log" if log else "linear", range=_padded(costs, log)
    )
    fig.update_yaxes(title=_axis_title(board), range=[0, 1.05])
    return fig


def _label_sides(xs: pd.Series, every: pd.Series) -> list[str]:
    lo, hi = float(every.min()), float(every.max())
    mid = (lo + hi) / 2
    return ["top right" if float(x) <= mid else "top left" for x in xs]


def _padded(costs: pd.Series, log: bool) -> list[float] | None:
    """The x range with room at both ends for markers and their labels."""
    lo, hi = float(costs.min()), float(costs.max())
    if log:
        return [math.log10(lo) - 0.15, math.log10(hi) + 0.15]
    span = (hi - lo) or max(hi, 1e-9)
    return [max(0.0, lo - 0.12 * span), hi + 0.12 * span]


def tokens_chart(board: pd.DataFrame) -> go.Figure:
    """Mean input and output tokens per call, per variant (grouped horizontal bars)."""
    title = "Tokens per call"
    data = board[board["mean_prompt_tokens"].notna()] if len(board) else board
    if data.empty:
        return empty_figure(title, "No successful calls yet: start a run on the Runs page.")
    data = data.sort_values("label", ascending=False)  # first label on top
    fig = _figure(title, height=max(300, 120 + 50 * len(data)))
    for col, name, color in (
        ("mean_completion_tokens", "output", PALETTE[0]),
        ("mean_prompt_tokens", "input", PALETTE[4]),
    ):
        fig.add_bar(
            x=data[col], y=data["label"], name=name, marker_color=color, orientation="h",
            customdata=_custom(data),
            hovertemplate=f"%{{y}}<br>{name} %{{x:.0f}} tokens<extra></extra>",
        )  # fmt: skip
    fig.update_layout(barmode="group", legend={"traceorder": "reversed"})
    fig.update_xaxes(title="mean tokens per call")
    return fig


def figure_html(fig: go.Figure) -> str:
    """A standalone HTML page of `fig`, plotly.js inline: it opens offline."""
    return str(fig.to_html(full_html=True, include_plotlyjs=True))


def png_available() -> bool:
    """Whether figures can be saved as PNG (needs the optional kaleido package)."""
    return importlib.util.find_spec("kaleido") is not None


def figure_png(fig: go.Figure, scale: float = 2.0) -> bytes | None:
    """`fig` as PNG bytes, or None when kaleido is not installed."""
    if not png_available():
        return None
    try:
        return bytes(fig.to_image(format="png", scale=scale))
    except Exception:  # kaleido present but its browser is missing: no PNG, not a crash
        log.warning("could not render a PNG with kaleido", exc_info=True)
        return None
