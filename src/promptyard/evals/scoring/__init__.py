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
    score_after_run,
    score_finished_run,
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
    "score_after_run",
    "score_finished_run",
    "score_run",
    "score_run_async",
    "stored_results",
    "suites_for_run",
    "summarize",
]
