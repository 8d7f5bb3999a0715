"""The per-variant summaries the dashboard adds up instead of reading every cell.

`variant_stats` holds, per variant of a run, its cells, tokens, cost, latency count, sum,
nearest-rank percentiles and a latency sample; a summary is valid while its run's id,
status and finished_at are unchanged (the engine refreshes it when a run ends; the
dashboard computes stale ones lazily; running runs are counted live).
`variant_rating_stats` holds current human ratings per run, variant and scheme,
recomputed when the run's ratings change. The numbers are the same as computed from the
cells directly.

The SQL keeps to what SQLite and PostgreSQL both run: each percentile is picked by the
database with ORDER BY latency LIMIT 1 OFFSET rank - 1 along an index (no percentile_cont,
which SQLite lacks).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Engine, bindparam, text

from promptyard.reading.analytics.filters import Filters, _engine, _fv_cte, _query

# Computed and stored without pandas (the engine's refresh); read back here as DataFrames.
from promptyard.reading.variant_stats import COUNT_COLUMNS as _COUNT_COLUMNS
from promptyard.reading.variant_stats import STATS_COLUMNS as _STATS_COLUMNS
from promptyard.reading.variant_stats import STORED_SAMPLE_CAP as STORED_SAMPLE_CAP
from promptyard.reading.variant_stats import TERMINAL_STATUSES as TERMINAL_STATUSES
from promptyard.reading.variant_stats import refresh_variant_stats as refresh_variant_stats
from promptyard.reading.variant_stats import replace_stored as _replace_stored
from promptyard.reading.variant_stats import signature as _signature
from promptyard.reading.variant_stats import stats_records, store_stats
from promptyard.stats import nearest_rank as nearest_rank
from promptyard.workspace import Workspace

__all__ = [
    "STORED_SAMPLE_CAP",
    "TERMINAL_STATUSES",
    "compute_variant_stats",
    "nearest_rank",
    "refresh_variant_stats",
    "variant_rows",
]


def variant_rows(ws: Workspace | str, filters: Filters | None = None) -> pd.DataFrame:
    """One row per variant the filters select: KEY, run_id, variant_id and its summary.

    A summary is read from `variant_stats` while its signature still matches the run
    (a finished run's cells change only when it is run again, which refinishes it).
    Missing or stale summaries are computed from the cells; those of finished runs are
    stored for next time, those of running runs are not (they change as cells finish).
    """
    engine = _engine(ws)
    cte, params, binds = _fv_cte(filters or Filters())
    stored = ", ".join(f"vs.{c}" for c in _STATS_COLUMNS)
    sql = f"""WITH {cte}
    SELECT fv.variant_id, fv.run_id, fv.prompt_name, fv.prompt_version, fv.model,
        r.status AS run_status, r.finished_at AS run_finished_at,
        vs.signature AS stored_signature, {stored}
    FROM fv JOIN run r ON r.id = fv.run_id
    LEFT JOIN variant_stats vs ON vs.variant_id = fv.variant_id
    ORDER BY fv.variant_id"""
    rows = _query(engine, sql, params, binds)
    if rows.empty:
        return rows.drop(columns=["run_status", "run_finished_at", "stored_signature"])
    signatures = [
        _signature(r, s, f)
        for r, s, f in zip(rows["run_id"], rows["run_status"], rows["run_finished_at"], strict=True)
    ]
    fresh = (rows["stored_signature"] == pd.Series(signatures, index=rows.index)) & rows[
        "run_status"
    ].isin(TERMINAL_STATUSES)
    stale = rows[~fresh]
    if not stale.empty:
        ids = [int(v) for v in stale["variant_id"]]
        computed = compute_variant_stats(engine, ids).set_index("variant_id")
        idx = rows.index[~fresh]
        for col in _STATS_COLUMNS:
            rows[col] = rows[col].astype(object)
            fill: list[Any] = [computed.at[int(v), col] for v in stale["variant_id"]]
            rows.loc[idx, col] = pd.Series(fill, index=idx, dtype=object)
        done = stale[stale["run_status"].isin(TERMINAL_STATUSES)]
        if not done.empty:
            sig = dict(zip(rows["variant_id"], signatures, strict=True))
            _store_stats(
                ws,
                computed.loc[[int(v) for v in done["variant_id"]]].reset_index(),
                {
                    int(v): (int(r), sig[v])
                    for v, r in zip(done["variant_id"], done["run_id"], strict=True)
                },
            )
    for col in _COUNT_COLUMNS:
        rows[col] = rows[col].fillna(0).astype(int)
    for col in _STATS_COLUMNS:
        if col not in _COUNT_COLUMNS and col != "latency_sample_json":
            rows[col] = pd.to_numeric(rows[col], errors="coerce").astype(float)
    rows["prompt_version"] = rows["prompt_version"].astype(int)
    return rows.drop(columns=["run_status", "run_finished_at", "stored_signature"])


def compute_variant_stats(engine: Engine, variant_ids: list[int]) -> pd.DataFrame:
    """The summaries of some variants computed from their cells (columns: variant_id and
    the variant_stats columns): sums over ix_cell_stats, latency count and sum over
    ix_cell_latency, each nearest-rank percentile an index walk, and a sample."""
    frames = []
    for start in range(0, len(variant_ids), 500):
        chunk = variant_ids[start : start + 500]
        frames.append(_compute_chunk(engine, chunk))
    if not frames:
        return pd.DataFrame(columns=["variant_id", *_STATS_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def _compute_chunk(engine: Engine, ids: list[int]) -> pd.DataFrame:
    return pd.DataFrame(stats_records(engine, ids), columns=["variant_id", *_STATS_COLUMNS])


def _store_stats(
    ws: Workspace | str, computed: pd.DataFrame, runs: dict[int, tuple[int, str]]
) -> None:
    """Save summaries (best effort: a busy or read-only database just means no cache)."""
    store_stats(ws, computed.to_dict("records"), runs)  # type: ignore[arg-type]


def _rating_signatures(engine: Engine, run_ids: list[int]) -> dict[int, str]:
    if not run_ids:
        return {}
    stmt = text(
        "SELECT run_id, COUNT(*), MAX(id) FROM rating WHERE run_id IN :runs GROUP BY run_id"
    ).bindparams(bindparam("runs", expanding=True))
    with engine.connect() as conn:
        found = {int(r): f"{n}|{m}" for r, n, m in conn.execute(stmt, {"runs": run_ids})}
    return {r: found.get(r, "0|None") for r in run_ids}


_RATING_SUMS = ["n_rated", "n_ratings", "score_sum", "score_sum_sq"]


def _rating_rows(ws: Workspace | str, run_ids: list[int], scheme: str) -> pd.DataFrame:
    """Per (run, variant): current human ratings of one scheme ('*' = all) summed:
    n_rated, n_ratings, score_sum, score_sum_sq of each rated cell's mean score.

    Read from `variant_rating_stats` for runs whose rating signature (count, max id) is
    unchanged; recomputed (and stored, best effort) for the others. A new or changed
    rating is a new row, so it always changes its run's signature.
    """
    engine = _engine(ws)
    columns = ["run_id", "variant_id", "scheme", *_RATING_SUMS]
    current = _rating_signatures(engine, run_ids)
    if not current:
        return pd.DataFrame(columns=columns)
    runs_bind: list[Any] = [bindparam("runs", expanding=True)]
    stored = _query(
        engine,
        "SELECT run_id, signature FROM variant_rating_stats"
        " WHERE variant_id = 0 AND run_id IN :runs",
        {"runs": run_ids},
        runs_bind,
    )
    known = dict(zip(stored["run_id"].astype(int), stored["signature"].astype(str), strict=True))
    stale = [r for r in run_ids if known.get(r) != current[r]]
    fresh = [r for r in run_ids if known.get(r) == current[r]]
    parts = []
    if fresh:
        parts.append(
            _query(
                engine,
                f"""SELECT {", ".join(columns)} FROM variant_rating_stats
                WHERE run_id IN :runs AND variant_id <> 0 AND scheme = :scheme""",
                {"runs": fresh, "scheme": scheme},
                runs_bind,
            )
        )
    if stale:
        per_cell = """SELECT ra.cell_id, {scheme} AS scheme, AVG(ra.score) AS s, COUNT(*) AS k
            FROM rating ra
            WHERE ra.superseded_by IS NULL AND ra.score IS NOT NULL AND ra.run_id IN :runs
            GROUP BY ra.cell_id{group}"""
        sql = f"""WITH per_cell AS (
            {per_cell.format(scheme="ra.scheme", group=", ra.scheme")}
            UNION ALL
            {per_cell.format(scheme="'*'", group="")}
        )
        SELECT c.run_id, c.variant_id, pc.scheme, COUNT(*) AS n_rated, SUM(pc.k) AS n_ratings,
            SUM(pc.s) AS score_sum, SUM(pc.s * pc.s) AS score_sum_sq
        FROM per_cell pc JOIN cell c ON c.id = pc.cell_id
        GROUP BY c.run_id, c.variant_id, pc.scheme"""
        computed = _query(engine, sql, {"runs": stale}, runs_bind)
        _store_rating_stats(ws, computed, {r: current[r] for r in stale})
        parts.append(computed[computed["scheme"] == scheme])
    df = pd.concat([p for p in parts if not p.empty] or [pd.DataFrame(columns=columns)])
    return df[columns].reset_index(drop=True)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return df.to_dict("records")  # type: ignore[return-value]


def _store_rating_stats(ws: Workspace | str, computed: pd.DataFrame, runs: dict[int, str]) -> None:
    records: list[dict[str, Any]] = [
        {
            "run_id": int(r["run_id"]),
            "variant_id": int(r["variant_id"]),
            "scheme": str(r["scheme"]),
            "signature": runs[int(r["run_id"])],
            "n_rated": int(r["n_rated"]),
            "n_ratings": int(r["n_ratings"]),
            "score_sum": float(r["score_sum"]),
            "score_sum_sq": float(r["score_sum_sq"]),
        }
        for r in _records(computed)
    ]
    records += [
        {"run_id": r, "variant_id": 0, "scheme": "", "signature": sig, "n_rated": 0,
         "n_ratings": 0, "score_sum": 0.0, "score_sum_sq": 0.0}
        for r, sig in runs.items()
    ]  # fmt: skip
    _replace_stored(ws, "variant_rating_stats", "run_id", records, list(runs))
