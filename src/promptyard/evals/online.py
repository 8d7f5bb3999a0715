"""Online evaluation: suites with an `online:` block score received LLM spans.

Each online suite reads the span table past its cursor (`online_cursor`), a batch at a
time. A span that passes the suite's filter and its deterministic sample
(`sample_point` < sample) is graded by the suite's code evaluators; below `judge_sample`
its LLM judges grade it too, each call reserved against the suite's daily budget first
(`online_budget`) and skipped, with the reason stored, when the budget would be passed.
The batch's scores and the cursor move are one transaction that checks the cursor has
not moved meanwhile, so each span is scored once. `score_pending` is what
`promptyard online-eval` and the worker's `online_eval` job run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sqlmodel import Session, col, select

from promptyard.errors import PromptyardError
from promptyard.evals.evaluators import RUBRIC_TYPE, Assertion, evaluate
from promptyard.evals.judges import JUDGE_COMPLETION_BOUND, judge, judge_cost_bound
from promptyard.evals.online_budget import reserve, settle
from promptyard.evals.online_spans import matches, sample_point, span_context
from promptyard.evals.suites import Suite, list_suites, load_suite
from promptyard.storage import db
from promptyard.storage.tables import Span
from promptyard.storage.tables_online import OnlineCursor, SpanScore
from promptyard.workspace import Workspace

logger = logging.getLogger(__name__)
BATCH = 200  # spans read, graded and stored at a time


@dataclass
class OnlineReport:
    """What one pass over the pending spans did."""

    suites: list[str] = field(default_factory=list)
    spans_read: int = 0  # LLM spans past the cursors
    spans_scored: int = 0  # of them, sampled and graded
    scores: int = 0  # span_score rows written
    judge_calls: int = 0
    judge_cost_usd: float = 0.0
    unscored: int = 0  # judge verdicts left empty (failed call, budget reached)
    errors: list[str] = field(default_factory=list)  # suites that could not load

    def line(self) -> str:
        """One line for a log or the CLI."""
        text = (
            f"online eval: {len(self.suites)} suite(s), {self.spans_scored}/{self.spans_read} "
            f"span(s) scored, {self.scores} score(s), {self.judge_calls} judge call(s) "
            f"${self.judge_cost_usd:.4f}, {self.unscored} unscored"
        )
        return text + "".join(f"; {e}" for e in self.errors)


def online_suites(ws: Workspace, errors: list[str] | None = None) -> list[Suite]:
    """The workspace's suites with an `online:` block; a suite that does not load is left
    out, its message appended to `errors`."""
    out: list[Suite] = []
    for name in list_suites(ws):
        try:
            suite = load_suite(ws, name, check_refs=False)
        except PromptyardError as exc:
            if errors is not None:
                errors.append(str(exc))
            continue
        if suite.online is not None:
            out.append(suite)
    return out


def _pending(ws: Workspace, suite: str, limit: int) -> tuple[int, list[Span]]:
    with db.session(ws) as s:
        cursor = s.get(OnlineCursor, suite)
        last = cursor.last_span_row_id if cursor else 0
        rows = s.exec(
            select(Span)
            .where(col(Span.id) > last, col(Span.is_llm).is_(True))
            .order_by(col(Span.id))
            .limit(limit)
        ).all()
        return last, list(rows)


def _row(suite: Suite, span: Span, a: Assertion) -> SpanScore:
    assert span.id is not None
    return SpanScore(
        span_row_id=span.id,
        trace_id=span.trace_id,
        span_id=span.span_id,
        suite=suite.name,
        evaluator=a.name,
    )


def reserved_assertion(a: Assertion) -> Assertion:
    """The judge assertion held to the completion bound its reservation assumes."""
    params = dict(a.options.get("parameters") or {})
    params.setdefault("max_tokens", JUDGE_COMPLETION_BOUND)
    return replace(a, options={**a.options, "parameters": params})


async def _judge_one(
    ws: Workspace, suite: Suite, span: Span, a: Assertion, report: OnlineReport
) -> SpanScore | None:
    """Judge one span under the budget; a stored row (None when already stored)."""
    assert suite.online is not None
    output, ctx = span_context(span)
    row = _row(suite, span, a)
    if output is None:
        row.passed, row.score, row.reason = False, 0.0, f"no output: {ctx.error}"
        return row
    a = reserved_assertion(a)
    try:
        estimate = judge_cost_bound(output, ctx, a, ws)
    except PromptyardError as exc:
        row.reason = f"{a.where or a.name}: judge not run: {exc}"
        report.unscored += 1
        return row
    if estimate is None:
        row.reason = (
            f"{a.where or a.name}: judge not run: its price is unknown, so the budget cannot hold"
        )
        report.unscored += 1
        return row
    budget = suite.online.judge_daily_budget_usd
    score_id = await asyncio.to_thread(reserve, ws, row, estimate, budget)
    if score_id == -1:
        return None
    if score_id is None:
        row = _row(suite, span, a)
        row.reason = f"judge not run: the daily judge budget of ${budget:g} is reached"
        report.unscored += 1
        return row
    report.judge_calls += 1
    grade = await judge(output, ctx, a, ws)
    cost = grade.judge_cost_usd
    report.judge_cost_usd += cost if cost is not None else estimate
    if grade.error:
        report.unscored += 1
        await asyncio.to_thread(settle, ws, score_id, None, None, grade.reason, cost)
    else:
        await asyncio.to_thread(settle, ws, score_id, grade.passed, grade.value, grade.reason, cost)
    report.scores += 1
    return None


async def _grade_batch(
    ws: Workspace, suite: Suite, spans: Sequence[Span], report: OnlineReport
) -> list[SpanScore]:
    cfg = suite.online
    assert cfg is not None
    rows: list[SpanScore] = []
    judged: list[tuple[Span, Assertion]] = []
    for span in spans:
        point = sample_point(suite.name, span.trace_id, span.span_id)
        if not matches(cfg, span) or point >= cfg.sample:
            continue
        report.spans_scored += 1
        output, ctx = span_context(span)
        for a in suite.assertions:
            if a.base_type == RUBRIC_TYPE:
                if point < cfg.judge_sample:
                    judged.append((span, a))
                continue
            grade = evaluate(output, ctx, a)
            row = _row(suite, span, a)
            row.passed, row.score, row.reason = grade.passed, grade.value, grade.reason[:1000]
            rows.append(row)
    gate = asyncio.Semaphore(max(1, suite.concurrency))

    async def one(span: Span, a: Assertion) -> SpanScore | None:
        async with gate:
            return await _judge_one(ws, suite, span, a, report)

    done = await asyncio.gather(*(one(span, a) for span, a in judged))
    rows.extend(r for r in done if r is not None)
    return rows


def _store(ws: Workspace, suite: str, last: int, upto: int, rows: list[SpanScore]) -> None:
    def apply(s: Session) -> None:
        cursor = s.get(OnlineCursor, suite)
        if (cursor.last_span_row_id if cursor else 0) != last:
            raise PromptyardError(
                f"online suite {suite!r}: another process scored these spans meanwhile"
            )
        s.add_all(rows)
        cursor = cursor or OnlineCursor(suite=suite)
        cursor.last_span_row_id = upto
        s.add(cursor)

    db.write(ws, apply)


async def score_suite(
    ws: Workspace, suite: Suite, report: OnlineReport, batch: int = BATCH
) -> None:
    """Score every pending span with one online suite, a batch at a time."""
    while True:
        last, spans = await asyncio.to_thread(_pending, ws, suite.name, batch)
        if not spans:
            return
        report.spans_read += len(spans)
        rows = await _grade_batch(ws, suite, spans, report)
        upto = spans[-1].id
        assert upto is not None
        await asyncio.to_thread(_store, ws, suite.name, last, upto, rows)
        report.scores += len(rows)


async def score_pending(ws: Workspace, batch: int = BATCH) -> OnlineReport:
    """Score the spans received since the last pass with every online suite."""
    report = OnlineReport()
    suites = await asyncio.to_thread(online_suites, ws, report.errors)
    for suite in suites:
        report.suites.append(suite.name)
        await score_suite(ws, suite, report, batch)
    return report


def score_pending_now(ws: Workspace) -> OnlineReport:
    """`score_pending` from synchronous code (the CLI, a test)."""
    return asyncio.run(score_pending(ws))


__all__ = [
    "BATCH",
    "reserved_assertion",
    "OnlineReport",
    "online_suites",
    "score_pending",
    "score_pending_now",
    "score_suite",
]
