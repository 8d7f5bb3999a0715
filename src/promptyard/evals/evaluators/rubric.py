"""`llm-rubric`: a judge model grades the output against a rubric.

Only its configuration check lives here; the judge runs asynchronously (it calls a model)
and is in `promptyard.evals.judges`.
"""

from __future__ import annotations

from promptyard.evals.evaluators.base import (
    EVALUATORS,
    Assertion,
    AssertionConfigError,
    Evaluator,
)

RUBRIC_TYPE = "llm-rubric"
DEFAULT_SCALE = (1, 5)  # what the shipped judge prompts ask for


def check_rubric(a: Assertion) -> None:
    """Raise AssertionConfigError (naming `a.where`) for a rubric without text or prompt,
    or a `scale:` that is not `[low, high]`."""
    if not a.value and not a.options.get("prompt"):
        raise AssertionConfigError(
            f"{a.where}: llm-rubric needs a rubric as `value:` or a `prompt:`"
        )
    scale = a.options.get("scale", list(DEFAULT_SCALE))
    if (
        not isinstance(scale, list)
        or len(scale) != 2
        or not all(isinstance(x, int | float) for x in scale)
        or scale[0] >= scale[1]
    ):
        raise AssertionConfigError(
            f"{a.where}: llm-rubric `scale:` must be [low, high], e.g. [0, 1] (default [1, 5])"
        )


EVALUATORS[RUBRIC_TYPE] = Evaluator(
    RUBRIC_TYPE,
    None,
    "a judge model grades the output against a rubric, using a versioned .prompty (default judge_rubric)",
    negatable=False,
    needs_value=False,
    check=check_rubric,
)
