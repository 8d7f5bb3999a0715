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
from promptyard.stats import nearest_rank
from promptyard.storage import db
from promptyard.workspace import Workspace

ROW_SCORE = "row"  # the Score.name of a suite's per-cell verdict (evals writes it)


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
    base = _query(
        ws,
        "SELECT c.variant_id, COUNT(*), SUM(CASE WHEN c.status = 'error' THEN 1 ELSE 0 END),"
        # a cell served from the cache cost this run nothing
        " SUM(CASE WHEN c.cached THEN 0 WHEN c.cost_usd IS NOT NULL THEN c.cost_usd ELSE 0 END),"
        " SUM(CASE WHEN c.cached OR c.cost_usd IS NOT NULL THEN 1 ELSE 0 END)"
        " FROM cell c WHERE c.run_id IN :runs GROUP BY c.variant_id",
        run_ids,
    )
    verdicts = _query(
        ws,
        "SELECT c.variant_id, COUNT(*), SUM(CASE WHEN v.failed = 0 THEN 1 ELSE 0 END) FROM ("
        " SELECT s.cell_id AS cell_id,"
        " SUM(CASE WHEN s.passed THEN 0 ELSE 1 END) AS failed"
        " FROM score s WHERE s.run_id IN :runs AND s.name = :row AND s.evaluator = 'suite'"
        " GROUP BY s.cell_id) AS v JOIN cell c ON c.id = v.cell_id GROUP BY c.variant_id",
        run_ids,
        row=ROW_SCORE,
    )
    latencies = _query(
        ws,
        "SELECT c.variant_id, c.latency_ms FROM cell c WHERE c.run_id IN :runs"
        " AND c.latency_ms IS NOT NULL AND c.status = 'ok' AND NOT c.cached"
        " ORDER BY c.variant_id, c.latency_ms",
        run_ids,
    )
    by_variant: dict[int, list[float]] = defaultdict(list)
    for variant_id, ms in latencies:
        by_variant[int(variant_id)].append(float(ms))
    passed = {int(v): (int(n), int(p or 0)) for v, n, p in verdicts}
    ratings = _rating_means(ws, run_ids, scheme) if scheme is not None else {}
    order = _query(
        ws,
        "SELECT id FROM variant WHERE run_id IN :runs ORDER BY run_id, position",
        run_ids,
    )
    stats = {int(v): (int(n), int(e or 0), float(c or 0), int(k or 0)) for v, n, e, c, k in base}
    out = []
    for (variant_id,) in order:
        vid = int(variant_id)
        cells, errors, cost, known = stats.get(vid, (0, 0, 0.0, 0))
        lat = by_variant.get(vid, [])
        scored, ok = passed.get(vid, (0, 0))
        mean, count = ratings.get(vid, (None, 0))
        out.append(
            ColumnSummary(
                variant_id=vid,
                cells=cells,
                errors=errors,
                scored=scored,
                passed=ok,
                p50_latency_ms=lat[nearest_rank(50, len(lat)) - 1] if lat else None,
                cost_usd=cost if known else None,
                rating_mean=mean,
                rating_count=count,
                scheme=scheme,
            )
        )
    return out
