"""What every evaluator shares: the assertion, the context, the grade and `register`.

An evaluator is `fn(output, context, assertion) -> Grade`. The family modules (`text`,
`json`, `length`, ...) register theirs with `@register(...)` into `EVALUATORS`; the
`registry` module finds them (and plugins') by assertion type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptyard.errors import PromptyardError


class AssertionConfigError(PromptyardError):
    """An assertion that cannot run: unknown type, bad regex, bad schema, missing value."""


@dataclass(frozen=True)
class Grade:
    """What an evaluator says about one output.

    `value` is 0..1 for checks and similarity scores (None when the evaluator could not
    decide); `error` is True when the evaluator itself failed (a judge answering
    unparseable text, a custom evaluator raising), which counts as not passed.
    """

    value: float | None
    passed: bool
    reason: str
    judge_cost_usd: float | None = None
    error: bool = False


@dataclass(frozen=True)
class EvalContext:
    """The row and the call that produced an output."""

    inputs: dict[str, Any] = field(default_factory=dict)
    reference: str | None = None
    latency_ms: float | None = None
    cost_usd: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    model: str | None = None
    prompt_name: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # the call's error, when it failed
    tool_calls: list[dict[str, Any]] | None = None  # the tools the model called (OpenAI format)
    tools: list[dict[str, Any]] = field(default_factory=list)  # the tools it was offered


@dataclass(frozen=True)
class Assertion:
    """One entry of a suite's `assert:` list."""

    type: str
    value: Any = None
    threshold: float | None = None
    weight: float = 1.0
    name: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    where: str = ""  # "evals/NAME.yaml line N", for messages

    @property
    def negated(self) -> bool:
        """True for a `not-` assertion."""
        return self.type.startswith("not-")

    @property
    def base_type(self) -> str:
        """The type without its `not-` prefix."""
        return self.type[4:] if self.negated else self.type

    @property
    def display_name(self) -> str:
        """The assertion's name, or its type when it has none."""
        return self.name or self.type

    @property
    def evaluator_id(self) -> str:
        """What the Score table's `evaluator` column holds."""
        if self.base_type == "python":
            return f"custom:{Path(str(self.value)).stem}"
        return self.type


EvaluatorFn = Callable[[str, EvalContext, Assertion], Grade]


@dataclass(frozen=True)
class Evaluator:
    """An assertion type: its function, its description and how its config is checked."""

    name: str
    fn: EvaluatorFn | None  # None for llm-rubric, which runs asynchronously
    description: str
    negatable: bool = True
    needs_value: bool = True  # a `value:` is required (else the row's reference is used)
    uses_reference: bool = False  # no value: compare with the row's reference
    check: Callable[[Assertion], None] | None = None  # validates the config up front


# The built-in evaluators, by assertion type; plugins are kept apart (see `registry`).
EVALUATORS: dict[str, Evaluator] = {}


def register(
    name: str,
    description: str,
    *,
    negatable: bool = True,
    needs_value: bool = True,
    uses_reference: bool = False,
    check: Callable[[Assertion], None] | None = None,
) -> Callable[[EvaluatorFn], EvaluatorFn]:
    """A decorator registering `fn` as the built-in evaluator for assertion type `name`."""

    def deco(fn: EvaluatorFn) -> EvaluatorFn:
        EVALUATORS[name] = Evaluator(
            name, fn, description, negatable, needs_value, uses_reference, check
        )
        return fn

    return deco


def verdict(passed: bool, reason: str) -> Grade:
    """A pass/fail grade: value 1.0 when passed, else 0.0."""
    return Grade(1.0 if passed else 0.0, passed, reason)


def shorten(text: object, limit: int = 80) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis, for reasons."""
    one = " ".join(str(text).split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def as_list(value: Any) -> list[str]:
    """A value as a list of strings, as promptfoo reads the -any / -all forms.

    A list is taken as is; a string is split at commas with CSV quoting: `"a, b", c`
    is two values, `""` inside quotes (or `\\"`) is a quote, empty fields between commas
    are dropped and unquoted fields are trimmed. Raises ValueError for an unterminated
    quote or text after a closing quote.
    """
    if isinstance(value, list | tuple):
        return [js_string(v) for v in value]
    return parse_comma_separated(js_string(value))


def parse_comma_separated(text: str) -> list[str]:
    """`text` split at commas with promptfoo's CSV-like quoting (see `as_list`)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and (text[i].isspace() or text[i] == ","):
            i += 1
        if i >= n:
            break
        if text[i] != '"':
            j = text.find(",", i)
            j = n if j < 0 else j
            out.append(text[i:j].strip())
            i = j
            continue
        field, i, closed = "", i + 1, False
        while i < n:
            if text[i] == "\\" and i + 1 < n and text[i + 1] in '"\\':
                field, i = field + text[i + 1], i + 2
            elif text[i] == '"' and i + 1 < n and text[i + 1] == '"':
                field, i = field + '"', i + 2
            elif text[i] == '"':
                i, closed = i + 1, True
                break
            else:
                field, i = field + text[i], i + 1
        if not closed:
            raise ValueError(f"unterminated quoted field in {shorten(text, 60)!r}")
        out.append(field)
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] != ",":
            raise ValueError(f"expected a comma after a quoted field in {shorten(text, 60)!r}")
    return out


def js_string(value: Any) -> str:
    """`value` as JavaScript's `String(value)` writes it (`1.0` -> "1", `True` -> "true"),
    so a YAML number or boolean compares as it does in promptfoo."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if value is None:
        return "null"
    return str(value)
