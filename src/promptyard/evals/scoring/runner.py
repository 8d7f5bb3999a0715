"""Scoring runs with a suite: grade every finished cell and store the Score rows.

Scores of a suite on a cell are replaced when it is scored again; the run's cells are
never changed, and no transaction is open while judges run.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col, delete, select

from promptyard.errors import NotFoundError, PromptyardError
from promptyard.evals.evaluators import (
    RUBRIC_TYPE,
    Assertion,
    EvalContext,
    Grade,
    check_assertion,
    evaluate,
)
from promptyard.evals.judges import judge
from promptyard.evals.scoring.results import CellResult, RunScores, combine, summarize
from promptyard.evals.suites import ROW_SCORE, Suite, list_suites, load_suite, name_assertions
from promptyard.storage import bump_score_generation, db
from promptyard.storage.payloads import fill_payloads
from promptyard.storage.tables import SUITE_ROW_REASON, Cell, CellStatus, Score, Variant
from promptyard.workspace import Workspace

logger = logging.getLogger(__name__)


def _context(cell: Cell, variant: Variant) -> EvalContext:
    try:
        inputs = json.loads(cell.inputs_json or "{}")
    except ValueError:
        inputs = {}
    try:
        messages = json.loads(cell.messages_json or "[]")
    except ValueError:
        messages = []
    error = None
    if cell.status == CellStatus.ERROR:
        error = f"{cell.error_kind}: {cell.error_message or ''}".strip()
    tool_calls, tools = _tools_of(cell, variant)
    return EvalContext(
        inputs=inputs if isinstance(inputs, dict) else {},
        reference=cell.reference,
        latency_ms=cell.latency_ms,
        cost_usd=cell.cost_usd,
        prompt_tokens=cell.prompt_tokens,
        completion_tokens=cell.completion_tokens,
        model=variant.model,
        prompt_name=variant.prompt_name,
        messages=messages if isinstance(messages, list) else [],
        error=error,
        tool_calls=tool_calls,
        tools=tools,
    )


def _tools_of(cell: Cell, variant: Variant) -> tuple[list[dict[str, Any]] | None, list[Any]]:
    """The cell's tool calls and the tools its variant offered the model."""
    try:
        calls = json.loads(getattr(cell, "tool_calls_json", None) or "null")
        params = json.loads(variant.parameters_json or "{}")
    except ValueError:
        return None, []
    tools = params.get("tools") if isinstance(params, dict) else None
    return (calls if isinstance(calls, list) else None), (tools if isinstance(tools, list) else [])


def evaluator_output(cell: Cell, ctx: EvalContext) -> str | None:
    """What code evaluators grade: the text; for an answer that is only tool calls, their
    JSON (as promptfoo grades a tool-calls output); None for a failed call."""
    if cell.status != CellStatus.OK:
        return None
    if cell.output is None and ctx.tool_calls:
        return json.dumps(ctx.tool_calls, ensure_ascii=False)
    return cell.output


async def grade_cells(
    ws: Workspace,
    pairs: list[tuple[Cell, Variant]],
    assertions: Sequence[Assertion],
    concurrency: int,
    on_progress: Callable[[int, int], None] | None,
) -> list[dict[str, Grade]]:
    results: list[dict[str, Grade]] = [{} for _ in pairs]
    judged: list[tuple[int, Assertion, EvalContext, str | None]] = []
    for i, (cell, variant) in enumerate(pairs):
        ctx = _context(cell, variant)
        output = evaluator_output(cell, ctx)
        for a in assertions:
            if a.base_type == RUBRIC_TYPE:
                judged.append((i, a, ctx, output))
            else:
                results[i][a.name] = evaluate(output, ctx, a)
    if judged:
        gate = asyncio.Semaphore(max(1, concurrency))
        done = 0

        async def one(i: int, a: Assertion, ctx: EvalContext, output: str | None) -> None:
            nonlocal done
            async with gate:
                results[i][a.name] = await judge(output, ctx, a, ws)
            done += 1
            if on_progress:
                on_progress(done, len(judged))

        await asyncio.gather(*(one(*item) for item in judged))
    return results


def load_cells(
    ws: Workspace, run_id: int, variant_ids: Sequence[int] | None
) -> list[tuple[Cell, Variant]]:
    with db.session(ws) as s:
        variants = {v.id: v for v in s.exec(select(Variant).where(Variant.run_id == run_id)).all()}
        if not variants:
            raise NotFoundError(f"no run {run_id} (or it has no variants)")
        query = (
            select(Cell)
            .where(Cell.run_id == run_id)
            .order_by(col(Cell.variant_id), col(Cell.row_index), col(Cell.repeat))
        )
        if variant_ids is not None:
            query = query.where(col(Cell.variant_id).in_(list(variant_ids)))
        cells = s.exec(query).all()
        fill_payloads(s, cells)
    return [(c, variants[c.variant_id]) for c in cells if c.status != CellStatus.PENDING]


async def score_run_async(
    ws: Workspace,
    run_id: int,
    suite: Suite,
    *,
    variant_ids: Sequence[int] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> RunScores:
    """Grade every finished cell of a run with the suite's assertions and store the Scores.

    Scores of this suite on these cells are replaced; cells are never changed. Judges run
    `suite.concurrency` at a time, and no transaction is open while they run.
    """
    pairs = await asyncio.to_thread(load_cells, ws, run_id, variant_ids)
    cell_results = await grade_and_store(ws, run_id, suite, pairs, on_progress)
    return summarize(run_id, suite, pairs, cell_results)


async def grade_and_store(
    ws: Workspace,
    run_id: int,
    suite: Suite,
    pairs: Sequence[tuple[Cell, Variant]],
    on_progress: Callable[[int, int], None] | None = None,
) -> list[CellResult]:
    """Grade these cells with the suite, store their Scores, and return each cell's result."""
    grades = await grade_cells(ws, list(pairs), suite.assertions, suite.concurrency, on_progress)
    results: list[CellResult] = []
    for (cell, _variant), g in zip(pairs, grades, strict=True):
        score, passed = combine(g, suite.assertions, suite.row_threshold)
        assert cell.id is not None
        results.append(
            CellResult(
                cell.id, cell.variant_id, cell.row_id, cell.repeat, score, passed, g, cell.output
            )
        )
    await asyncio.to_thread(store_scores, ws, run_id, suite, results)
    return results


def score_run(
    ws: Workspace,
    run_id: int,
    suite: Suite | str | Sequence[Assertion],
    variant_ids: Sequence[int] | None = None,
) -> RunScores:
    """Score an existing run on demand: a Suite, a suite name, or a list of assertions.

    The Compare page and the dashboard read what this stores in the Score table.
    """
    if isinstance(suite, str):
        suite = load_suite(ws, suite, check_refs=False)
    elif not isinstance(suite, Suite):
        assertions = list(suite)
        for a in assertions:
            check_assertion(a)
        adhoc = name_assertions(assertions, "ad hoc assertions")
        suite = Suite(name="adhoc", path="(ad hoc)", assertions=adhoc, prompts=[])
    return asyncio.run(score_run_async(ws, run_id, suite, variant_ids=variant_ids))


def store_scores(ws: Workspace, run_id: int, suite: Suite, results: list[CellResult]) -> None:
    from promptyard.storage.tables import utcnow

    cell_ids = [r.cell_id for r in results]
    now = utcnow()  # one time for the batch: stored together

    def apply(s: Any) -> None:
        for start in range(0, len(cell_ids), 500):
            chunk = cell_ids[start : start + 500]
            s.exec(
                delete(Score).where(
                    col(Score.run_id) == run_id,
                    col(Score.suite) == suite.name,
                    col(Score.cell_id).in_(chunk),
                )
            )
        rows: list[dict[str, Any]] = []
        for r in results:
            for a in suite.assertions:
                g = r.grades[a.name]
                rows.append(
                    _score_row(r.cell_id, run_id, a.evaluator_id, a.name, suite.name, g, now)
                )
            rows.append(
                _score_row(
                    r.cell_id,
                    run_id,
                    "suite",
                    ROW_SCORE,
                    suite.name,
                    Grade(r.score, r.passed, SUITE_ROW_REASON),
                    now,
                )
            )
        table = Score.__table__  # type: ignore[attr-defined]
        for start in range(0, len(rows), 1000):
            s.execute(table.insert(), rows[start : start + 1000])
        bump_score_generation(s, [run_id])  # sums kept from the old scores are now old

    db.write(ws, apply)


def _score_row(
    cell_id: int, run_id: int, evaluator: str, name: str, suite: str, g: Grade, now: datetime
) -> dict[str, Any]:
    return {
        "cell_id": cell_id,
        "run_id": run_id,
        "evaluator": evaluator,
        "name": name,
        "suite": suite,
        "value": g.value,
        "passed": g.passed,
        # A suite's own row stores no reason: it is always SUITE_ROW_REASON (score_reason).
        "reason": None if evaluator == "suite" else g.reason[:2000],
        "judge_cost_usd": g.judge_cost_usd,
        "created_at": now,
    }


def suites_for_run(ws: Workspace, run_id: int) -> list[Suite]:
    """The workspace's valid suites that fit a run: they name one of its prompts and its
    dataset (a suite without a dataset fits any run of its prompts)."""
    from promptyard.storage.tables import Run

    with db.session(ws) as s:
        run = s.get(Run, run_id)
        if run is None:
            raise NotFoundError(f"no run {run_id}")
        prompts = {v.prompt_name for v in s.exec(select(Variant).where(Variant.run_id == run_id))}
    fitting = []
    for name in list_suites(ws):
        try:
            suite = load_suite(ws, name, check_refs=False)
        except PromptyardError as exc:  # a broken suite is reported by `promptyard suites`
            logger.debug("suite %s skipped for run %s: %s", name, run_id, exc)
            continue
        if prompts & set(suite.prompts) and suite.dataset in (None, run.dataset_name):
            fitting.append(suite)
    return fitting


def score_after_run(ws: Workspace, run_id: int, *, include_custom: bool = False) -> list[RunScores]:
    """Score a finished run with every suite that fits it (see `suites_for_run`).

    Suites that name custom Python evaluators run only with `include_custom`, because
    they execute workspace code.
    """
    out = []
    for suite in suites_for_run(ws, run_id):
        if suite.uses_custom_code() and not include_custom:
            continue
        out.append(asyncio.run(score_run_async(ws, run_id, suite)))
    return out


def free_suites_for_run(ws: Workspace, run_id: int) -> list[Suite]:
    """The suites that fit a run and cost nothing to run: what scores a run that just finished.

    Suites with LLM judges (they spend money) or custom Python evaluators (they run
    workspace code) are left for `promptyard score RUN_ID --suite NAME` or the Compare page.
    """
    return [
        suite
        for suite in suites_for_run(ws, run_id)
        if not suite.uses_custom_code() and not suite.uses_judges()
    ]
