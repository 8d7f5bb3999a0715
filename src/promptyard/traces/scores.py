"""Reading the online evaluators' scores of spans (span_score, written by evals.online).

Traces sit below evals, so the Traces and Monitoring pages read scores here; this module
only reads the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from promptyard.storage import db
from promptyard.storage.tables_online import SpanScore
from promptyard.workspace import Workspace

_CHUNK = 500  # ids per IN list, under every database's parameter limit


@dataclass(frozen=True)
class SpanScoreView:
    """One evaluator's verdict on a span; passed None means unscored (reason says why)."""

    span_row_id: int
    suite: str
    evaluator: str
    passed: bool | None
    score: float | None
    reason: str | None
    judge_cost_usd: float | None
    created_at: datetime

    @property
    def scored(self) -> bool:
        """False when the evaluator left the span unscored (a failed judge, no budget)."""
        return self.passed is not None


def span_scores(ws: Workspace, span_row_ids: Iterable[int]) -> dict[int, list[SpanScoreView]]:
    """The online scores of these spans (span.id), by span id, oldest first; a span
    without scores is absent from the answer."""
    ids = sorted(set(span_row_ids))
    out: dict[int, list[SpanScoreView]] = {}
    with db.session(ws) as s:
        for i in range(0, len(ids), _CHUNK):
            rows = s.exec(
                select(SpanScore)
                .where(col(SpanScore.span_row_id).in_(ids[i : i + _CHUNK]))
                .order_by(col(SpanScore.id))
            ).all()
            for r in rows:
                out.setdefault(r.span_row_id, []).append(
                    SpanScoreView(
                        span_row_id=r.span_row_id,
                        suite=r.suite,
                        evaluator=r.evaluator,
                        passed=r.passed,
                        score=r.score,
                        reason=r.reason,
                        judge_cost_usd=r.judge_cost_usd,
                        created_at=r.created_at,
                    )
                )
    return out


__all__ = ["SpanScoreView", "span_scores"]
