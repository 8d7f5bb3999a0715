"""Reading results: the comparison grid, cell traces, exports, the dashboard's analytics,
its charts and shareable reports.

Pages and the CLI use the names here (`from promptyard import reading;
reading.grid_page(...)`) or the subpackage modules named in `__all__`
(`reading.analytics.leaderboard(...)`, `reading.charts.latency_chart(...)`).

The names are imported from their modules on first use (PEP 562): a run that ends
refreshes its summaries (`variant_stats`) without loading pandas, plotly or the grid.
"""

from typing import TYPE_CHECKING

from promptyard.lazy_names import lazy_face

_HOMES = {
    **dict.fromkeys(
        [
            "DashboardData",
            "FilterOptions",
            "Filters",
            "dashboard_data",
            "filter_options",
            "leaderboard",
        ],
        "promptyard.reading.analytics",
    ),
    **dict.fromkeys(["ColumnSummary", "column_summaries"], "promptyard.reading.columns"),
    **dict.fromkeys(
        [
            "Column",
            "GridCell",
            "GridFilters",
            "GridPage",
            "GridRow",
            "PAGE_SIZES",
            "RATED_FILTERS",
            "RatingSummary",
            "Segment",
            "columns_for",
            "grid_page",
            "repeat_agreement",
            "word_diff",
        ],
        "promptyard.reading.compare",
    ),
    **dict.fromkeys(["export_grid", "iter_grid_records"], "promptyard.reading.export"),
    **dict.fromkeys(
        [
            "VerdictCount",
            "verdict_counts",
            "PairPage",
            "PerturbedPair",
            "is_robustness_run",
            "perturbation_pairs",
        ],
        "promptyard.reading.perturbed",
    ),
    **dict.fromkeys(["build_report"], "promptyard.reading.report"),
    **dict.fromkeys(
        ["EVERY_SUITE", "ScoreGroup", "score_groups"], "promptyard.reading.score_stats"
    ),
    **dict.fromkeys(["CellTrace", "cell_trace", "tool_call_lines"], "promptyard.reading.trace"),
    **dict.fromkeys(["refresh_variant_stats"], "promptyard.reading.variant_stats"),
}
_SUBMODULES = ("analytics", "charts", "compare", "export", "report", "trace")


if TYPE_CHECKING:  # what type checkers and editors see: the same names as above
    from promptyard.reading import analytics, charts, compare, export, report, trace
    from promptyard.reading.analytics import (
        DashboardData,
        FilterOptions,
        Filters,
        dashboard_data,
        filter_options,
        leaderboard,
    )
    from promptyard.reading.columns import ColumnSummary, column_summaries
    from promptyard.reading.compare import (
        PAGE_SIZES,
        RATED_FILTERS,
        Column,
        GridCell,
        GridFilters,
        GridPage,
        GridRow,
        RatingSummary,
        Segment,
        columns_for,
        grid_page,
        repeat_agreement,
        word_diff,
    )
    from promptyard.reading.export import export_grid, iter_grid_records
    from promptyard.reading.perturbed import (
        PairPage,
        PerturbedPair,
        VerdictCount,
        is_robustness_run,
        perturbation_pairs,
        verdict_counts,
    )
    from promptyard.reading.report import build_report
    from promptyard.reading.score_stats import EVERY_SUITE, ScoreGroup, score_groups
    from promptyard.reading.trace import CellTrace, cell_trace, tool_call_lines
    from promptyard.reading.variant_stats import refresh_variant_stats

__all__ = [
    "PairPage",
    "PerturbedPair",
    "VerdictCount",
    "is_robustness_run",
    "perturbation_pairs",
    "verdict_counts",
    "PAGE_SIZES",
    "RATED_FILTERS",
    "CellTrace",
    "Column",
    "ColumnSummary",
    "DashboardData",
    "FilterOptions",
    "Filters",
    "GridCell",
    "GridFilters",
    "GridPage",
    "GridRow",
    "RatingSummary",
    "Segment",
    "analytics",
    "build_report",
    "cell_trace",
    "charts",
    "column_summaries",
    "EVERY_SUITE",
    "ScoreGroup",
    "score_groups",
    "columns_for",
    "compare",
    "dashboard_data",
    "export",
    "export_grid",
    "filter_options",
    "grid_page",
    "iter_grid_records",
    "leaderboard",
    "refresh_variant_stats",
    "repeat_agreement",
    "report",
    "tool_call_lines",
    "trace",
    "word_diff",
]

__getattr__, __dir__ = lazy_face(__name__, _HOMES, __all__, _SUBMODULES)
