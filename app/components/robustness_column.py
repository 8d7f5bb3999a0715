"""The dashboard's robustness column: each variant's consistency in its latest robustness run."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from promptyard.robustness import VariantRobustness, robustness_by_variant


@st.cache_data(ttl=15, show_spinner=False)
def _figures(url: str) -> list[VariantRobustness]:
    return robustness_by_variant(url)


def robustness_column(url: str, table: pd.DataFrame) -> pd.DataFrame:
    """`table` (the leaderboard's rows) with `robustness` and `robust_worst` columns, which
    the leaderboard shows after the pass rate; unchanged when no robustness run was scored."""
    figures = _figures(url)
    if not figures or table.empty:
        return table
    by_key = {(f.prompt_name, f.prompt_version, f.model): f for f in figures}
    keys = zip(
        table["prompt_name"], table["prompt_version"].astype(int), table["model"], strict=True
    )
    found = [by_key.get(k) for k in keys]
    table = table.assign(
        # Unknown is blank, as in the other columns (NaN, never 0).
        robustness=[
            float("nan") if f is None or f.consistency is None else f.consistency for f in found
        ],
        robust_worst=[
            ""
            if f is None or f.worst_kind is None
            else f"{f.worst_kind} {f.by_kind[f.worst_kind]:.0%}"
            for f in found
        ],
    )
    return table
