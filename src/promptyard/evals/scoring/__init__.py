"""Scoring runs with a suite: grade every finished cell, store Score rows, summarize.

`runner` grades and stores (`score_run`, `score_run_async`, and the suites that fit a run),
`results` is what that gives back (per cell, per variant, per run), and `stored` reads
what earlier scoring stored, for pages.
"""

from promptyard.evals.scoring.results import (
    CellResult,
    RunScores,
    VariantResult,
    combine,
    summarize,
)
from promptyard.evals.scoring.runner import (
    free_suites_for_run,
    grade_and_store,
    load_cells,
    score_after_run,
    score_run,
    score_run_async,
    suites_for_run,
)
from promptyard.evals.scoring.stored import StoredSuiteResult, stored_results

__all__ = [
    "CellResult",
    "RunScores",
    "StoredSuiteResult",
    "VariantResult",
    "combine",
    "grade_and_store",
    "load_cells",
    "score_after_run",
    "free_suites_for_run",
    "score_run",
    "score_run_async",
    "stored_results",
    "suites_for_run",
    "summarize",
]
