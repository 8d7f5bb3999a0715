"""`{{column}}` placeholders in an assertion's value, filled from the dataset row.

Every assertion's value is filled before it runs (`value: "{{expected.total}}"`), and the
judge fills its rubric the same way.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from promptyard.evals.evaluators.base import AssertionConfigError, EvalContext, shorten
from promptyard.evals.evaluators.json import json_path_get, parse_json_output

_VAR = re.compile(r"\{\{\s*([A-Za-z_]\w*(?:\.\w+|\[\d+\])*)\s*\}\}")


def _var_value(ref: str, ctx: EvalContext) -> Any:
    head = re.match(r"[A-Za-z_]\w*", ref)
    key = head.group(0) if head else ref
    rest = ref[len(key) :].lstrip(".")
    if key in ctx.inputs:
        base: Any = ctx.inputs[key]
    elif key in ("reference", "expected"):
        base = ctx.reference or ""
    else:
        raise AssertionConfigError(f"the row has no column {key!r}")
    if not rest:
        return base
    if isinstance(base, str):
        base = _structured(base)
    try:
        return json_path_get(base, rest)
    except KeyError:
        raise AssertionConfigError(f"the row's {key!r} has no field {rest!r}") from None


def _structured(text: str) -> Any:
    """JSON text as data; a Python literal (a reference stored with str()) as a fallback."""
    try:
        return parse_json_output(text)
    except ValueError:
        try:
            return ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise AssertionConfigError(
                f"cannot read fields of {shorten(text, 60)!r}: not JSON"
            ) from None


def fill_value(value: Any, ctx: EvalContext) -> Any:
    """`{{column}}` (or `{{column.field}}`) in a value replaced by the row's data.

    A value that is one placeholder keeps the data's type (`{{expected.total}}` -> 1250.0);
    `{{reference}}` is the row's reference. Raises AssertionConfigError for a column or
    field the row does not have.
    """
    if isinstance(value, str):
        whole = _VAR.fullmatch(value.strip())
        if whole:
            return _var_value(whole.group(1), ctx)

        def sub(m: re.Match[str]) -> str:
            got = _var_value(m.group(1), ctx)
            return got if isinstance(got, str) else json.dumps(got, ensure_ascii=False)

        return _VAR.sub(sub, value)
    if isinstance(value, list):
        return [fill_value(v, ctx) for v in value]
    return value
