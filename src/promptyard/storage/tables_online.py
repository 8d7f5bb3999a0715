"""SQLModel tables of online evaluation (m014): a suite's scores of live spans, its cursor.

Kept apart from tables.py (which re-exports them in ALL_TABLES) so each module stays short.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from promptyard.storage.clock import utcnow


class SpanScore(SQLModel, table=True):
    """One evaluator's verdict on one received LLM span, beside the span like a run's Score.

    passed/score None with a reason means the span was left unscored (a failing judge, a
    budget that ran out). judge_cost_usd is an LLM judge's cost: the estimate reserved
    before the call, replaced by the actual cost after it.
    """

    __tablename__ = "span_score"

    id: int | None = Field(default=None, primary_key=True)
    span_row_id: int = Field(index=True)  # span.id
    trace_id: str
    span_id: str
    suite: str
    evaluator: str  # the assertion type, or its name when it has one
    passed: bool | None = None
    score: float | None = None
    reason: str | None = None
    judge_cost_usd: float | None = None
    created_at: datetime = Field(default_factory=utcnow)


class OnlineCursor(SQLModel, table=True):
    """How far an online suite has read the span table: every span up to this id is done."""

    __tablename__ = "online_cursor"

    suite: str = Field(primary_key=True)
    last_span_row_id: int = 0
