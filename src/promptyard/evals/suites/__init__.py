"""Eval suites: `evals/NAME.yaml` files that say what to run and how to score it.

A suite names prompts, models, a dataset (and a slice of it), and a list of assertions
with weights and thresholds (promptfoo's `assert:` shape). A cell (one row, one repeat,
one prompt version on one model) passes when its weighted score reaches `row_threshold`
(or, without one, when every weighted assertion passes); a suite passes when every
variant's pass rate reaches `threshold`.

Every error names the suite file and the line (`evals/x.yaml line 12: ...`). `model` holds
the `Suite` record, `parsing` reads the YAML, `loading` finds suites in a workspace.
Scoring a run with a suite is `promptyard.evals.scoring`.
"""

from promptyard.evals.suites.loading import list_suites, load_suite, suite_path
from promptyard.evals.suites.model import (
    ASSERTION_KEYS,
    ASSERTION_OPTIONS,
    ROW_SCORE,
    SUITE_KEYS,
    OnlineConfig,
    Suite,
    SuiteError,
    name_assertions,
)
from promptyard.evals.suites.online_config import ONLINE_KEYS
from promptyard.evals.suites.parsing import parse_suite

__all__ = [
    "ASSERTION_KEYS",
    "ASSERTION_OPTIONS",
    "ONLINE_KEYS",
    "ROW_SCORE",
    "SUITE_KEYS",
    "OnlineConfig",
    "Suite",
    "SuiteError",
    "list_suites",
    "load_suite",
    "name_assertions",
    "parse_suite",
    "suite_path",
]
