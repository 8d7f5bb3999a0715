"""The database: SQLModel tables, the engine and sessions, named migrations, the one write path.

`db.write(ws, fn)` is the one way to change rows (one transaction, BEGIN IMMEDIATE on
SQLite); `db.session(ws)` reads. Never call a model inside either.

The names are imported from their modules on first use (PEP 562): a plan names its kind
(`storage.kinds`) before SQLAlchemy is loaded, so a run's first calls need not wait for it.
"""

import pkgutil
from typing import TYPE_CHECKING

from promptyard.lazy_names import lazy_face

_HOMES = {
    **dict.fromkeys(
        [
            "BUSY_TIMEOUT_MS",
            "StorageError",
            "applied_migrations",
            "dispose_engines",
            "get_engine",
            "migrate",
            "session",
            "write",
        ],
        "promptyard.storage.db",
    ),
    **dict.fromkeys(["MIGRATIONS"], "promptyard.storage.migrations"),
    **dict.fromkeys(["bump_score_generation"], "promptyard.storage.score_generation"),
    **dict.fromkeys(
        [
            "ALL_TABLES",
            "Cell",
            "Job",
            "LabelingSession",
            "PairwiseVote",
            "Rating",
            "Run",
            "Score",
            "Span",
            "TraceFeedback",
            "Variant",
            "VariantRatingStats",
            "VariantStats",
            "utcnow",
        ],
        "promptyard.storage.tables",
    ),
    **dict.fromkeys(["OnlineCursor", "SpanScore"], "promptyard.storage.tables_online"),
    **dict.fromkeys(
        ["ScoreGeneration", "VariantScoreStats"], "promptyard.storage.tables_score_stats"
    ),
    **dict.fromkeys(["SessionAssignment"], "promptyard.storage.tables_team"),
    **dict.fromkeys(["PromptLink", "SpanKind", "SpanStatus"], "promptyard.storage.tables_traces"),
    **dict.fromkeys(
        ["CellStatus", "JobStatus", "RunKind", "RunStatus"], "promptyard.storage.kinds"
    ),
}

if TYPE_CHECKING:
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
    from promptyard.storage.kinds import (
        CellStatus,
        JobStatus,
        RunKind,
        RunStatus,
    )
    from promptyard.storage.migrations import (
        MIGRATIONS,
    )
    from promptyard.storage.score_generation import (
        bump_score_generation,
    )
    from promptyard.storage.tables import (
        ALL_TABLES,
        Cell,
        Job,
        LabelingSession,
        PairwiseVote,
        Rating,
        Run,
        Score,
        Span,
        TraceFeedback,
        Variant,
        VariantRatingStats,
        VariantStats,
        utcnow,
    )
    from promptyard.storage.tables_online import (
        OnlineCursor,
        SpanScore,
    )
    from promptyard.storage.tables_score_stats import (
        ScoreGeneration,
        VariantScoreStats,
    )
    from promptyard.storage.tables_team import (
        SessionAssignment,
    )
    from promptyard.storage.tables_traces import (
        PromptLink,
        SpanKind,
        SpanStatus,
    )

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

# Submodules by attribute too (`storage.db`), as when this face imported them all.
_SUBMODULES = [m.name for m in pkgutil.iter_modules(__path__)]

__getattr__, __dir__ = lazy_face(__name__, _HOMES, __all__, _SUBMODULES)
