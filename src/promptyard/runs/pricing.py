"""What a plan will cost and take: tokens (tiktoken), dollars (the catalog's prices), time.

`estimate` prices a rendered plan before anything is sent; the budget cap of a run uses
the larger completion bound here to reserve money before each call.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from promptyard.runs.planning import RunPlan, completion_bound

if TYPE_CHECKING:
    from promptyard.models import ModelEndpoint
    from promptyard.runs.records import CellTodo

# What a call is guessed to return when the parameters set no max_tokens: the estimate
# uses it for the cost guess; the budget cap uses the larger bound below.
COMPLETION_TOKENS_GUESS = 256
BUDGET_COMPLETION_BOUND = 1024
# Seconds per call assumed for the time estimate when nothing better is known.
SECONDS_PER_CALL_GUESS = {"simulated": 0.1, "default": 2.0}


@dataclass(frozen=True)
class Estimate:
    """What a plan is expected to take: calls, tokens, dollars (None: unknown) and time."""

    calls: int
    prompt_tokens: int
    completion_tokens_guess: int
    cost_usd: float | None
    seconds: float
    unknown_price_models: tuple[str, ...] = ()


def estimate(plan: RunPlan, concurrency: int = 8) -> Estimate:
    """Calls, prompt tokens (tiktoken), a completion guess, cost and time at `concurrency`."""
    from promptyard.models import estimate_cost
    from promptyard.prompts import count_tokens

    concurrency = max(1, concurrency)
    token_memo: dict[tuple[str, str], int] = {}
    per_variant_prompt = [0] * len(plan.variants)
    per_variant_calls = [0] * len(plan.variants)
    for cell in plan.cells:
        variant = plan.variants[cell.variant]
        key = (cell.messages_json, variant.endpoint.litellm_model)
        n = token_memo.get(key)
        if n is None:
            n = count_tokens(json.loads(cell.messages_json), variant.endpoint.litellm_model)
            token_memo[key] = n
        per_variant_prompt[cell.variant] += n
        per_variant_calls[cell.variant] += 1
    cost: float | None = 0.0
    unknown: list[str] = []
    completion_total = 0
    seconds_by_model: dict[str, float] = {}
    for vi, variant in enumerate(plan.variants):
        calls = per_variant_calls[vi]
        completion = completion_bound(variant.parameters, COMPLETION_TOKENS_GUESS) * calls
        completion_total += completion
        price = estimate_cost(variant.endpoint, per_variant_prompt[vi], completion)
        if price is None:
            unknown.append(variant.model)
        elif cost is not None:
            cost += price
        per_call = SECONDS_PER_CALL_GUESS["simulated" if variant.endpoint.simulated else "default"]
        limit = min(concurrency, variant.endpoint.max_concurrency or concurrency)
        secs = calls * per_call / limit
        if variant.endpoint.rpm:
            secs = max(secs, calls * 60.0 / variant.endpoint.rpm)
        seconds_by_model[variant.model] = seconds_by_model.get(variant.model, 0.0) + secs
    total_calls = plan.calls
    overall = max(seconds_by_model.values(), default=0.0)
    overall = max(overall, total_calls * min(SECONDS_PER_CALL_GUESS.values()) / concurrency)
    return Estimate(
        calls=total_calls,
        prompt_tokens=sum(per_variant_prompt),
        completion_tokens_guess=completion_total,
        cost_usd=None if unknown else cost,
        seconds=overall,
        unknown_price_models=tuple(dict.fromkeys(unknown)),
    )


def price_cells(
    todo: Sequence[CellTodo], variants: dict[int, tuple[ModelEndpoint, dict[str, Any]]]
) -> None:
    """Set each cell's `budget_estimate`: an upper bound from its prompt tokens and the
    completion bound (`variants`: variant id -> endpoint and parameters)."""
    from promptyard.models import estimate_cost
    from promptyard.prompts import count_tokens

    memo: dict[tuple[str, int], float] = {}
    for item in todo:
        endpoint, params = variants[item.variant_id]
        key = (item.messages_json, item.variant_id)
        cost = memo.get(key)
        if cost is None:
            prompt = count_tokens(json.loads(item.messages_json), endpoint.litellm_model)
            # A margin over tiktoken's count: providers count chat framing differently.
            prompt = int(prompt * 1.1) + 16
            bound = completion_bound(params, BUDGET_COMPLETION_BOUND)
            cost = estimate_cost(endpoint, prompt, bound) or 0.0
            memo[key] = cost
        item.budget_estimate = cost
