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
    """A value as a list of strings: a list as is, a string split at commas."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    # promptfoo accepts a comma-separated string for the -any / -all forms
    return [part.strip() for part in str(value).split(",") if part.strip()]
