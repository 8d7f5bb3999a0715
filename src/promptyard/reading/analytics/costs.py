"""What a leaderboard row costs at a monthly volume, and how the dashboard words it."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def project_monthly_cost(df: pd.DataFrame, calls_per_month: float) -> pd.DataFrame:
    """`df` (a leaderboard) with `monthly_cost`: cost per call times the monthly volume."""
    out = df.copy()
    out["monthly_cost"] = out["cost_per_call"].astype(float) * float(calls_per_month)
    return out


def format_volume(calls: float) -> str:
    """1_000_000 -> "1M", 250_000 -> "250k", 1_500 -> "1.5k"."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if calls >= size:
            return f"{calls / size:.3g}{unit}"
    return f"{calls:.0f}"


def format_usd(amount: float | None) -> str:
    """$1,234 / $12.34 / $0.01234 by size; "unknown" when the price is."""
    if amount is None or math.isnan(amount):
        return "unknown"
    if amount >= 100:
        return f"${amount:,.0f}"
    if amount >= 1:
        return f"${amount:,.2f}"
    return f"${amount:.4g}"


def monthly_cost_sentence(row: pd.Series | dict[str, Any], calls_per_month: float) -> str:
    """ "At 1M calls a month, summarize v2 · sim-fast costs $41.20." (or says it's unknown)."""
    cost = row["cost_per_call"]
    volume = format_volume(calls_per_month)
    if cost is None or (isinstance(cost, float) and math.isnan(cost)):
        return (
            f"The price of {row['label']} is unknown, so its cost at {volume} calls a month is too."
        )
    return (
        f"At {volume} calls a month, {row['label']} costs "
        f"{format_usd(float(cost) * calls_per_month)}."
    )
