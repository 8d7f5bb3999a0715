"""Scoring runs with a suite: grade every finished cell, store Score rows, summarize.

A cell's score is the weighted mean of its assertion values; it passes at the suite's
`row_threshold` (or, without one, when every weighted assertion passes). Scores of a
suite on a cell are replaced when it is scored again; the run's cells are never changed,
and no transaction is open while judges run.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, delete, select

from promptyard.errors import NotFoundError, PromptyardError
from promptyard.evals.evaluators import Assertion, EvalContext, Grade, check_assertion, evaluate
from promptyard.evals.judges import judge
from promptyard.evals.suites import ROW_SCORE, Suite, _dedupe_names, list_suites, load_suite
from promptyard.storage import db
from promptyard.storage.tables import Cell, CellStatus, Score, Variant
from promptyard.workspace import Workspace


@dataclass
class CellResult:
    """One cell's grades under a suite."""

    cell_id: int
    variant_id: int
    row_id: str
    repeat: int
    score: float  # weighted mean of the assertion values, 0..1
    passed: bool
    grades: dict[str, Grade]
    output: str | None = None


@dataclass
class VariantResult:
    variant_id: int
    label: str
    prompt_name: str
    prompt_version: int | None
    prompt_sha: str | None
    model: str
    cells: int
    passed: int
    mean_score: float
    judge_cost_usd: float
    assertion_pass_rates: dict[str, float]
    errors: int  # cells whose call failed

    @property
    def pass_rate(self) -> float:
        return self.passed / self.cells if self.cells else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "variant_id": self.variant_id,
            "label": self.label,
            "prompt": self.prompt_name,
            "version": self.prompt_version,
            "sha": self.prompt_sha,
            "model": self.model,
            "cells": self.cells,
            "passed": self.passed,
            "pass_rate": self.pass_rate,
            "mean_score": self.mean_score,
            "judge_cost_usd": self.judge_cost_usd,
            "assertions": self.assertion_pass_rates,
            "errors": self.errors,
        }


@dataclass
class RunScores:
    """A run scored by a suite: per variant and per cell."""

    run_id: int
    suite: str
    threshold: float
    variants: list[VariantResult]
    cells: list[CellResult]
    judge_cost_usd: float
    evaluator_errors: list[str]  # distinct evaluator error reasons (judge unparseable, ...)

    def variant(self, variant_id: int) -> VariantResult:
        return next(v for v in self.variants if v.variant_id == variant_id)

    def passed_for(self, variant_ids: Sequence[int] | None = None) -> bool:
        chosen = [v for v in self.variants if variant_ids is None or v.variant_id in variant_ids]
        return bool(chosen) and all(v.pass_rate >= self.threshold - 1e-9 for v in chosen)

    @property
    def passed(self) -> bool:
        return self.passed_for()

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "suite": self.suite,
            "threshold": self.threshold,
            "passed": self.passed,
            "judge_cost_usd": self.judge_cost_usd,
            "variants": [v.to_dict() for v in self.variants],
            "evaluator_errors": self.evaluator_errors,
        }


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
    )


def combine(
    grades: dict[str, Grade], assertions: Sequence[Assertion], row_threshold: float | None
) -> tuple[float, bool]:
    """A cell's weighted score and verdict from its grades."""
    weighted = [(a.weight, grades[a.name]) for a in assertions if a.weight > 0]
    if not weighted:
        weighted = [(1.0, grades[a.name]) for a in assertions]
    total = sum(w for w, _ in weighted)
    score = (
        sum(w * (g.value if g.value is not None else 0.0) for w, g in weighted) / total
        if total
        else 0.0
    )
    if row_threshold is not None:
        return score, score >= row_threshold - 1e-9
    return score, all(g.passed for _, g in weighted)


async def _grade_cells(
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
        output = cell.output if cell.status == CellStatus.OK else None
        for a in assertions:
            if a.base_type == "llm-rubric":
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


def _load_cells(
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
    pairs = await asyncio.to_thread(_load_cells, ws, run_id, variant_ids)
    grades = await _grade_cells(ws, pairs, suite.assertions, suite.concurrency, on_progress)
    cell_results: list[CellResult] = []
    for (cell, _variant), g in zip(pairs, grades, strict=True):
        score, passed = combine(g, suite.assertions, suite.row_threshold)
        assert cell.id is not None
        cell_results.append(
            CellResult(
                cell.id, cell.variant_id, cell.row_id, cell.repeat, score, passed, g, cell.output
            )
        )
    await asyncio.to_thread(_store_scores, ws, run_id, suite, cell_results)
    return _summarize(run_id, suite, pairs, cell_results)


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
        adhoc = _dedupe_names(assertions, "ad hoc assertions")
        suite = Suite(name="adhoc", path="(ad hoc)", assertions=adhoc, prompts=[])
    return asyncio.run(score_run_async(ws, run_id, suite, variant_ids=variant_ids))


def _store_scores(ws: Workspace, run_id: int, suite: Suite, results: list[CellResult]) -> None:
    cell_ids = [r.cell_id for r in results]

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
                rows.append(_score_row(r.cell_id, run_id, a.evaluator_id, a.name, suite.name, g))
            rows.append(
                _score_row(
                    r.cell_id,
                    run_id,
                    "suite",
                    ROW_SCORE,
                    suite.name,
                    Grade(r.score, r.passed, "weighted score of the suite's assertions"),
                )
            )
        table = Score.__table__  # type: ignore[attr-defined]
        for start in range(0, len(rows), 1000):
            s.execute(table.insert(), rows[start : start + 1000])

    db.write(ws, apply)


def _score_row(
    cell_id: int, run_id: int, evaluator: str, name: str, suite: str, g: Grade
) -> dict[str, Any]:
    from promptyard.storage.tables import utcnow

    return {
        "cell_id": cell_id,
        "run_id": run_id,
        "evaluator": evaluator,
        "name": name,
        "suite": suite,
        "value": g.value,
        "passed": g.passed,
        "reason": g.reason[:2000],
        "judge_cost_usd": g.judge_cost_usd,
        "created_at": utcnow(),
    }


def _summarize(
    run_id: int, suite: Suite, pairs: list[tuple[Cell, Variant]], results: list[CellResult]
) -> RunScores:
    variants: dict[int, Variant] = {}
    for _, v in pairs:
        assert v.id is not None
        variants.setdefault(v.id, v)
    summaries = []
    errors: list[str] = []
    total_judge = 0.0
    for vid, v in variants.items():
        mine = [r for r in results if r.variant_id == vid]
        cost = sum(g.judge_cost_usd or 0.0 for r in mine for g in r.grades.values())
        total_judge += cost
        rates = {
            a.name: sum(1 for r in mine if r.grades[a.name].passed) / len(mine) if mine else 0.0
            for a in suite.assertions
        }
        failed_calls = sum(
            1 for c, _ in pairs if c.variant_id == vid and c.status == CellStatus.ERROR
        )
        summaries.append(
            VariantResult(
                vid,
                v.label,
                v.prompt_name,
                v.prompt_version,
                v.prompt_sha,
                v.model,
                len(mine),
                sum(1 for r in mine if r.passed),
                sum(r.score for r in mine) / len(mine) if mine else 0.0,
                cost,
                rates,
                failed_calls,
            )
        )
        for r in mine:
            for g in r.grades.values():
                if g.error and g.reason not in errors:
                    errors.append(g.reason)
    return RunScores(
        run_id, suite.name, suite.threshold, summaries, results, total_judge, errors[:20]
    )


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
        except PromptyardError:
            continue  # a broken suite is reported by `promptyard suites`, not here
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


async def score_finished_run(ws: Workspace, run_id: int) -> list[RunScores]:
    """Score a run that just finished with the suites that fit it and cost nothing to run.

    Suites with LLM judges (they spend money) or custom Python evaluators (they run
    workspace code) are left for `promptyard score RUN_ID --suite NAME`.
    """
    out = []
    for suite in await asyncio.to_thread(suites_for_run, ws, run_id):
        if suite.uses_custom_code() or any(a.base_type == "llm-rubric" for a in suite.assertions):
            continue
        out.append(await score_run_async(ws, run_id, suite))
    return out


@dataclass
class StoredSuiteResult:
    """A suite's stored scores on one variant of a run, as pages show them."""

    suite: str
    variant_id: int
    label: str
    cells: int
    passed: int
    mean_score: float | None
    judge_cost_usd: float
    assertions: dict[str, float]  # assertion name -> pass rate

    @property
    def pass_rate(self) -> float:
        return self.passed / self.cells if self.cells else 0.0


def stored_results(ws: Workspace, run_id: int, suite: str | None = None) -> list[StoredSuiteResult]:
    """What earlier scoring stored for a run, per suite and variant (nothing is recomputed).

    For the Compare page and the dashboard: one SQL aggregate over the Score table.
    """
    from sqlalchemy import text

    sql = """SELECT s.suite, c.variant_id, s.evaluator, s.name, COUNT(*) AS n,
               SUM(CASE WHEN s.passed THEN 1 ELSE 0 END) AS n_passed, AVG(s.value) AS mean_value,
               SUM(COALESCE(s.judge_cost_usd, 0)) AS judge_cost
             FROM score s JOIN cell c ON c.id = s.cell_id
             WHERE s.run_id = :run_id AND (:suite IS NULL OR s.suite = :suite)
             GROUP BY s.suite, c.variant_id, s.evaluator, s.name
             ORDER BY s.suite, c.variant_id"""
    with db.session(ws) as s:
        rows = s.execute(text(sql), {"run_id": run_id, "suite": suite}).all()
        labels = {v.id: v.label for v in s.exec(select(Variant).where(Variant.run_id == run_id))}
    out: dict[tuple[str, int], StoredSuiteResult] = {}
    for suite_name, variant_id, evaluator, name, n, n_passed, mean_value, judge_cost in rows:
        key = (suite_name or "", int(variant_id))
        item = out.setdefault(
            key, StoredSuiteResult(key[0], key[1], labels.get(key[1], "?"), 0, 0, None, 0.0, {})
        )
        item.judge_cost_usd += float(judge_cost or 0.0)
        if evaluator == "suite" and name == ROW_SCORE:
            item.cells, item.passed = int(n), int(n_passed or 0)
            item.mean_score = None if mean_value is None else float(mean_value)
        else:
            item.assertions[name] = int(n_passed or 0) / int(n) if n else 0.0
    return list(out.values())


__all__ = [
    "StoredSuiteResult",
    "stored_results",
    "CellResult",
    "RunScores",
    "VariantResult",
    "combine",
    "score_after_run",
    "score_run",
    "score_run_async",
    "suites_for_run",
]
