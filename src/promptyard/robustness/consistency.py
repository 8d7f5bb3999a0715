"""Consistency: is a variant's output equivalent to its original's, by a chosen measure.

Measures: `exact` (equal after normalisation: case, whitespace, punctuation at word
edges), `assertion` (an assertion's verdict is the same on both outputs), `similarity`
(normalised Levenshtein similarity of the two outputs at least a threshold) and `judge`
(an LLM judge, `prompts/same_meaning.prompty`, asked "same meaning?"). Each scored pair is
stored as a Score row on the variant cell (suite `robustness`); a pair where either call
failed, or the judge could not answer, is an error and left out of the figure.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from promptyard.evals import Assertion, EvalContext, check_assertion, evaluate, judge
from promptyard.reading.perturbed import ROBUSTNESS_SUITE
from promptyard.robustness.perturb import PerturbationError
from promptyard.workspace import Workspace

SUITE = ROBUSTNESS_SUITE
EVALUATOR = "consistency"
JUDGE_PROMPT = "same_meaning"
DEFAULT_SIMILARITY = 0.8
JUDGE_CONCURRENCY = 8


class ConsistencyMeasure(StrEnum):
    """How two outputs are compared."""

    EXACT = "exact"
    ASSERTION = "assertion"
    SIMILARITY = "similarity"
    JUDGE = "judge"


@dataclass(frozen=True)
class MeasureSpec:
    """A measure and its settings: a threshold, an assertion, a judge model and prompt."""

    measure: ConsistencyMeasure = ConsistencyMeasure.EXACT
    threshold: float = DEFAULT_SIMILARITY
    assertion: Assertion | None = None
    judge_model: str | None = None
    judge_prompt: str = JUDGE_PROMPT

    @property
    def name(self) -> str:
        """How the measure reads in tables and JSON: `exact`, `similarity>=0.8`, ..."""
        if self.measure is ConsistencyMeasure.SIMILARITY:
            return f"similarity>={self.threshold:g}"
        if self.measure is ConsistencyMeasure.ASSERTION and self.assertion is not None:
            value = "" if self.assertion.value is None else f":{self.assertion.value}"
            return f"assertion:{self.assertion.type}{value}"
        return self.measure.value


def measure_spec(
    measure: str = "exact",
    *,
    threshold: float | None = None,
    assertion: str | None = None,
    judge_model: str | None = None,
) -> MeasureSpec:
    """A MeasureSpec from command-line words; `assertion` is `TYPE` or `TYPE:VALUE`.

    Raises PerturbationError (a PromptyardError) naming the option that is wrong.
    """
    try:
        kind = ConsistencyMeasure(measure.strip().lower())
    except ValueError:
        known = ", ".join(m.value for m in ConsistencyMeasure)
        raise PerturbationError(
            f"--measure: unknown measure {measure!r} (known: {known})"
        ) from None
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise PerturbationError(f"--threshold must be between 0 and 1, not {threshold:g}")
    parsed: Assertion | None = None
    if kind is ConsistencyMeasure.ASSERTION:
        if not assertion:
            raise PerturbationError("--measure assertion needs --assert TYPE[:VALUE], e.g. is-json")
        type_, sep, value = assertion.partition(":")
        parsed = Assertion(
            type=type_.strip(), value=value if sep else None, where=f"--assert {assertion}"
        )
        check_assertion(parsed)
    return MeasureSpec(
        kind,
        DEFAULT_SIMILARITY if threshold is None else threshold,
        parsed,
        judge_model,
    )


_EDGE_PUNCT = re.compile(r"(?<!\w)[^\w\s]+|[^\w\s]+(?!\w)")


def normalise(text: str) -> str:
    """Text for the `exact` measure: NFKC, case-folded, punctuation at word edges dropped,
    whitespace collapsed (`Hello, World!` and `hello world` are equal)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_EDGE_PUNCT.sub(" ", folded).split())


@dataclass
class PairOutcome:
    """One pair's verdict: consistent or not (None: an error), a value 0..1, a reason."""

    consistent: bool | None
    value: float | None
    reason: str
    judge_cost_usd: float | None = None


@dataclass
class Pair:
    """An original cell and a variant cell to compare, with what each was given."""

    variant_cell_id: int
    run_id: int
    original_output: str | None
    variant_output: str | None
    original_error: str | None = None
    variant_error: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    variant_inputs: dict[str, Any] = field(default_factory=dict)
    reference: str | None = None
    model: str = ""
    prompt_name: str = ""


def _verdict_of(grade: Any) -> bool | None:
    return None if grade.error else bool(grade.passed)


async def _assertion_verdict(
    ws: Workspace, a: Assertion, output: str, inputs: dict[str, Any], pair: Pair
) -> Any:
    ctx = EvalContext(
        inputs=inputs, reference=pair.reference, model=pair.model, prompt_name=pair.prompt_name
    )
    if a.type == "llm-rubric":
        return await judge(output, ctx, a, ws)
    return evaluate(output, ctx, a)


async def _same_meaning(ws: Workspace, spec: MeasureSpec, pair: Pair) -> PairOutcome:
    from promptyard.models import ModelCall, complete, resolve_model
    from promptyard.prompts import get_prompt

    name, _, ref = spec.judge_prompt.partition("@")
    template = get_prompt(name, ref or None, workspace=ws)
    model = spec.judge_model or template.model or "sim-smart"
    messages = template.render(original=pair.original_output, variant=pair.variant_output)
    parameters = {"temperature": 0, **dict(template.parameters or {})}
    call = ModelCall(
        endpoint=resolve_model(ws, str(model)), messages=messages, parameters=parameters
    )
    for attempt in range(3):
        completion = await complete(call)
        if completion.ok or not completion.retryable:
            break
        await asyncio.sleep(min(completion.retry_after_s or 0.5 * 2**attempt, 10.0))
    if not completion.ok:
        return PairOutcome(
            None, None, f"judge call failed ({completion.error_kind})", completion.cost_usd
        )
    answer = normalise(completion.text or "")
    word = answer.split(" ", 1)[0] if answer else ""
    if word in ("yes", "same", "true"):
        return PairOutcome(True, 1.0, f"judge: {answer[:80]}", completion.cost_usd)
    if word in ("no", "different", "false"):
        return PairOutcome(False, 0.0, f"judge: {answer[:80]}", completion.cost_usd)
    return PairOutcome(
        None, None, f"judge answered neither yes nor no: {answer[:80]!r}", completion.cost_usd
    )


async def compare_pair(ws: Workspace, spec: MeasureSpec, pair: Pair) -> PairOutcome:
    """Whether the pair's outputs are equivalent under `spec`; never raises for a model."""
    if pair.original_output is None or pair.variant_output is None:
        which = "original" if pair.original_output is None else "variant"
        error = pair.original_error if pair.original_output is None else pair.variant_error
        return PairOutcome(None, None, f"the {which} call failed: {error or 'no output'}")
    a, b = pair.original_output, pair.variant_output
    if spec.measure is ConsistencyMeasure.EXACT:
        same = normalise(a) == normalise(b)
        return PairOutcome(same, 1.0 if same else 0.0, "equal" if same else "outputs differ")
    if spec.measure is ConsistencyMeasure.SIMILARITY:
        from rapidfuzz.distance import Levenshtein

        ratio = Levenshtein.normalized_similarity(normalise(a), normalise(b))
        same = ratio >= spec.threshold
        sign = ">=" if same else "<"
        return PairOutcome(same, ratio, f"similarity {ratio:.3f} ({sign} {spec.threshold:g})")
    if spec.measure is ConsistencyMeasure.ASSERTION:
        assert spec.assertion is not None
        first = await _assertion_verdict(ws, spec.assertion, a, pair.inputs, pair)
        second = await _assertion_verdict(ws, spec.assertion, b, pair.variant_inputs, pair)
        cost = sum(g.judge_cost_usd or 0.0 for g in (first, second)) or None
        va, vb = _verdict_of(first), _verdict_of(second)
        if va is None or vb is None:
            return PairOutcome(
                None, None, f"the assertion could not be evaluated: {first.reason}", cost
            )
        same = va == vb
        words = {True: "passes", False: "fails"}
        return PairOutcome(
            same, 1.0 if same else 0.0, f"original {words[va]}, variant {words[vb]}", cost
        )
    return await _same_meaning(ws, spec, pair)


async def compare_pairs(ws: Workspace, spec: MeasureSpec, pairs: list[Pair]) -> list[PairOutcome]:
    """Every pair's outcome, in order; judge calls run a few at a time."""
    gate = asyncio.Semaphore(JUDGE_CONCURRENCY)

    async def one(pair: Pair) -> PairOutcome:
        async with gate:
            return await compare_pair(ws, spec, pair)

    return list(await asyncio.gather(*(one(p) for p in pairs)))
