"""LLM judges: the `llm-rubric` assertion.

The rubric is a versioned `.prompty` (default `prompts/judge_rubric.prompty`), rendered with
the assertion's rubric text, the row's inputs, the output and the reference, and sent
through `providers` like any run. The judge answers JSON with `score` and `reason`; its
cost is kept on the grade. An answer with no readable score is an error grade that names
the suite file and line; nothing else changes.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from promptyard.errors import PromptyardError
from promptyard.evals.evaluators import (
    Assertion,
    EvalContext,
    Grade,
    fill_value,
    find_json,
    parse_json_output,
    shorten,
)

logger = logging.getLogger(__name__)

JUDGE_DEFAULT_PROMPT = "judge_rubric"
JUDGE_ATTEMPTS = 3
JUDGE_SCALE = (1.0, 5.0)  # what the shipped judge prompts ask for; mapped to 0..1


@dataclass(frozen=True)
class JudgeVerdict:
    score: float  # normalized to 0..1
    reason: str


def parse_judge_answer(text: str | None, scale: tuple[float, float] = JUDGE_SCALE) -> JudgeVerdict:
    """Read a judge's answer: JSON with `score` (and `reason`), or `Score: N` in text.

    Scores on the `scale` are mapped to 0..1; `pass: true/false` alone maps to 1/0.
    Raises ValueError with a short quote of the answer when no score can be read.
    """
    answer = (text or "").strip()
    low, high = scale
    data: Any = None
    try:
        data = parse_json_output(answer)
    except ValueError:
        try:
            data = find_json(answer)
        except ValueError:
            data = None
    if isinstance(data, dict):
        reason = str(data.get("reason") or data.get("reasoning") or data.get("explanation") or "")
        raw = data.get("score")
        if isinstance(raw, str):
            try:
                raw = float(raw)
            except ValueError:
                raw = None
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return JudgeVerdict(_normalize(float(raw), low, high, answer), reason)
        if isinstance(data.get("pass"), bool):
            return JudgeVerdict(1.0 if data["pass"] else 0.0, reason)
    match = re.search(
        r"\bscore\s*[:=]\s*(-?\d+(?:\.\d+)?)(?:\s*/\s*(\d+(?:\.\d+)?))?", answer, re.I
    )
    if match:
        raw_score = float(match.group(1))
        if match.group(2):
            return JudgeVerdict(_normalize(raw_score, 0, float(match.group(2)), answer), answer)
        return JudgeVerdict(_normalize(raw_score, low, high, answer), answer)
    raise ValueError(f"the judge answered text with no score: {shorten(answer, 120)!r}")


def _normalize(raw: float, low: float, high: float, answer: str) -> float:
    if low <= raw <= high:
        return (raw - low) / (high - low)
    raise ValueError(
        f"the judge's score {raw:g} is outside {low:g}..{high:g}: {shorten(answer, 80)!r}"
    )


async def judge(output: str | None, ctx: EvalContext, a: Assertion, ws: Any) -> Grade:
    """Grade one output with an `llm-rubric` assertion: render the judge prompt, call the
    judge model through `providers`, read its score. Never raises; an unparseable answer
    or a failed call is an error grade that names the suite file and line."""
    if output is None:
        return Grade(0.0, False, f"no output: {ctx.error or 'the call failed'}")
    where = a.where or "llm-rubric"
    try:
        messages, endpoint, parameters = _judge_call(output, ctx, a, ws)
    except PromptyardError as exc:
        return Grade(None, False, f"{where}: judge not run: {exc}", error=True)
    try:
        completion = await _complete_with_retries(endpoint, messages, parameters)
    except Exception as exc:  # the provider layer should not raise; a judge never stops scoring
        logger.warning("judge call for %s raised", where, exc_info=True)
        return Grade(
            None, False, f"{where}: judge call failed: {shorten(str(exc), 120)}", error=True
        )
    cost_usd = completion.cost_usd
    if not completion.ok:
        return Grade(
            None,
            False,
            f"{where}: judge call failed ({completion.error_kind}): "
            f"{shorten(completion.error_message or '', 120)}",
            cost_usd,
            error=True,
        )
    scale = a.options.get("scale", list(JUDGE_SCALE))
    try:
        verdict = parse_judge_answer(completion.text, (float(scale[0]), float(scale[1])))
    except ValueError as exc:
        return Grade(None, False, f"{where}: {exc}", cost_usd, error=True)
    threshold = a.threshold if a.threshold is not None else 0.5
    passed = verdict.score >= threshold
    return Grade(
        verdict.score,
        passed,
        shorten(verdict.reason, 1000) or f"score {verdict.score:.2f}",
        cost_usd,
    )


JUDGE_COMPLETION_BOUND = 1024  # completion tokens a judge without max_tokens is reserved


def judge_cost_bound(output: str, ctx: EvalContext, a: Assertion, ws: Any) -> float | None:
    """An upper bound of one judge call's USD cost (prompt tokens with a margin, and the
    judge's max_tokens), for a budget to reserve before calling; None when the judge's
    price is unknown. Raises PromptyardError when the judge cannot be set up."""
    from promptyard.models import estimate_cost
    from promptyard.prompts import count_tokens

    messages, endpoint, parameters = _judge_call(output, ctx, a, ws)
    prompt = int(count_tokens(messages, endpoint.litellm_model) * 1.1) + 16
    bound = parameters.get("max_tokens") or parameters.get("max_completion_tokens")
    completion = int(bound) if isinstance(bound, int) and bound > 0 else JUDGE_COMPLETION_BOUND
    return estimate_cost(endpoint, prompt, completion)


async def _complete_with_retries(endpoint: Any, messages: Any, parameters: dict[str, Any]) -> Any:
    """One judge call; rate limits, timeouts and server errors are retried (3 tries)."""
    import asyncio

    from promptyard.models import ModelCall, complete

    call = ModelCall(endpoint=endpoint, messages=messages, parameters=parameters)
    for attempt in range(JUDGE_ATTEMPTS):
        completion = await complete(call)
        if completion.ok or not completion.retryable or attempt == JUDGE_ATTEMPTS - 1:
            return completion
        await asyncio.sleep(min(completion.retry_after_s or 0.5 * 2**attempt, 10.0))
    return completion


def _judge_call(
    output: str, ctx: EvalContext, a: Assertion, ws: Any
) -> tuple[list[dict[str, str]], Any, dict[str, Any]]:
    from promptyard.models import resolve_model
    from promptyard.prompts.api import get_prompt

    spec = str(a.options.get("prompt") or JUDGE_DEFAULT_PROMPT)
    name, _, ref = spec.partition("@")
    template = get_prompt(name, ref or None, workspace=ws)
    inputs_text = "\n".join(f"{k}: {v}" for k, v in ctx.inputs.items())
    messages = template.render(
        output=output,
        rubric=str(fill_value(a.value, ctx) or ""),
        input=inputs_text,
        inputs=dict(ctx.inputs),
        reference=ctx.reference or "",
    )
    model_name = (
        a.options.get("provider") or a.options.get("model") or template.model or "sim-smart"
    )
    parameters = {
        "temperature": 0,
        **dict(template.parameters or {}),
        **dict(a.options.get("parameters") or {}),
    }
    return messages, resolve_model(ws, str(model_name)), parameters


__all__ = [
    "JUDGE_COMPLETION_BOUND",
    "JUDGE_DEFAULT_PROMPT",
    "JudgeVerdict",
    "judge",
    "judge_cost_bound",
    "parse_judge_answer",
]
