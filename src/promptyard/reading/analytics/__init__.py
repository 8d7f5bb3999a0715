"""The dashboard's numbers: every aggregate is computed in SQL and returned as a DataFrame.

A *variant key* is (prompt name, prompt version, model): the unit the dashboard compares.
Cells of the same key in several runs are pooled. Version 0 means an unsaved draft.

- `filters`: what to look at (`Filters`), what the widgets offer, the SQL they become.
- `summaries`: the per-variant summaries stored in `variant_stats` and
  `variant_rating_stats`, which the aggregates add up instead of reading every cell.
- `aggregates`: per key cell stats, nearest-rank latency percentiles, human scores, win
  rates, evaluator pass rates and latency samples (definitions in its docstring).
- `leaderboard`: the leaderboard, quality across versions, the Pareto frontier and
  everything the Dashboard page draws (`dashboard_data`).
- `costs`: monthly cost projections and how they are worded.

The statistics themselves (intervals, Bradley-Terry) live in `promptyard.stats`.
"""

from promptyard.reading.analytics.aggregates import (
    LATENCY_SAMPLE_CAP,
    cell_stats,
    evaluator_pass_rates,
    human_scores,
    latency_percentiles,
    latency_samples,
    win_rates,
)
from promptyard.reading.analytics.costs import (
    format_usd,
    format_volume,
    monthly_cost_sentence,
    project_monthly_cost,
)
from promptyard.reading.analytics.filters import (
    ALL_KINDS,
    DEFAULT_KINDS,
    KEY,
    FilterOptions,
    Filters,
    filter_options,
    filtered_variants,
    variant_label,
)
from promptyard.reading.analytics.leaderboard import (
    LEADERBOARD_COLUMNS,
    METRIC_TITLES,
    QUALITY_METRICS,
    DashboardData,
    choose_quality_metric,
    dashboard_data,
    leaderboard,
    pareto_frontier,
    quality_by_version,
    versions_of,
)
from promptyard.reading.analytics.summaries import (
    STORED_SAMPLE_CAP,
    TERMINAL_STATUSES,
    compute_variant_stats,
    nearest_rank,
    refresh_variant_stats,
    variant_rows,
)

__all__ = [
    "ALL_KINDS",
    "DEFAULT_KINDS",
    "KEY",
    "LATENCY_SAMPLE_CAP",
    "LEADERBOARD_COLUMNS",
    "METRIC_TITLES",
    "QUALITY_METRICS",
    "STORED_SAMPLE_CAP",
    "TERMINAL_STATUSES",
    "DashboardData",
    "FilterOptions",
    "Filters",
    "cell_stats",
    "choose_quality_metric",
    "compute_variant_stats",
    "dashboard_data",
    "evaluator_pass_rates",
    "filter_options",
    "filtered_variants",
    "format_usd",
    "format_volume",
    "human_scores",
    "latency_percentiles",
    "latency_samples",
    "leaderboard",
    "monthly_cost_sentence",
    "nearest_rank",
    "pareto_frontier",
    "project_monthly_cost",
    "quality_by_version",
    "refresh_variant_stats",
    "variant_label",
    "variant_rows",
    "versions_of",
    "win_rates",
]
