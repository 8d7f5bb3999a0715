"""The trace of one model call: what was sent, what came back, what it cost, how it was
judged, and how its prompt version differs from the version before it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from promptyard import prompts
from promptyard.errors import NotFoundError, PromptyardError
from promptyard.storage import db
from promptyard.storage.payloads import fill_payloads
from promptyard.storage.raw_response import cell_raw_response
from promptyard.storage.tables import Cell, Rating, Score, Variant, score_reason
from promptyard.workspace import Workspace


@dataclass
class CellTrace:
    """Everything about one model call, and the prompt version it used."""

    cell_id: int
    run_id: int
    row_id: str
    repeat: int
    variant: str
    prompt_name: str
    prompt_version: int | None
    prompt_sha: str | None
    model: str
    messages: list[dict[str, Any]]
    parameters: dict[str, Any]
    inputs: dict[str, Any]
    reference: str | None
    status: str
    output: str | None
    finish_reason: str | None
    raw_response: Any
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    latency_ms: float | None
    ttft_ms: float | None
    attempts: int
    error_kind: str | None
    error_message: str | None
    cached: bool
    started_at: datetime | None
    finished_at: datetime | None
    scores: list[dict[str, Any]] = field(default_factory=list)
    ratings: list[dict[str, Any]] = field(default_factory=list)  # with history
    previous_version: int | None = None
    prompt_diff: str | None = None  # unified diff from the previous version of the prompt
    tool_calls: list[dict[str, Any]] | None = None  # the tools the model called (OpenAI format)
    guardrail: dict[str, Any] | None = None  # what the run's guardrail policy did (m022)
    # A cached cell: the earlier cell whose answer it was served (its cost and latency are
    # that call's; this run paid nothing and waited for no call).
    cached_from_cell: int | None = None
    cached_from_run: int | None = None

    @property
    def run_cost_usd(self) -> float | None:
        """What this call cost this run: nothing when served from the cache."""
        return 0.0 if self.cached else self.cost_usd

    @property
    def retries(self) -> int:
        return max(0, self.attempts - 1)


def _prompt_diff(ws: Workspace, name: str, sha: str | None) -> tuple[int | None, str | None]:
    """The number of the version before `sha` and the diff from it (None, None for the
    first version, an unsaved draft or a prompt no longer in git)."""
    if not sha:
        return None, None
    try:
        history = prompts.prompt_history(name, ws)
        shas = [v.sha for v in history]
        if sha not in shas:
            return None, None
        at = shas.index(sha)
        if at == 0:
            return None, None
        return history[at - 1].number, prompts.diff_prompt(name, history[at - 1].sha, sha, ws)
    except PromptyardError:
        return None, None


def cell_trace(ws: Workspace, cell_id: int) -> CellTrace:
    """The full trace of a cell: rendered messages, parameters, raw response, tokens,
    cost, latency, attempts, error, cached flag, scores, rating history, and the diff of
    its prompt version against the version before it."""
    with db.session(ws) as s:
        cell = s.get(Cell, cell_id)
        if cell is None:
            raise NotFoundError(f"cell {cell_id} does not exist")
        fill_payloads(s, [cell])
        variant = s.get(Variant, cell.variant_id)
        assert variant is not None
        scores = s.exec(select(Score).where(Score.cell_id == cell_id).order_by(col(Score.id))).all()
        ratings = s.exec(
            select(Rating).where(Rating.cell_id == cell_id).order_by(col(Rating.id))
        ).all()
        source = None
        if cell.cached and cell.cache_key:
            source = s.exec(
                select(Cell)
                .where(
                    Cell.cache_key == cell.cache_key, Cell.status == "ok", col(Cell.id) != cell_id
                )
                .where(col(Cell.cached).is_(False))
                .order_by(col(Cell.id))
            ).first()
    raw = cell_raw_response(cell)  # the stored remainder, completed from the columns
    previous, diff = _prompt_diff(ws, variant.prompt_name, variant.prompt_sha)
    return CellTrace(
        cell_id=cell_id,
        run_id=cell.run_id,
        row_id=cell.row_id,
        repeat=cell.repeat,
        variant=variant.label,
        prompt_name=variant.prompt_name,
        prompt_version=variant.prompt_version,
        prompt_sha=variant.prompt_sha,
        model=variant.model,
        messages=json.loads(cell.messages_json or "[]"),
        parameters=json.loads(variant.parameters_json or "{}"),
        inputs=json.loads(cell.inputs_json or "{}"),
        reference=cell.reference,
        status=cell.status,
        output=cell.output,
        finish_reason=cell.finish_reason,
        raw_response=raw,
        prompt_tokens=cell.prompt_tokens,
        completion_tokens=cell.completion_tokens,
        cost_usd=cell.cost_usd,
        latency_ms=cell.latency_ms,
        ttft_ms=cell.ttft_ms,
        attempts=cell.attempts,
        error_kind=cell.error_kind,
        error_message=cell.error_message,
        cached=bool(cell.cached),
        cached_from_cell=source.id if source is not None else None,
        cached_from_run=source.run_id if source is not None else None,
        started_at=cell.started_at,
        finished_at=cell.finished_at,
        scores=[
            {
                "name": sc.name,
                "evaluator": sc.evaluator,
                "value": sc.value,
                "passed": sc.passed,
                "reason": score_reason(sc.evaluator, sc.reason),
            }
            for sc in scores
        ],
        ratings=[
            {
                "scheme": r.scheme,
                "rater": r.rater,
                "value": json.loads(r.value_json),
                "comment": r.comment,
                "created_at": r.created_at,
                "current": r.superseded_by is None,
                "scheme_version": r.scheme_version,
            }
            for r in ratings
        ],
        previous_version=previous,
        prompt_diff=diff,
        tool_calls=tool_calls_from_json(cell.tool_calls_json),
        guardrail=json.loads(cell.guardrail_json) if cell.guardrail_json else None,
    )


def tool_calls_from_json(text: str | None) -> list[dict[str, Any]] | None:
    """A cell's stored tool calls (None when it has none or they do not parse)."""
    if not text:
        return None
    try:
        calls = json.loads(text)
    except ValueError:
        return None
    if not isinstance(calls, list):
        return None
    return [c for c in calls if isinstance(c, dict)] or None


def tool_call_lines(calls: list[dict[str, Any]] | None) -> list[str]:
    """One plain-text line per tool call: `name({"arg": ...})`, arguments as sent."""
    lines = []
    for call in calls or []:
        found = call.get("function")
        fn: dict[str, Any] = found if isinstance(found, dict) else {}
        lines.append(f"{fn.get('name') or '?'}({fn.get('arguments') or ''})")
    return lines
