"""The generation of a run's scores: bumped by each writer, read by kept sums."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import text

_BUMP = text(
    "INSERT INTO score_generation (run_id, generation) VALUES (:r, 1)"
    " ON CONFLICT (run_id) DO UPDATE SET generation = score_generation.generation + 1"
)


def bump_score_generation(s: Any, run_ids: Iterable[int]) -> None:
    """Mark the runs' scores changed, inside the writer's own transaction (`s`: a Session
    or Connection), so sums kept from the old scores are summed again."""
    for run_id in sorted({int(r) for r in run_ids}):
        s.execute(_BUMP, {"r": run_id})
