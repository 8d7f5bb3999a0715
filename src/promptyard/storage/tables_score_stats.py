"""SQLModel table of the kept score aggregates (m026), kept apart from tables.py (which
re-exports it in ALL_TABLES) so each module stays short."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class VariantScoreStats(SQLModel, table=True):
    """Scores of one variant of a run summed per suite, evaluator and name (what the
    Compare page's suite results and header show), valid while `signature` is the run's
    score generation (ScoreGeneration).

    Two kinds of row are special: variant_id 0 holds the run's signature, and suite `*`
    (evaluator `suite`, name `row`) counts the cells that passed every suite that scored
    them, which no per-suite sum can give.
    """

    __tablename__ = "variant_score_stats"

    run_id: int = Field(primary_key=True)
    variant_id: int = Field(primary_key=True)
    suite: str = Field(primary_key=True)
    evaluator: str = Field(primary_key=True)
    name: str = Field(primary_key=True)
    verdict: int = Field(primary_key=True)  # 1: scores with a pass/fail, 0: bare values
    signature: str
    n: int = 0
    n_passed: int = 0
    value_sum: float = 0.0
    value_n: int = 0
    judge_cost_usd: float = 0.0


class ScoreGeneration(SQLModel, table=True):
    """How many times a run's scores were written: every writer of scores bumps it in
    the same transaction (storage.bump_score_generation), so kept sums know they are old."""

    __tablename__ = "score_generation"

    run_id: int = Field(primary_key=True)
    generation: int = 0
