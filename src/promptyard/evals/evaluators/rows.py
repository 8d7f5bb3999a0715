"""`row-assertions` (Promptyard's own): assertions that differ from row to row.

promptfoo gives every test case its own `assert:` list; a Promptyard suite has one list
for every row. An imported promptfoo project keeps each test's list in a dataset column
(`promptfoo_assert`, a mapping `{"assert": [...], "threshold": T}`), and one
`row-assertions` assertion with `value: "{{promptfoo_assert}}"` grades it the way
promptfoo grades a test: the weighted mean of the scores (weight 0 ignored), passing when
every assertion passes, or, with a test `threshold`, when the mean reaches it.

It grades through `registry`, so the package's `__init__` imports this module after it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from promptyard.evals.evaluators.base import (
    Assertion,
    AssertionConfigError,
    EvalContext,
    Grade,
    register,
    shorten,
)
from promptyard.evals.evaluators.registry import check_assertion, evaluate

ROW_ASSERT_COLUMN = "promptfoo_assert"
_INNER_KEYS = {"type", "value", "threshold", "weight", "metric", "name"}


def _inner(raw: Any, a: Assertion, i: int) -> Assertion:
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise AssertionConfigError(f"assertion #{i + 1} of the row is not a mapping with a type")
    options = {k: v for k, v in raw.items() if k not in _INNER_KEYS}
    if "_root" in a.options:
        options["_root"] = a.options["_root"]
    weight = raw.get("weight", 1.0)
    return Assertion(
        type=raw["type"],
        value=raw.get("value"),
        threshold=raw.get("threshold"),
        weight=float(weight),
        name=str(raw.get("metric") or raw.get("name") or raw["type"]),
        options=options,
        where=f"{a.where or a.type} (row assertion #{i + 1}, {raw['type']})",
    )


def row_assertions(value: Any, a: Assertion) -> tuple[list[Assertion], float | None]:
    """The assertions and the test threshold a row's value holds; raises
    AssertionConfigError for a malformed one (naming its position)."""
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value) if value.strip() else {"assert": []}
        except ValueError:
            raise AssertionConfigError("the row's assertions are not JSON") from None
    if isinstance(value, list):
        value = {"assert": value}
    if not isinstance(value, dict) or not isinstance(value.get("assert", []), list):
        raise AssertionConfigError("the row's assertions must be a mapping with an `assert:` list")
    threshold = value.get("threshold")
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, int | float)
    ):
        raise AssertionConfigError(f"the row's threshold must be a number, not {threshold!r}")
    found = [_inner(raw, a, i) for i, raw in enumerate(value.get("assert") or [])]
    return found, None if threshold is None else float(threshold)


@register(
    "row-assertions",
    "Promptyard's own: the assertions held in a row column (an imported promptfoo test's "
    "`assert:` list) pass as promptfoo grades a test",
    negatable=False,
)
def row_assertions_eval(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Grades the row's own assertions; the reason names each one that failed."""
    inner, threshold = row_assertions(a.value, a)
    if not inner:
        return Grade(1.0, True, "this row has no assertions")
    total = weighted = 0.0
    failed: list[str] = []
    errors = False
    for one in inner:
        check_assertion(one)
        grade = evaluate(output, ctx, replace(one, where=one.where))
        errors = errors or grade.error
        if not grade.passed:
            failed.append(f"{one.name}: {shorten(grade.reason, 80)}")
        if one.weight > 0:
            total += one.weight
            weighted += one.weight * (grade.value or 0.0)
    score = weighted / total if total else (0.0 if failed else 1.0)
    # promptfoo: every assertion must pass, unless the test sets a threshold on the score
    passed = (score >= threshold and not errors) if threshold is not None else not failed
    head = f"{len(inner) - len(failed)}/{len(inner)} passed, score {score:.2f}"
    if threshold is not None:
        head += f" ({'>=' if score >= threshold else '<'} {threshold:g})"
    reason = head + ("; " + "; ".join(failed) if failed else "")
    return Grade(score, passed, reason, error=errors and not passed)
