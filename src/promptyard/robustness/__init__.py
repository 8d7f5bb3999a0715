"""Robustness runs: perturbed copies of dataset rows and how consistently outputs hold.

The invariance tests of CheckList (Ribeiro et al., 2020): a variant that only changes how
a user phrased a row (case, punctuation, whitespace, typos, word order, synonyms, an LLM
paraphrase) should get an answer equivalent to the original's.
"""

from promptyard.robustness.consistency import (
    ConsistencyMeasure,
    MeasureSpec,
    Pair,
    PairOutcome,
    compare_pair,
    measure_spec,
    normalise,
)
from promptyard.robustness.paraphrase import paraphrase_rows, paraphrase_rows_async
from promptyard.robustness.perturb import (
    DEFAULT_TYPO_RATE,
    KEYBOARD_NEIGHBOURS,
    LOCAL_KINDS,
    PerturbationError,
    PerturbationKind,
    Perturbations,
    PerturbedRow,
    parse_kinds,
    perturb_rows,
    perturb_text,
    rng_for,
    synonym_table,
    variant_row_id,
)
from promptyard.robustness.report import (
    ConsistencyFigure,
    RobustnessReport,
    load_pairs,
    robustness_report,
    score_robustness,
    score_robustness_async,
)
from promptyard.robustness.run import RobustnessPlan, create_robustness_run, plan_robustness
from promptyard.robustness.summary import VariantRobustness, robustness_by_variant

__all__ = [
    "ConsistencyFigure",
    "ConsistencyMeasure",
    "MeasureSpec",
    "Pair",
    "PairOutcome",
    "RobustnessPlan",
    "RobustnessReport",
    "VariantRobustness",
    "compare_pair",
    "create_robustness_run",
    "load_pairs",
    "measure_spec",
    "normalise",
    "paraphrase_rows",
    "paraphrase_rows_async",
    "plan_robustness",
    "robustness_by_variant",
    "robustness_report",
    "score_robustness",
    "score_robustness_async",
    "DEFAULT_TYPO_RATE",
    "KEYBOARD_NEIGHBOURS",
    "LOCAL_KINDS",
    "PerturbationError",
    "PerturbationKind",
    "PerturbedRow",
    "Perturbations",
    "parse_kinds",
    "perturb_rows",
    "perturb_text",
    "rng_for",
    "synonym_table",
    "variant_row_id",
]
