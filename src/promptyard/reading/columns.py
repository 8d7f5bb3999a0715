"""Per-column summaries of the Compare grid: what promptfoo's results table shows in its
header (pass rate, the mean of a score, latency, cost, errors), one SQL pass per figure.

A figure that does not exist is None (the page shows "—"): no scored cell, no rating, no
known latency or cost. Never zero for unknown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, text

from promptyard.ratings import RatingScheme
from promptyard.reading.cell_counts import live_p50_ms, variant_counts
from promptyard.reading.score_stats import variant_verdicts
from promptyard.storage import db
from promptyard.workspace import Workspace


@dataclass(frozen=True)
class ColumnSummary:
    """One grid column (a variant) summed up over all its cells, not just this page."""

    variant_id: int
    cells: int
    errors: int
    scored: int  # cells with at least one suite verdict (the default checks give every one)
    passed: int  # scored cells that passed every suite that scored them
    p50_latency_ms: float | None  # of the calls made (cached cells waited for none)
    cost_usd: float | None  # this run's spend (cached cells: 0); None when none is known
    rating_mean: float | None  # on the scheme's own scale (thumbs: the share of 👍)
    rating_count: int
    scheme: RatingScheme | None

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.scored if self.scored else None

    def rating_text(self) -> str | None:
        """`3.7 / 5` for a numeric scheme, `75% 👍` for thumbs, None without ratings."""
        if self.rating_mean is None or self.scheme is None:
            return None
        if self.scheme.kind == "boolean":
            return f"{self.rating_mean:.0%} 👍"
        if self.scheme.kind == "numeric" and self.scheme.max is not None:
            top = self.scheme.max
            return f"{self.rating_mean:.1f} / {int(top) if float(top).is_integer() else top}"
        return f"{self.rating_mean:.2f} (0–1)"


def _query(ws: Workspace, sql: str, run_ids: Sequence[int], **params: object) -> list[tuple]:
    statement = text(sql).bindparams(bindparam("runs", expanding=True))
    with db.session(ws) as s:
        return [
            tuple(r) for r in s.connection().execute(statement, {"runs": list(run_ids), **params})
        ]


def _rating_means(
    ws: Workspace, run_ids: Sequence[int], scheme: RatingScheme
) -> dict[int, tuple[float, int]]:
    """Per variant: the mean rating in force under `scheme`, on its own scale, and how many."""
    column = "r.score" if scheme.kind not in ("numeric",) else "r.value_json"
    rows = _query(
        ws,
        f"SELECT c.variant_id, {column} FROM rating r JOIN cell c ON c.id = r.cell_id"
        " WHERE c.run_id IN :runs AND r.scheme = :scheme AND r.superseded_by IS NULL",
        run_ids,
        scheme=scheme.name,
    )
    values: dict[int, list[float]] = defaultdict(list)
    for variant_id, value in rows:
        try:
            number = float(value) if value is not None else None
        except (TypeError, ValueError):
            number = None
        if number is not None:
            values[int(variant_id)].append(number)
    return {v: (sum(xs) / len(xs), len(xs)) for v, xs in values.items() if xs}


def column_summaries(
    ws: Workspace, run_ids: Sequence[int], scheme: RatingScheme | None = None
) -> list[ColumnSummary]:
    """Per variant of the runs (in the grid's column order): cells, errors, pass rate over
    the suites that scored it, p50 latency, total cost, and the mean rating under `scheme`."""
    order = _query(
        ws,
        "SELECT id FROM variant WHERE run_id IN :runs ORDER BY run_id, position",
        run_ids,
    )
    variant_ids = [int(v) for (v,) in order]
    # Counts, cost and the median along the cell indexes: a million cells in a blink.
    with db.session(ws) as s:
        conn = s.connection()
        counts = variant_counts(conn, variant_ids)
        p50 = {v: live_p50_ms(conn, v) for v in variant_ids}
    passed = variant_verdicts(ws, run_ids)
    ratings = _rating_means(ws, run_ids, scheme) if scheme is not None else {}
    out = []
    for vid in variant_ids:
        c = counts[vid]
        scored, ok = passed.get(vid, (0, 0))
        mean, count = ratings.get(vid, (None, 0))
        out.append(
            ColumnSummary(
                variant_id=vid,
                cells=c.cells,
                errors=c.errors,
                scored=scored,
                passed=ok,
                p50_latency_ms=p50[vid],
                cost_usd=c.cost_usd if c.cost_known else None,
                rating_mean=mean,
                rating_count=count,
                scheme=scheme,
            )
        )
    return out
