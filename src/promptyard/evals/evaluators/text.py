"""Text checks: equals, contains (and its i-, -any, -all forms), starts-with, regex.

Same names and meanings as promptfoo's; each has a `not-` form.
"""

from __future__ import annotations

import json
import re

from promptyard.evals.evaluators.base import (
    Assertion,
    AssertionConfigError,
    EvalContext,
    Grade,
    as_list,
    register,
    shorten,
    verdict,
)


@register(
    "equals",
    "the output equals the value (or the row's reference), whitespace-trimmed",
    needs_value=False,
    uses_reference=True,
)
def equals(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the output equals the value; a mapping or list value compares as JSON."""
    expected = a.value
    if isinstance(expected, dict | list):
        try:
            same = json.loads(output) == expected
        except ValueError:
            same = False
        return verdict(same, "output JSON equals the value" if same else "output JSON differs")
    same = output.strip() == str(expected).strip()
    return verdict(same, "output equals the value" if same else f"expected {shorten(expected)!r}")


@register("contains", "the output contains the value")
def contains(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the value occurs in the output."""
    hit = str(a.value) in output
    return verdict(hit, f"{'found' if hit else 'missing'} {shorten(a.value)!r}")


@register("icontains", "the output contains the value, ignoring case")
def icontains(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the value occurs in the output, ignoring case."""
    hit = str(a.value).casefold() in output.casefold()
    return verdict(hit, f"{'found' if hit else 'missing'} {shorten(a.value)!r} (any case)")


def _contains_some(output: str, a: Assertion, *, need_all: bool, fold: bool) -> Grade:
    wanted = as_list(a.value)
    hay = output.casefold() if fold else output
    found = [w for w in wanted if (w.casefold() if fold else w) in hay]
    missing = [w for w in wanted if w not in found]
    passed = not missing if need_all else bool(found)
    if need_all:
        reason = "found all" if passed else f"missing {', '.join(map(repr, missing))}"
    else:
        reason = f"found {found[0]!r}" if found else f"none of {', '.join(map(repr, wanted))}"
    return verdict(passed, reason)


@register("contains-any", "the output contains at least one of the values")
def contains_any(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when at least one of the values occurs in the output."""
    return _contains_some(output, a, need_all=False, fold=False)


@register("contains-all", "the output contains every one of the values")
def contains_all(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when every one of the values occurs in the output."""
    return _contains_some(output, a, need_all=True, fold=False)


@register("icontains-any", "the output contains at least one of the values, ignoring case")
def icontains_any(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when at least one of the values occurs in the output, ignoring case."""
    return _contains_some(output, a, need_all=False, fold=True)


@register("icontains-all", "the output contains every one of the values, ignoring case")
def icontains_all(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when every one of the values occurs in the output, ignoring case."""
    return _contains_some(output, a, need_all=True, fold=True)


@register("starts-with", "the output starts with the value (leading whitespace ignored)")
def starts_with(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the output, leading whitespace stripped, starts with the value."""
    hit = output.lstrip().startswith(str(a.value))
    return verdict(hit, f"{'starts' if hit else 'does not start'} with {shorten(a.value)!r}")


def _check_regex(a: Assertion) -> None:
    try:
        re.compile(str(a.value))
    except re.error as exc:
        raise AssertionConfigError(f"{a.where}: invalid regex {str(a.value)!r}: {exc}") from None


@register("regex", "the output matches the regular expression (Python syntax)", check=_check_regex)
def regex(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the regular expression matches somewhere in the output."""
    match = re.search(str(a.value), output)
    if match:
        return verdict(True, f"matched {shorten(match.group(0), 60)!r}")
    return verdict(False, f"no match for /{shorten(a.value, 60)}/")
