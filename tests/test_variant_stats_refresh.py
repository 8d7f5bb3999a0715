"""The summaries a run stores when it ends (reading.variant_stats, no pandas) are the ones
the dashboard computes from the cells, and the dashboard takes them as they are."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import text

from promptyard.reading import analytics
from promptyard.reading.analytics import ALL_KINDS, Filters
from promptyard.reading.variant_stats import STATS_COLUMNS, refresh_variant_stats
from promptyard.storage import db
from tests.dashboard_seed import seed_small


def _stored(ws: Any) -> dict[int, dict[str, Any]]:
    with db.get_engine(ws).connect() as conn:
        rows = conn.execute(text("SELECT * FROM variant_stats ORDER BY variant_id")).mappings()
        return {int(r["variant_id"]): dict(r) for r in rows}


def _same(a: Any, b: Any) -> bool:
    def unknown(x: Any) -> bool:
        return x is None or (isinstance(x, float) and math.isnan(x))

    if unknown(a) or unknown(b):
        return unknown(a) and unknown(b)
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-12)


def test_a_refreshed_summary_is_the_dashboards_own_and_is_read_as_fresh(
    empty_workspace: Any,
) -> None:
    ws = empty_workspace
    seeded = seed_small(ws)
    for run_id in (seeded.run1, seeded.run2, seeded.playground):
        refresh_variant_stats(ws, run_id)
    stored = _stored(ws)
    # Finished runs are stored; the playground run never finished, so it is not.
    assert sorted(stored) == sorted([seeded.v1, seeded.v2, seeded.v3, seeded.v4])
    computed = analytics.compute_variant_stats(db.get_engine(ws), sorted(stored))
    for record in computed.to_dict("records"):
        row = stored[int(record["variant_id"])]
        for column in STATS_COLUMNS:
            assert _same(row[column], record[column]), (record["variant_id"], column)
    assert stored[seeded.v1]["n_ok"] == 4 and stored[seeded.v1]["n_error"] == 1
    assert stored[seeded.v1]["latency_p50"] == 200.0

    # The dashboard reads them back without computing them again (nothing is rewritten).
    stamps = {v: r["computed_at"] for v, r in stored.items()}
    analytics.variant_rows(ws, Filters(kinds=ALL_KINDS))
    assert {v: r["computed_at"] for v, r in _stored(ws).items()} == stamps
    board = analytics.leaderboard(ws)
    assert set(board["model"]) == {"sim-fast", "sim-smart"}
