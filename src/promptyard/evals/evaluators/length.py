"""Length checks: `length` (chars, words or tokens within min/max) and `word-count`."""

from __future__ import annotations

from typing import Any

from promptyard.evals.evaluators.base import (
    Assertion,
    AssertionConfigError,
    EvalContext,
    Grade,
    register,
    verdict,
)
from promptyard.prompts.tokens import count_tokens

UNITS = ("chars", "words", "tokens")


def measure(output: str, unit: str, model: str | None = None) -> int:
    """The output's length in `unit` (chars, words, or tokens of `model`'s tokenizer)."""
    if unit == "words":
        return len(output.split())
    if unit == "tokens":
        return count_tokens(output, model or "gpt-4o-mini")
    return len(output)


def _unit(a: Assertion) -> str:
    return str(a.options.get("unit", "words" if a.base_type == "word-count" else "chars"))


def _bounds(a: Assertion) -> tuple[Any, Any]:
    if isinstance(a.value, dict):
        return a.value.get("min"), a.value.get("max")
    if a.value is not None:  # promptfoo's word-count: a bare number is an exact count
        value = a.value
        if isinstance(value, str):  # as promptfoo, a numeric string is a number
            try:
                value = float(value) if value.strip() else value
            except ValueError:
                pass
        return value, value
    return a.options.get("min"), a.options.get("max")


def _check_length(a: Assertion) -> None:
    unit = a.options.get("unit", "words" if a.base_type == "word-count" else "chars")
    if unit not in UNITS:
        raise AssertionConfigError(
            f"{a.where}: unit must be one of {', '.join(UNITS)}, not {unit!r}"
        )
    low, high = _bounds(a)
    if low is None and high is None:
        raise AssertionConfigError(f"{a.where}: {a.base_type} needs `min:` and/or `max:`")
    for bound in (low, high):
        if bound is not None and (not isinstance(bound, int | float) or isinstance(bound, bool)):
            raise AssertionConfigError(f"{a.where}: `min:` and `max:` must be numbers")
    if low is not None and high is not None and low > high:
        raise AssertionConfigError(f"{a.where}: min ({low:g}) must be at most max ({high:g})")


def length(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the output's length in the assertion's unit is within min..max."""
    unit = _unit(a)
    low, high = _bounds(a)
    n = measure(output, unit, ctx.model)
    passed = (low is None or n >= low) and (high is None or n <= high)
    span = f"{low if low is not None else 0}..{high if high is not None else '∞'}"
    return verdict(passed, f"{n} {unit} ({'within' if passed else 'outside'} {span})")


register(
    "length",
    "the output's length in `unit:` chars, words or tokens is within min/max",
    needs_value=False,
    check=_check_length,
)(length)
register(
    "word-count",
    "the output's word count is within min/max (or equals the value)",
    needs_value=False,
    check=_check_length,
)(length)
