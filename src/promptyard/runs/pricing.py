"""What a plan will cost and take: tokens (tiktoken), dollars (the catalog's prices), time.

`estimate` prices a rendered plan before anything is sent, with the output length that
earlier runs of the same prompt and model returned when there are any; the budget cap of
a run uses the larger completion bound here to reserve money before each call.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from promptyard.runs.plan_cells import PlannedCells
from promptyard.runs.planning import RunPlan, completion_bound
from promptyard.workspace import Workspace

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
    """What a plan is expected to take: calls, tokens, dollars (None: unknown) and time.

    `sources` says, per variant label, where its expected output length came from:
    `history (N cells)`, `max_tokens` or `default (256 tokens)`.
    """

    calls: int
    prompt_tokens: int
    completion_tokens_guess: int
    cost_usd: float | None
    seconds: float
    unknown_price_models: tuple[str, ...] = ()
    sources: tuple[tuple[str, str], ...] = ()

    @property
    def source_note(self) -> str:
        """The output-length sources in one line (`expected output: ...`)."""
        kinds = dict.fromkeys(source for _, source in self.sources)
        return "expected output from " + "; ".join(kinds) if kinds else ""


@dataclass(frozen=True)
class History:
    """What earlier runs of one prompt on one model returned: mean tokens and latency."""

    cells: int
    completion_tokens: float
    latency_ms: float | None


def history(ws: Workspace, prompt_name: str, model: str) -> History | None:
    """Mean completion tokens and latency of the ok, uncached cells of earlier runs of
    `prompt_name` on `model`; None when there are none."""
    from sqlalchemy import func, select

    from promptyard.runs.state import CELL, VARIANT
    from promptyard.storage import db
    from promptyard.storage.tables import CellStatus

    stmt = (
        select(func.count(), func.avg(CELL.c.completion_tokens), func.avg(CELL.c.latency_ms))
        .select_from(CELL.join(VARIANT, CELL.c.variant_id == VARIANT.c.id))
        .where(
            VARIANT.c.prompt_name == prompt_name,
            VARIANT.c.model == model,
            CELL.c.status == CellStatus.OK,
            CELL.c.cached.is_(False),
            CELL.c.completion_tokens.is_not(None),
        )
    )
    with db.session(ws) as s:
        n, tokens, latency = s.execute(stmt).one()
    if not n:
        return None
    return History(int(n), float(tokens), None if latency is None else float(latency))


def _expected_output(ws: Workspace | None, variant: Any) -> tuple[float, str, float | None]:
    """Expected completion tokens per call, where that figure came from, and the mean
    latency in seconds when history knows it."""
    past = history(ws, variant.prompt_name, variant.model) if ws is not None else None
    if past is not None:
        seconds = past.latency_ms / 1000 if past.latency_ms is not None else None
        return past.completion_tokens, f"history ({past.cells} cells)", seconds
    bound = completion_bound(variant.parameters, 0)
    if bound:
        return float(bound), "max_tokens", None
    return float(COMPLETION_TOKENS_GUESS), f"default ({COMPLETION_TOKENS_GUESS} tokens)", None


def estimate(plan: RunPlan, concurrency: int = 8, ws: Workspace | None = None) -> Estimate:
    """Calls, prompt tokens (tiktoken), expected completion tokens, cost and time at
    `concurrency`. With `ws`, earlier runs of the same prompt and model give the expected
    output length and the time per call; else `max_tokens`, else a default (`sources`)."""
    from promptyard.models import estimate_cost
    from promptyard.prompts import count_tokens

    concurrency = max(1, concurrency)
    token_memo: dict[tuple[str, str], int] = {}
    per_variant_prompt = [0] * len(plan.variants)
    per_variant_calls = [0] * len(plan.variants)
    cells = plan.cells
    if isinstance(cells, PlannedCells):
        # Each template group's rows read once, counted once per model: no cell is made
        # and no rendered prompt is held past its row.
        for group in dict.fromkeys(cells.templates):
            members = [v for v, t in enumerate(cells.templates) if t == group]
            models = {plan.variants[v].endpoint.litellm_model: 0 for v in members}
            last: str | None = None
            counts: dict[str, int] = {}
            for messages_json in cells.messages_of(group):
                if messages_json != last:  # rows that render alike (no variables) count once
                    messages = json.loads(messages_json)
                    counts = {model: count_tokens(messages, model) for model in models}
                    last = messages_json
                for model, tokens in counts.items():
                    models[model] += tokens
            for v in members:
                per_variant_prompt[v] = models[plan.variants[v].endpoint.litellm_model]
                per_variant_prompt[v] *= cells.repeats
                per_variant_calls[v] = cells.per_variant
    for cell in () if isinstance(cells, PlannedCells) else cells:
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
    sources: list[tuple[str, str]] = []
    for vi, variant in enumerate(plan.variants):
        calls = per_variant_calls[vi]
        per_call_tokens, source, past_seconds = _expected_output(ws, variant)
        sources.append((variant.label, source))
        completion = round(per_call_tokens * calls)
        completion_total += completion
        price = estimate_cost(variant.endpoint, per_variant_prompt[vi], completion)
        if price is None:
            unknown.append(variant.model)
        elif cost is not None:
            cost += price
        per_call = (
            past_seconds
            or SECONDS_PER_CALL_GUESS["simulated" if variant.endpoint.simulated else "default"]
        )
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
        sources=tuple(sources),
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
