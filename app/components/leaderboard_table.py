"""The Dashboard's leaderboard as a table that fits the page: unknown figures as "—",
human scores on their scheme's own scale, columns without any figure left out."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from promptyard.ratings import RatingScheme

UNKNOWN = "—"
# Shown only when at least one variant has a figure for them (pairwise data, for one).
OPTIONAL = ("win_rate", "bt_score")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def quality_scale(scheme: RatingScheme | None, metric: str) -> tuple[str, float, float, str]:
    """(column title, scale low, scale high, number format) of the quality column.

    A mean human score of a numeric scheme reads on that scheme's scale (3.7 of 1 to 5),
    thumbs as the share of thumbs up; other qualities stay 0..1, and say so."""
    if metric == "human" and scheme is not None:
        if scheme.kind == "numeric" and scheme.min is not None and scheme.max is not None:
            title = f"Mean {scheme.name} ({_num(scheme.min)}–{_num(scheme.max)})"
            return title, float(scheme.min), float(scheme.max), "%.1f"
        if scheme.kind == "boolean":
            return f"{scheme.name}: share 👍", 0.0, 1.0, "percent"
        return f"Mean {scheme.name} score (0–1)", 0.0, 1.0, "%.2f"
    title = {"human": "Mean human score (0–1)", "evaluator": "Pass rate of evaluators"}
    return title.get(metric, "Pairwise win rate"), 0.0, 1.0, "%.2f"


# Display formats (a Styler's): the values stay numbers, so columns sort as numbers.
FORMATS = {
    "n_rated": "{:,.0f}",
    "win_rate": "{:.0%}",
    "bt_score": "{:.0f}",
    "pass_rate": "{:.0%}",
    "robustness": "{:.0%}",
    "error_rate": "{:.0%}",
    "n_cells": "{:,.0f}",
    "latency_p50": "{:,.0f} ms",
    "latency_p95": "{:,.0f} ms",
    "cost_per_call": "${:.5f}",
    "monthly_cost": "${:,.0f}",
}


def _shown(pattern: str) -> Any:
    return lambda v: v if isinstance(v, str) else pattern.format(v)


def leaderboard_frame(
    board: pd.DataFrame, scheme: RatingScheme | None
) -> tuple[Any, list[str], dict[str, Any]]:
    """The table to draw (a Styler: "—" for a missing figure), its column order and its
    column config."""
    metric = str(board["quality_metric"].iloc[0])
    title, low, high, fmt = quality_scale(scheme, metric)

    def scaled(x: Any) -> Any:
        return x if x is None or pd.isna(x) else low + float(x) * (high - low)

    shown = "{:.0%}" if fmt == "percent" else "{:" + fmt[1:] + "}"
    table = board.assign(
        quality=board["quality"].map(scaled),
        interval=[
            f"{shown.format(scaled(lo))} – {shown.format(scaled(hi))}"
            if pd.notna(lo) and pd.notna(hi)
            else UNKNOWN
            for lo, hi in zip(board["quality_low"], board["quality_high"], strict=True)
        ],
        frontier=board["on_frontier"].map(lambda f: "★" if f else ""),
    )
    # What decides first (quality, latency, cost), so a narrow window cuts only the rest.
    order = ["frontier", "label", "quality", "interval", "latency_p50", "latency_p95"]
    order += ["cost_per_call", "monthly_cost", "pass_rate", "robustness", "robust_worst"]
    order += ["error_rate", "n_rated", *OPTIONAL]
    # Optional and robustness columns only when a variant has a figure for them.
    order = [c for c in order if c in table and (c not in OPTIONAL or table[c].notna().any())]
    config = {
        "frontier": st.column_config.TextColumn("", help="On the quality–cost Pareto frontier"),
        "label": st.column_config.TextColumn("Variant"),
        "quality": st.column_config.ProgressColumn(
            title, min_value=low, max_value=high, format=fmt, help=f"{title}; — when unrated"
        ),
        "interval": st.column_config.TextColumn("95% CI"),
        "n_rated": st.column_config.Column("Rated", help="Cells with a current rating"),
        "win_rate": st.column_config.Column("Win rate"),
        "bt_score": st.column_config.Column(
            "Bradley-Terry",
            help="Strength from the pairwise votes, Elo-like: 1000 is average, +400 = 10:1 odds",
        ),
        "pass_rate": st.column_config.Column("Pass rate", help="Default checks and suites"),
        "error_rate": st.column_config.Column("Errors"),
        "n_cells": st.column_config.Column("Cells"),
        "latency_p50": st.column_config.Column("p50"),
        "latency_p95": st.column_config.Column("p95"),
        "cost_per_call": st.column_config.Column("$ / call"),
        "monthly_cost": st.column_config.Column("$ / month"),
        "robustness": st.column_config.Column(
            "Robustness",
            help="Variants (case, typos, word order, ...) whose output stayed equivalent "
            "to the original's, in the latest robustness run (promptyard robustness)",
        ),
        "robust_worst": st.column_config.TextColumn("Breaks most on"),
    }
    # The grid draws a missing value as "None" whatever the Styler says: a column with
    # gaps holds "—" itself (it then sorts as text; complete columns stay numbers).
    for name in FORMATS:
        if name in table and table[name].isna().any():
            table[name] = table[name].astype(object).where(table[name].notna(), UNKNOWN)
    formats = {k: _shown(v) for k, v in FORMATS.items() if k in table}
    # One format call: a second one would put pandas' defaults back on these columns.
    styled = table.style.format(formats | {"quality": _shown(shown)}, na_rep=UNKNOWN)
    return styled, order, config
