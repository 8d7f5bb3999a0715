"""The daily judge budget of an online suite: reserve before a judge call, settle after.

A reservation is a span_score row holding the call's cost bound, written in one write
transaction that first sums the day's judge cost of the suite (reservations included), so
two processes cannot both take the last dollars. After the call the row gets the verdict
and the actual cost. A process killed mid-call leaves its reservation counted.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import func
from sqlmodel import Session, col, select

from promptyard.storage import db
from promptyard.storage.tables_online import SpanScore
from promptyard.workspace import Workspace

RESERVED = "judge call under way (cost reserved)"


def day_start(now: datetime | None = None) -> datetime:
    """Midnight UTC of `now`'s day: the budget's day begins there."""
    now = now or datetime.now(UTC)
    return datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)


def spent_today(s: Session, suite: str) -> float:
    """The suite's judge cost today, reservations included."""
    total = s.exec(
        select(func.coalesce(func.sum(SpanScore.judge_cost_usd), 0.0)).where(
            SpanScore.suite == suite, col(SpanScore.created_at) >= day_start()
        )
    ).one()
    return float(total or 0.0)


def already_judged(s: Session, row: SpanScore) -> bool:
    """True when the span already has a row of this suite's evaluator."""
    found = s.exec(
        select(SpanScore.id).where(
            SpanScore.span_row_id == row.span_row_id,
            SpanScore.suite == row.suite,
            SpanScore.evaluator == row.evaluator,
        )
    ).first()
    return found is not None


def reserve(ws: Workspace, row: SpanScore, estimate: float, budget: float) -> int | None:
    """Store `row` holding `estimate` when the day's spend stays within `budget`; return
    its id, None (nothing stored) when the call would pass the budget, or -1 when the span
    already has this judge's row (a process killed after reserving): it is not judged twice."""

    def apply(s: Session) -> int | None:
        if already_judged(s, row):
            return -1
        if spent_today(s, row.suite) + estimate > budget + 1e-12:
            return None
        row.judge_cost_usd, row.reason = estimate, RESERVED
        s.add(row)
        s.flush()
        return row.id

    return db.write(ws, apply)


def settle(
    ws: Workspace,
    score_id: int,
    passed: bool | None,
    score: float | None,
    reason: str,
    cost: float | None,
) -> None:
    """Replace reservation `score_id` with the judge's verdict and its actual cost (the
    reserved bound stays when the provider reported none)."""

    def apply(s: Session) -> None:
        row = s.get(SpanScore, score_id)
        if row is None:
            return
        row.passed, row.score, row.reason = passed, score, reason[:1000]
        if cost is not None:
            row.judge_cost_usd = cost
        s.add(row)

    db.write(ws, apply)
