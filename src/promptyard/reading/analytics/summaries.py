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

import json
import logging
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import DateTime, Engine, bindparam, text
from sqlalchemy.exc import SQLAlchemyError

from promptyard.reading.analytics.filters import ALL_KINDS, Filters, _engine, _fv_cte, _query
from promptyard.stats import nearest_rank
from promptyard.storage import db
from promptyard.storage.tables import RunStatus
from promptyard.workspace import Workspace

log = logging.getLogger(__name__)

STORED_SAMPLE_CAP = 500
TERMINAL_STATUSES = (
    RunStatus.COMPLETED,
    RunStatus.COMPLETED_WITH_ERRORS,
    RunStatus.CANCELLED,
    RunStatus.FAILED,
)
_STATS_COLUMNS = [
    "n_ok",
    "n_error",
    "prompt_tokens_sum",
    "n_prompt_tokens",
    "completion_tokens_sum",
    "n_completion_tokens",
    "cost_ok_sum",
    "n_cost_ok",
    "cost_sum",
    "n_latency",
    "latency_sum",
    "latency_p50",
    "latency_p95",
    "latency_p99",
    "latency_sample_json",
]
_COUNT_COLUMNS = [c for c in _STATS_COLUMNS if c.startswith("n_")]


def _signature(run_id: Any, status: Any, finished_at: Any) -> str:
    """What a variant's summary was computed against: its run's id, status and finish."""
    return f"{int(run_id)}|{status}|{finished_at}"


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
    ok = "CASE WHEN c.status = 'ok' THEN {} END"
    cells_sql = f"""SELECT c.variant_id,
        SUM(CASE WHEN c.status = 'ok' THEN 1 ELSE 0 END) AS n_ok,
        SUM(CASE WHEN c.status = 'error' THEN 1 ELSE 0 END) AS n_error,
        SUM({ok.format("c.prompt_tokens")}) AS prompt_tokens_sum,
        COUNT({ok.format("c.prompt_tokens")}) AS n_prompt_tokens,
        SUM({ok.format("c.completion_tokens")}) AS completion_tokens_sum,
        COUNT({ok.format("c.completion_tokens")}) AS n_completion_tokens,
        SUM({ok.format("c.cost_usd")}) AS cost_ok_sum,
        COUNT({ok.format("c.cost_usd")}) AS n_cost_ok,
        SUM(c.cost_usd) AS cost_sum
    FROM cell c WHERE c.variant_id IN :ids AND c.status IN ('ok', 'error')
    GROUP BY c.variant_id"""
    latency_sql = f"""SELECT c.variant_id, COUNT(*) AS n_latency, SUM(c.latency_ms) AS latency_sum
    FROM cell c WHERE {_LIVE_OK} AND c.variant_id IN :ids GROUP BY c.variant_id"""
    ids_bind: list[Any] = [bindparam("ids", expanding=True)]
    cells = {
        int(r["variant_id"]): r
        for r in _query(engine, cells_sql, {"ids": ids}, ids_bind).to_dict("records")
    }
    latency = {
        int(r["variant_id"]): r
        for r in _query(engine, latency_sql, {"ids": ids, "no": False}, ids_bind).to_dict("records")
    }
    # Every k-th cell by id per variant, k = ceil(n / STORED_SAMPLE_CAP): one query per k.
    # (No ORDER BY: SQLite would then walk the wide table instead of ix_cell_latency.)
    sample_stmt = text(
        f"""SELECT c.variant_id, c.id, c.latency_ms FROM cell c
        WHERE {_LIVE_OK} AND c.variant_id IN :ids AND c.id % :step = 0"""
    ).bindparams(bindparam("ids", expanding=True))
    by_step: dict[int, list[int]] = {}
    for vid, r in latency.items():
        by_step.setdefault(max(1, -(-int(r["n_latency"]) // STORED_SAMPLE_CAP)), []).append(vid)
    picked: dict[int, list[tuple[int, float]]] = {}
    with engine.connect() as conn:
        for step, step_ids in by_step.items():
            params = {"no": False, "ids": step_ids, "step": step}
            for vid, cid, ms in conn.execute(sample_stmt, params):
                picked.setdefault(int(vid), []).append((int(cid), float(ms)))
    out: list[dict[str, Any]] = []
    with engine.connect() as conn:
        for vid in ids:
            row: dict[str, Any] = {"variant_id": vid}
            for col in _STATS_COLUMNS[:9]:
                row[col] = cells[vid][col] if vid in cells else None
            n = int(latency[vid]["n_latency"]) if vid in latency else 0
            row["n_latency"] = n
            row["latency_sum"] = float(latency[vid]["latency_sum"]) if n else None
            for p in (50, 95, 99):
                value: float | None = None
                if n:
                    rank = nearest_rank(p, n)
                    descending = rank > n // 2
                    offset = n - rank if descending else rank - 1
                    value = _nth_latency(conn, [vid], offset, descending)
                row[f"latency_p{p}"] = value
            sample = [ms for _, ms in sorted(picked.get(vid, []))]
            row["latency_sample_json"] = json.dumps(sample)
            out.append(row)
    df = pd.DataFrame(out, columns=["variant_id", *_STATS_COLUMNS])
    for col in _COUNT_COLUMNS:
        df[col] = df[col].fillna(0).astype(int)
    return df


def _store_stats(
    ws: Workspace | str, computed: pd.DataFrame, runs: dict[int, tuple[int, str]]
) -> None:
    """Save summaries (best effort: a busy or read-only database just means no cache)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    records = []
    for rec in computed.to_dict("records"):
        vid = int(rec["variant_id"])
        values = {c: _plain(rec[c]) for c in _STATS_COLUMNS}
        records.append(
            {
                "variant_id": vid,
                "run_id": runs[vid][0],
                "signature": runs[vid][1],
                **values,
                "computed_at": now,
            }
        )
    if records:
        _replace_stored(
            ws, "variant_stats", "variant_id", records, [r["variant_id"] for r in records]
        )


def _plain(value: Any) -> Any:
    """A value a database driver takes: numpy scalars to Python, NaN to NULL."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def refresh_variant_stats(ws: Workspace | str, run_id: int) -> None:
    """Recompute and store the summaries of one run's variants (the engine calls this
    when a run finishes). Best effort: a failure leaves the dashboard to compute them."""
    try:
        variant_rows(ws, Filters(run_ids=(int(run_id),), kinds=ALL_KINDS))
    except Exception:  # noqa: BLE001 - the run is done; its summary can wait
        log.warning("summaries of run %s not refreshed", run_id, exc_info=True)


def _replace_stored(
    ws: Workspace | str, table: str, key: str, records: list[dict[str, Any]], keys: list[int]
) -> None:
    """Replace the stored rows of `table` whose `key` is in `keys` by `records`. Best
    effort: a busy or read-only database only means they are computed again next time."""
    columns = list(records[0])
    insert = text(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
    )
    if "computed_at" in columns:
        insert = insert.bindparams(bindparam("computed_at", type_=DateTime()))
    delete = text(f"DELETE FROM {table} WHERE {key} IN :keys").bindparams(
        bindparam("keys", expanding=True)
    )

    def save(s: Any) -> None:
        s.execute(delete, {"keys": keys})
        s.execute(insert, records)

    try:
        db.write(ws, save)
    except SQLAlchemyError as exc:
        log.info("%s not stored (computed again next time): %s", table, exc)


_LIVE_OK = "c.status = 'ok' AND c.cached = :no AND c.latency_ms IS NOT NULL"


def _nth_latency(
    conn: Any,
    variant_ids: list[int],
    offset: int,
    descending: bool,
    band: tuple[float, float] | None = None,
) -> float:
    """The latency at `offset` (0-based) in ascending or descending order, within `band`."""
    order = "DESC" if descending else "ASC"
    within = "AND c.latency_ms >= :lo AND c.latency_ms <= :hi" if band else ""
    stmt = text(
        f"""SELECT c.latency_ms FROM cell c
        WHERE {_LIVE_OK} AND c.variant_id IN :ids {within}
        ORDER BY c.latency_ms {order} LIMIT 1 OFFSET :offset"""
    ).bindparams(bindparam("ids", expanding=True))
    params: dict[str, Any] = {"no": False, "ids": variant_ids, "offset": offset}
    if band:
        params["lo"], params["hi"] = band
    value = conn.execute(stmt, params).scalar()
    return float(value) if value is not None else math.nan


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
