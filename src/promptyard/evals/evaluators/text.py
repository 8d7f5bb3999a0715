"""Text checks: equals, contains (and its i-, -any, -all forms), starts-with, regex.

Same names and meanings as promptfoo's (`src/assertions/contains.ts`, `equals.ts`,
`startsWith.ts`, `regex.ts`): comparisons are exact (no trimming), `-any`/`-all` values
split at commas with CSV quoting, and `regex` takes JavaScript syntax (named groups
`(?<name>...)` included). Each has a `not-` form.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata

from promptyard.evals.evaluators.base import (
    Assertion,
    AssertionConfigError,
    EvalContext,
    Grade,
    as_list,
    js_string,
    register,
    shorten,
    verdict,
)

_FORMS = ("NFC", "NFD", "NFKC", "NFKD")


def _form(a: Assertion) -> str | None:
    # promptfoo's `normalizeUnicode`: true means NFC (canonical, meaning-preserving)
    option = a.options.get("normalizeUnicode")
    if option is None or option is False:
        return None
    return "NFC" if option is True else str(option)


def _check_equals(a: Assertion) -> None:
    option = a.options.get("normalizeUnicode")
    if option is not None and not isinstance(option, bool) and option not in _FORMS:
        raise AssertionConfigError(
            f"{a.where}: normalizeUnicode must be true, false or one of {', '.join(_FORMS)}"
        )


@register(
    "equals",
    "the output equals the value (or the row's reference) exactly",
    needs_value=False,
    uses_reference=True,
    check=_check_equals,
)
def equals(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the output is exactly the value (after `normalizeUnicode`, if set); a
    mapping or list value compares as JSON."""
    expected = a.value
    if isinstance(expected, dict | list):
        try:
            same = json.loads(output) == expected
        except ValueError:
            same = False
        return verdict(same, "output JSON equals the value" if same else "output JSON differs")
    form = _form(a)
    if form is not None:

        def norm(text: str) -> str:
            return unicodedata.normalize(form, text)  # type: ignore[arg-type]

        same = norm(output) == norm(js_string(expected))
        return verdict(
            same, "output equals the value" if same else f"expected {shorten(expected)!r}"
        )
    same = output == js_string(expected)
    return verdict(same, "output equals the value" if same else f"expected {shorten(expected)!r}")


def _one_value(a: Assertion) -> str:
    value = a.value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{a.base_type} needs a text or number value, not {type(value).__name__}")
    if isinstance(value, float) and math.isnan(value):
        raise ValueError(f"{a.base_type} needs a text or number value, not NaN")
    if value == "":
        raise ValueError(f"{a.base_type} needs a non-empty value")
    return js_string(value)


def _check_one_value(a: Assertion) -> None:
    try:
        _one_value(a)
    except ValueError as exc:
        raise AssertionConfigError(f"{a.where}: {exc}") from None


@register("contains", "the output contains the value", check=_check_one_value)
def contains(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the value occurs in the output."""
    wanted = _one_value(a)
    hit = wanted in output
    return verdict(hit, f"{'found' if hit else 'missing'} {shorten(wanted)!r}")


@register("icontains", "the output contains the value, ignoring case", check=_check_one_value)
def icontains(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the value occurs in the output, ignoring case."""
    wanted = _one_value(a)
    hit = wanted.lower() in output.lower()
    return verdict(hit, f"{'found' if hit else 'missing'} {shorten(wanted)!r} (any case)")


def _check_list(a: Assertion) -> None:
    if a.value == "" or a.value == []:
        raise AssertionConfigError(f"{a.where}: {a.base_type} needs a value")
    if isinstance(a.value, str) and "{{" in a.value:
        return  # filled from the row later; checked when it runs
    if not isinstance(a.value, str | list | tuple):
        raise AssertionConfigError(f"{a.where}: {a.base_type} needs a list or a text value")
    try:
        as_list(a.value)
    except ValueError as exc:
        raise AssertionConfigError(f"{a.where}: {exc}") from None


def _contains_some(output: str, a: Assertion, *, need_all: bool, fold: bool) -> Grade:
    wanted = as_list(a.value)
    hay = output.lower() if fold else output
    found = [w for w in wanted if (w.lower() if fold else w) in hay]
    missing = [w for w in wanted if w not in found]
    passed = not missing if need_all else bool(found)
    if need_all:
        reason = "found all" if passed else f"missing {', '.join(map(repr, missing))}"
    else:
        reason = f"found {found[0]!r}" if found else f"none of {', '.join(map(repr, wanted))}"
    return verdict(passed, reason)


@register("contains-any", "the output contains at least one of the values", check=_check_list)
def contains_any(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when at least one of the values occurs in the output."""
    return _contains_some(output, a, need_all=False, fold=False)


@register("contains-all", "the output contains every one of the values", check=_check_list)
def contains_all(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when every one of the values occurs in the output."""
    return _contains_some(output, a, need_all=True, fold=False)


@register(
    "icontains-any",
    "the output contains at least one of the values, ignoring case",
    check=_check_list,
)
def icontains_any(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when at least one of the values occurs in the output, ignoring case."""
    return _contains_some(output, a, need_all=False, fold=True)


@register(
    "icontains-all", "the output contains every one of the values, ignoring case", check=_check_list
)
def icontains_all(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when every one of the values occurs in the output, ignoring case."""
    return _contains_some(output, a, need_all=True, fold=True)


def _check_text(a: Assertion) -> None:
    if not isinstance(a.value, str) or not a.value:
        raise AssertionConfigError(f"{a.where}: {a.base_type} needs a non-empty text value")


@register("starts-with", "the output starts with the value (exactly)", check=_check_text)
def starts_with(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the output starts with the value; leading whitespace counts."""
    hit = output.startswith(str(a.value))
    return verdict(hit, f"{'starts' if hit else 'does not start'} with {shorten(a.value)!r}")


# JavaScript regex syntax that Python spells differently: named groups and their backrefs.
_JS_NAMED_GROUP = re.compile(r"(?<!\\)((?:\\\\)*)\(\?<(?![=!])([A-Za-z_$][\w$]*)>")
_JS_NAMED_BACKREF = re.compile(r"(?<!\\)((?:\\\\)*)\\k<([A-Za-z_$][\w$]*)>")


def js_regex(pattern: str) -> re.Pattern[str]:
    """A JavaScript regular expression compiled for Python's `re`.

    `(?<name>...)` becomes `(?P<name>...)` and `\\k<name>` becomes `(?P=name)`; the
    rest of the common syntax is the same in both. Raises re.error for a bad pattern.
    """
    py = _JS_NAMED_GROUP.sub(r"\1(?P<\2>", pattern)
    py = _JS_NAMED_BACKREF.sub(r"\1(?P=\2)", py)
    return re.compile(py)


def _check_regex(a: Assertion) -> None:
    _check_text(a)
    try:
        js_regex(str(a.value))
    except re.error as exc:
        raise AssertionConfigError(f"{a.where}: invalid regex {str(a.value)!r}: {exc}") from None


@register(
    "regex",
    "the output matches the regular expression (JavaScript syntax, as promptfoo)",
    check=_check_regex,
)
def regex(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the regular expression matches somewhere in the output."""
    try:
        pattern = js_regex(str(a.value))
    except re.error as exc:
        return verdict(False, f"invalid regex pattern: {exc}")
    match = pattern.search(output)
    if match:
        return verdict(True, f"matched {shorten(match.group(0), 60)!r}")
    return verdict(False, f"no match for /{shorten(a.value, 60)}/")
