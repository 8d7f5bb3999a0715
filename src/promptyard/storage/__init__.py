"""The database: SQLModel tables, the engine and sessions, named migrations, the one write path.

`db.write(ws, fn)` is the one way to change rows (one transaction, BEGIN IMMEDIATE on
SQLite); `db.session(ws)` reads. Never call a model inside either.
"""

from promptyard.storage.db import (
    BUSY_TIMEOUT_MS,
    StorageError,
    applied_migrations,
    dispose_engines,
    get_engine,
    migrate,
    session,
    write,
)
from promptyard.storage.migrations import MIGRATIONS
from promptyard.storage.score_generation import bump_score_generation
from promptyard.storage.tables import (
    ALL_TABLES,
    Cell,
    CellStatus,
    Job,
    JobStatus,
    LabelingSession,
    PairwiseVote,
    Rating,
    Run,
    RunKind,
    RunStatus,
    Score,
    Span,
    TraceFeedback,
    Variant,
    VariantRatingStats,
    VariantStats,
    utcnow,
)
from promptyard.storage.tables_online import OnlineCursor, SpanScore
from promptyard.storage.tables_score_stats import ScoreGeneration, VariantScoreStats
from promptyard.storage.tables_team import SessionAssignment
from promptyard.storage.tables_traces import PromptLink, SpanKind, SpanStatus

__all__ = [
    "ALL_TABLES",
    "BUSY_TIMEOUT_MS",
    "MIGRATIONS",
    "OnlineCursor",
    "Cell",
    "CellStatus",
    "Job",
    "JobStatus",
    "LabelingSession",
    "PairwiseVote",
    "PromptLink",
    "Rating",
    "Run",
    "RunKind",
    "RunStatus",
    "Score",
    "SessionAssignment",
    "Span",
    "SpanScore",
    "SpanKind",
    "SpanStatus",
    "StorageError",
    "TraceFeedback",
    "Variant",
    "VariantRatingStats",
    "VariantScoreStats",
    "ScoreGeneration",
    "bump_score_generation",
    "VariantStats",
    "applied_migrations",
    "dispose_engines",
    "get_engine",
    "migrate",
    "session",
    "utcnow",
    "write",
]
