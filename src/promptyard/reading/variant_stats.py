"""The per-variant summaries in `variant_stats`, computed from the cells and stored, with
no pandas: the engine refreshes a run's summaries this way when the run ends.

`reading.analytics.summaries` reads them back for the dashboard (as DataFrames) and
computes stale ones with the same functions, so the numbers are the same either way.
Each percentile is picked by the database with ORDER BY latency LIMIT 1 OFFSET rank - 1
along an index (SQLite has no percentile_cont).
"""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Engine, bindparam, text
from sqlalchemy.exc import SQLAlchemyError

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
STATS_COLUMNS = [
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
COUNT_COLUMNS = [c for c in STATS_COLUMNS if c.startswith("n_")]
LIVE_OK = "c.status = 'ok' AND c.cached = :no AND c.latency_ms IS NOT NULL"


def signature(run_id: Any, status: Any, finished_at: Any) -> str:
    """What a variant's summary was computed against: its run's id, status and finish."""
    return f"{int(run_id)}|{status}|{finished_at}"


def _rows(engine: Engine, stmt: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    # PostgreSQL returns SUM and friends as Decimal; the dashboard works in floats.
    with engine.connect() as conn:
        result = conn.execute(stmt, params)
        keys = list(result.keys())
        return [
            {k: float(v) if isinstance(v, Decimal) else v for k, v in zip(keys, row, strict=True)}
            for row in result.fetchall()
        ]


def stats_records(engine: Engine, ids: list[int]) -> list[dict[str, Any]]:
    """The summaries of some variants (at most a few hundred) from their cells: one dict
    per id with variant_id and the variant_stats columns (counts 0, unknowns None)."""
    from promptyard.stats import nearest_rank  # here: promptyard.stats loads numpy

    ok = "CASE WHEN c.status = 'ok' THEN {} END"
    cells_sql = text(f"""SELECT c.variant_id,
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
    GROUP BY c.variant_id""").bindparams(bindparam("ids", expanding=True))
    latency_sql = text(
        f"""SELECT c.variant_id, COUNT(*) AS n_latency, SUM(c.latency_ms) AS latency_sum
    FROM cell c WHERE {LIVE_OK} AND c.variant_id IN :ids GROUP BY c.variant_id"""
    ).bindparams(bindparam("ids", expanding=True))
    cells = {int(r["variant_id"]): r for r in _rows(engine, cells_sql, {"ids": ids})}
    latency = {
        int(r["variant_id"]): r for r in _rows(engine, latency_sql, {"ids": ids, "no": False})
    }
    # Every k-th cell by id per variant, k = ceil(n / STORED_SAMPLE_CAP): one query per k.
    # (No ORDER BY: SQLite would then walk the wide table instead of ix_cell_latency.)
    sample_stmt = text(
        f"""SELECT c.variant_id, c.id, c.latency_ms FROM cell c
        WHERE {LIVE_OK} AND c.variant_id IN :ids AND c.id % :step = 0"""
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
            for col in STATS_COLUMNS[:9]:
                value = cells[vid][col] if vid in cells else None
                row[col] = int(value or 0) if col in COUNT_COLUMNS else value
            n = int(latency[vid]["n_latency"]) if vid in latency else 0
            row["n_latency"] = n
            row["latency_sum"] = float(latency[vid]["latency_sum"]) if n else None
            for p in (50, 95, 99):
                found: float | None = None
                if n:
                    rank = nearest_rank(p, n)
                    descending = rank > n // 2
                    offset = n - rank if descending else rank - 1
                    found = nth_latency(conn, [vid], offset, descending)
                row[f"latency_p{p}"] = None if found is None or math.isnan(found) else found
            sample = [ms for _, ms in sorted(picked.get(vid, []))]
            row["latency_sample_json"] = json.dumps(sample)
            out.append(row)
    return out


def nth_latency(
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
        WHERE {LIVE_OK} AND c.variant_id IN :ids {within}
        ORDER BY c.latency_ms {order} LIMIT 1 OFFSET :offset"""
    ).bindparams(bindparam("ids", expanding=True))
    params: dict[str, Any] = {"no": False, "ids": variant_ids, "offset": offset}
    if band:
        params["lo"], params["hi"] = band
    value = conn.execute(stmt, params).scalar()
    return float(value) if value is not None else math.nan


def plain(value: Any) -> Any:
    """A value a database driver takes: numpy scalars to Python, NaN to NULL."""
    if value is None:
        return None
    if type(value).__module__ == "numpy":  # checked by name: numpy need not be loaded
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def store_stats(
    ws: Workspace | str, computed: list[dict[str, Any]], runs: dict[int, tuple[int, str]]
) -> None:
    """Save summaries (`stats_records`) with their run id and signature, by variant id.
    Best effort: a busy or read-only database just means no cache."""
    now = datetime.now(UTC).replace(tzinfo=None)
    records = []
    for rec in computed:
        vid = int(rec["variant_id"])
        values = {c: plain(rec[c]) for c in STATS_COLUMNS}
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
        replace_stored(
            ws, "variant_stats", "variant_id", records, [r["variant_id"] for r in records]
        )


def replace_stored(
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


def refresh_variant_stats(ws: Workspace | str, run_id: int) -> None:
    """Recompute and store the summaries of one run's variants (the engine calls this
    when a run finishes). Best effort: a failure leaves the dashboard to compute them."""
    try:
        engine = db.get_engine(ws)
        found = _rows(
            engine,
            text(
                """SELECT v.id AS variant_id, r.status, r.finished_at FROM variant v
                JOIN run r ON r.id = v.run_id WHERE v.run_id = :run ORDER BY v.id"""
            ),
            {"run": int(run_id)},
        )
        # Only a finished run's summary is kept: a running one changes as cells finish.
        done = [r for r in found if r["status"] in TERMINAL_STATUSES]
        runs = {
            int(r["variant_id"]): (int(run_id), signature(run_id, r["status"], r["finished_at"]))
            for r in done
        }
        ids = list(runs)
        for start in range(0, len(ids), 500):
            store_stats(ws, stats_records(engine, ids[start : start + 500]), runs)
    except Exception:  # noqa: BLE001 - the run is done; its summary can wait
        log.warning("summaries of run %s not refreshed", run_id, exc_info=True)
