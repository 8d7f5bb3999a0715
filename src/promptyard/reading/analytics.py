"""The dashboard's numbers: every aggregate is computed in SQL and returned as a DataFrame.

A *variant key* is (prompt name, prompt version, model): the unit the dashboard compares.
Cells of the same key in several runs are pooled. Version 0 means an unsaved draft.

The SQL keeps to what SQLite and PostgreSQL both run: percentiles are nearest-rank (the
rank ceil(p * n / 100) is the integer division (p * n + 99) / 100), each picked by the
database with ORDER BY latency LIMIT 1 OFFSET rank - 1 along an index (no percentile_cont,
which SQLite lacks).

For speed the aggregates add up small per-variant summaries rather than reading every cell:
`variant_stats` (cells, tokens, cost, latency count/sum/percentiles and a sample per variant
of a run, valid while the run's id, status and finished_at are unchanged; refreshed by the
engine when a run ends and lazily when stale; running runs are counted live) and
`variant_rating_stats` (current human ratings per run, variant and scheme, recomputed when
the run's ratings change). The numbers are the same as computed from the cells directly.

Definitions (docs/dashboard.md says the same for users):
- n_cells counts finished cells (ok or error); error_rate = errors / finished cells.
- latency percentiles cover successful calls not served from the cache.
- tokens and cost per call are means over successful cells; a cell whose price is
  unknown (cost_usd NULL) is left out of the cost mean, never counted as free.
- the human score is the mean over rated cells of each cell's mean current rating
  (superseded_by IS NULL) in 0..1, with a 95% Student-t interval.
- the pairwise win rate counts a win as 1, a tie or "both bad" as 1/2, a loss as 0 (95%
  Wilson interval); Bradley-Terry strengths come from promptyard.stats.
- the evaluator pass rate is passed / scored over every evaluator score with a verdict.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import DateTime, Engine, bindparam, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import TextClause

from promptyard.stats import mean_interval, wilson_interval
from promptyard.storage import db
from promptyard.workspace import Workspace

KEY = ["prompt_name", "prompt_version", "model"]
DEFAULT_KINDS = ("run", "eval")
LATENCY_SAMPLE_CAP = 1_000
_WORKERS = max(2, min(6, os.cpu_count() or 2))
T = TypeVar("T")

LEADERBOARD_COLUMNS = [
    "label",
    "prompt_name",
    "prompt_version",
    "model",
    "n_runs",
    "n_cells",
    "n_errors",
    "error_rate",
    "quality",
    "quality_low",
    "quality_high",
    "quality_metric",
    "mean_score",
    "score_ci_low",
    "score_ci_high",
    "n_rated",
    "n_ratings",
    "win_rate",
    "win_ci_low",
    "win_ci_high",
    "bt_score",
    "n_votes",
    "pass_rate",
    "pass_ci_low",
    "pass_ci_high",
    "n_scores",
    "latency_p50",
    "latency_p95",
    "latency_p99",
    "latency_mean",
    "n_latency",
    "mean_prompt_tokens",
    "mean_completion_tokens",
    "cost_per_call",
    "cost_per_1k",
    "n_cost_known",
    "total_cost",
    "run_id",
    "variant_id",
]

QUALITY_METRICS = ("human", "evaluator", "win_rate")
METRIC_TITLES = {
    "human": "mean human score",
    "evaluator": "evaluator pass rate",
    "win_rate": "pairwise win rate",
}


@dataclass(frozen=True)
class Filters:
    """What the dashboard looks at. Empty means "everything"."""

    prompt: str | None = None
    dataset: str | None = None
    models: tuple[str, ...] = ()
    run_ids: tuple[int, ...] = ()
    since: date | datetime | None = None  # runs created on or after (a date includes the day)
    until: date | datetime | None = None  # runs created on or before
    scheme: str | None = None  # rating scheme; None pools every scheme with a 0..1 score
    kinds: tuple[str, ...] = field(default=DEFAULT_KINDS)  # run kinds; playground/judge left out


@dataclass(frozen=True)
class FilterOptions:
    """The values the dashboard's filter widgets offer."""

    prompts: list[str]
    datasets: list[str]
    models: list[str]
    schemes: list[str]
    runs: pd.DataFrame  # id, name, created_at, dataset_name, status, kind, n_cells (planned)
    first_date: date | None
    last_date: date | None

    @property
    def empty(self) -> bool:
        return self.runs.empty


# --- SQL building ---------------------------------------------------------------------


def _naive_utc(value: date | datetime, end_of_day: bool) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.combine(value, time.min, tzinfo=UTC)
        if end_of_day:
            moment += timedelta(days=1)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _variant_filter(filters: Filters) -> tuple[str, dict[str, Any], list[Any]]:
    """The WHERE clause over `variant v JOIN run r`, its params and expanding bindparams."""
    where = ["r.kind IN :kinds"]
    params: dict[str, Any] = {"kinds": list(filters.kinds) or list(DEFAULT_KINDS)}
    expanding: list[Any] = [bindparam("kinds", expanding=True)]
    if filters.prompt:
        where.append("v.prompt_name = :prompt")
        params["prompt"] = filters.prompt
    if filters.dataset:
        where.append("r.dataset_name = :dataset")
        params["dataset"] = filters.dataset
    if filters.models:
        where.append("v.model IN :models")
        params["models"] = list(filters.models)
        expanding.append(bindparam("models", expanding=True))
    if filters.run_ids:
        where.append("v.run_id IN :run_ids")
        params["run_ids"] = [int(r) for r in filters.run_ids]
        expanding.append(bindparam("run_ids", expanding=True))
    if filters.since is not None:
        where.append("r.created_at >= :since")
        params["since"] = _naive_utc(filters.since, end_of_day=False)
        expanding.append(bindparam("since", type_=DateTime()))
    if filters.until is not None:
        # A date means the whole day; a datetime is taken as given.
        op = "<" if not isinstance(filters.until, datetime) else "<="
        where.append(f"r.created_at {op} :until")
        params["until"] = _naive_utc(filters.until, end_of_day=True)
        expanding.append(bindparam("until", type_=DateTime()))
    return " AND ".join(where), params, expanding


def _fv_cte(filters: Filters) -> tuple[str, dict[str, Any], list[Any]]:
    where, params, binds = _variant_filter(filters)
    cte = f"""fv AS (
        SELECT v.id AS variant_id, v.run_id AS run_id, v.prompt_name AS prompt_name,
               COALESCE(v.prompt_version, 0) AS prompt_version, v.model AS model
        FROM variant v JOIN run r ON r.id = v.run_id
        WHERE {where}
    )"""
    return cte, params, binds


def _query(engine: Engine, sql: str, params: dict[str, Any], binds: list[Any]) -> pd.DataFrame:
    stmt: TextClause = text(sql)
    names = {b.key for b in binds}
    stmt = stmt.bindparams(*[b for b in binds if b.key in params and b.key in names])
    with engine.connect() as conn:
        result = conn.execute(stmt, params)
        df = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    # PostgreSQL returns AVG and friends as Decimal; the dashboard works in floats.
    for col in df.columns:
        if df[col].dtype == object and df[col].map(lambda x: isinstance(x, Decimal)).any():
            df[col] = df[col].map(lambda x: float(x) if isinstance(x, Decimal) else x)
    return df


def _engine(ws: Workspace | str) -> Engine:
    return db.get_engine(ws)


# --- statistics helpers ---------------------------------------------------------------


def variant_label(prompt_name: str, prompt_version: int, model: str) -> str:
    version = f"v{int(prompt_version)}" if prompt_version else "draft"
    return f"{prompt_name} {version} · {model}"


# --- per-variant summaries (table variant_stats) -----------------------------------------

STORED_SAMPLE_CAP = 500
TERMINAL_STATUSES = ("completed", "cancelled", "failed")
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
    columns = ["variant_id", "run_id", "signature", *_STATS_COLUMNS, "computed_at"]
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
    if not records:
        return
    insert = text(
        f"INSERT INTO variant_stats ({', '.join(columns)})"
        f" VALUES ({', '.join(':' + c for c in columns)})"
    ).bindparams(bindparam("computed_at", type_=DateTime()))
    delete = text("DELETE FROM variant_stats WHERE variant_id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )

    def save(s: Any) -> None:
        s.execute(delete, {"ids": [r["variant_id"] for r in records]})
        s.execute(insert, records)

    try:
        db.write(ws, save)
    except SQLAlchemyError:
        pass


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
        variant_rows(ws, Filters(run_ids=(int(run_id),), kinds=_ALL_KINDS))
    except Exception:  # noqa: BLE001 - the run is done; its summary can wait
        pass


_ALL_KINDS = ("run", "eval", "playground", "judge")


# --- the aggregates -------------------------------------------------------------------


def filtered_variants(ws: Workspace | str, filters: Filters | None = None) -> pd.DataFrame:
    """The variants the filters select: variant_id, run_id, prompt_name, prompt_version, model."""
    cte, params, binds = _fv_cte(filters or Filters())
    sql = f"WITH {cte} SELECT * FROM fv ORDER BY variant_id"
    return _query(_engine(ws), sql, params, binds)


def cell_stats(ws: Workspace | str, filters: Filters | None = None) -> pd.DataFrame:
    """Per variant key: cells, errors, mean tokens, cost per call, total cost.

    Rolled up from the per-variant summaries (`variant_rows`): a few hundred rows, not
    the cells themselves.
    """
    return _cell_stats(variant_rows(ws, filters or Filters()))


def _cell_stats(rows: pd.DataFrame) -> pd.DataFrame:
    columns = [
        *KEY,
        "n_runs",
        "n_cells",
        "n_errors",
        "mean_prompt_tokens",
        "mean_completion_tokens",
        "cost_per_call",
        "n_cost_known",
        "total_cost",
        "variant_id",
    ]
    rows = rows[(rows["n_ok"] + rows["n_error"]) > 0]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    g = rows.groupby(KEY, sort=False)

    def ratio(total: str, count: str) -> pd.Series:
        n = g[count].sum()
        return (g[total].sum(min_count=1) / n.where(n > 0)).astype(float)

    out = pd.DataFrame(
        {
            "n_runs": g["run_id"].nunique(),
            "n_cells": g["n_ok"].sum() + g["n_error"].sum(),
            "n_errors": g["n_error"].sum(),
            "mean_prompt_tokens": ratio("prompt_tokens_sum", "n_prompt_tokens"),
            "mean_completion_tokens": ratio("completion_tokens_sum", "n_completion_tokens"),
            "cost_per_call": ratio("cost_ok_sum", "n_cost_ok"),
            "n_cost_known": g["n_cost_ok"].sum(),
            "total_cost": g["cost_sum"].sum(min_count=1).astype(float),
            "variant_id": g["variant_id"].max(),
        }
    ).reset_index()
    return out[columns]


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


def _count_beyond(conn: Any, variant_ids: list[int], bound: float, above: bool) -> int:
    """How many live ok latencies of these variants lie strictly above (or below) `bound`."""
    op = ">" if above else "<"
    stmt = text(
        f"""SELECT COUNT(*) FROM cell c
        WHERE {_LIVE_OK} AND c.variant_id IN :ids AND c.latency_ms {op} :bound"""
    ).bindparams(bindparam("ids", expanding=True))
    return int(conn.execute(stmt, {"no": False, "ids": variant_ids, "bound": bound}).scalar())


def nearest_rank(p: int, n: int) -> int:
    """The 1-based rank of the p-th percentile of n sorted values: ceil(p * n / 100)."""
    return (p * n + 99) // 100


def _percentile(conn: Any, own: dict[int, tuple[int, float]], p: int) -> float:
    """The nearest-rank p-th percentile of the pooled live ok latencies of some variants,
    given each variant's count and own p-th percentile (`own`: id -> (n, percentile)).

    One variant: its own. Several: the pooled percentile lies between the smallest and
    the largest of the variants' own p-th percentiles, so only the rows in that band are
    sorted; the rows beyond the band on the walking side are counted (an index range
    count) to place the rank inside it.
    """
    own = {v: (n, q) for v, (n, q) in own.items() if n > 0}
    if not own:
        return math.nan
    if len(own) == 1:
        return next(iter(own.values()))[1]
    n = sum(k for k, _ in own.values())
    rank = nearest_rank(p, n)
    descending = rank > n // 2
    offset = n - rank if descending else rank - 1
    ids = list(own)
    lo, hi = min(q for _, q in own.values()), max(q for _, q in own.values())
    if lo == hi:
        return lo
    skipped = _count_beyond(conn, ids, hi if descending else lo, above=descending)
    return _nth_latency(conn, ids, offset - skipped, descending, band=(lo, hi))


_LATENCY_COLUMNS = [*KEY, "latency_p50", "latency_p95", "latency_p99", "latency_mean", "n_latency"]


def latency_percentiles(ws: Workspace | str, filters: Filters | None = None) -> pd.DataFrame:
    """Per variant key: nearest-rank p50, p95, p99 and the mean latency (ms) of live ok calls.

    Each variant's own percentiles come from its summary (`variant_rows`, where the
    database picked them with ORDER BY latency LIMIT 1 OFFSET rank - 1 along
    ix_cell_latency); see `_percentile` for keys pooled over several runs.
    """
    return _latency_percentiles(ws, variant_rows(ws, filters or Filters()))


def _latency_percentiles(ws: Workspace | str, rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows[rows["n_latency"] > 0]
    if rows.empty:
        return pd.DataFrame(columns=_LATENCY_COLUMNS)
    out: list[dict[str, Any]] = []
    with _engine(ws).connect() as conn:
        for key, group in rows.groupby(KEY, sort=True):
            ids = [int(v) for v in group["variant_id"]]
            counts = [int(k) for k in group["n_latency"]]
            row: dict[str, Any] = dict(zip(KEY, key, strict=True))
            for p in (50, 95, 99):
                own = dict(zip(ids, zip(counts, group[f"latency_p{p}"], strict=True), strict=True))
                row[f"latency_p{p}"] = _percentile(conn, own, p)
            n = sum(counts)
            row["latency_mean"] = float(group["latency_sum"].sum()) / n
            row["n_latency"] = n
            out.append(row)
    return pd.DataFrame(out, columns=_LATENCY_COLUMNS)


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
    columns = list(records[0])
    insert = text(
        f"INSERT INTO variant_rating_stats ({', '.join(columns)})"
        f" VALUES ({', '.join(':' + c for c in columns)})"
    )
    delete = text("DELETE FROM variant_rating_stats WHERE run_id IN :runs").bindparams(
        bindparam("runs", expanding=True)
    )

    def save(s: Any) -> None:
        s.execute(delete, {"runs": list(runs)})
        s.execute(insert, records)

    try:
        db.write(ws, save)
    except SQLAlchemyError:
        pass  # a busy or read-only database: computed again next time


def human_scores(ws: Workspace | str, filters: Filters | None = None) -> pd.DataFrame:
    """Per variant key: mean human score (0..1) over rated cells, its 95% t interval, n.

    Each rated cell counts once, at the mean of its current ratings; the per-variant sums
    come from `_rating_rows` (a small table kept in step with the ratings).
    """
    f = filters or Filters()
    fv = filtered_variants(ws, f)
    rows = _rating_rows(ws, sorted({int(r) for r in fv["run_id"]}), f.scheme or "*")
    sums = rows.merge(fv, on=["run_id", "variant_id"])
    for col in _RATING_SUMS:
        sums[col] = pd.to_numeric(sums[col])
    df = sums.groupby(KEY, as_index=False)[_RATING_SUMS].sum()
    stats = [
        mean_interval(int(n), float(t), float(t2))
        for n, t, t2 in zip(
            df["n_rated"].tolist(),
            df["score_sum"].tolist(),
            df["score_sum_sq"].tolist(),
            strict=True,
        )
    ]
    df["mean_score"] = [s[0] for s in stats]
    # Scores live in 0..1, so the interval is clipped to it.
    df["score_ci_low"] = [max(0.0, s[1]) if not math.isnan(s[1]) else s[1] for s in stats]
    df["score_ci_high"] = [min(1.0, s[2]) if not math.isnan(s[2]) else s[2] for s in stats]
    return df.drop(columns=["score_sum", "score_sum_sq"])


def win_rates(ws: Workspace | str, filters: Filters | None = None) -> pd.DataFrame:
    """Per variant key: pairwise votes, wins, ties, losses and the win rate (ties count 1/2)."""
    cte, params, binds = _fv_cte(filters or Filters())
    sql = f"""WITH {cte},
    sides AS (
        SELECT variant_a_id AS variant_id,
            CASE choice WHEN 'a' THEN 1 ELSE 0 END AS win,
            CASE choice WHEN 'b' THEN 1 ELSE 0 END AS loss
        FROM pairwise_vote WHERE run_id IN (SELECT run_id FROM fv)
        UNION ALL
        SELECT variant_b_id AS variant_id,
            CASE choice WHEN 'b' THEN 1 ELSE 0 END AS win,
            CASE choice WHEN 'a' THEN 1 ELSE 0 END AS loss
        FROM pairwise_vote WHERE run_id IN (SELECT run_id FROM fv)
    )
    SELECT fv.prompt_name, fv.prompt_version, fv.model,
        COUNT(*) AS n_votes, SUM(s.win) AS wins, SUM(s.loss) AS losses,
        COUNT(*) - SUM(s.win) - SUM(s.loss) AS ties,
        (SUM(s.win) + 0.5 * (COUNT(*) - SUM(s.win) - SUM(s.loss))) / COUNT(*) AS win_rate
    FROM sides s JOIN fv ON fv.variant_id = s.variant_id
    GROUP BY fv.prompt_name, fv.prompt_version, fv.model"""
    engine = _engine(ws)
    df = _query(engine, sql, params, binds)
    bounds = [
        wilson_interval(float(w) + 0.5 * float(t), int(n))
        for w, t, n in zip(
            df["wins"].tolist(), df["ties"].tolist(), df["n_votes"].tolist(), strict=True
        )
    ]
    df["win_ci_low"] = [b[0] for b in bounds]
    df["win_ci_high"] = [b[1] for b in bounds]
    df["bt_score"] = _bradley_terry(engine, cte, params, binds, df)
    return df


def _bradley_terry(
    engine: Engine, cte: str, params: dict[str, Any], binds: list[Any], keys: pd.DataFrame
) -> list[float]:
    """Bradley-Terry strengths of the keys on an Elo-like scale (1000 = the average),
    fitted (promptyard.stats) on the votes between variants the filters keep."""
    if keys.empty:
        return []
    from promptyard.stats import bradley_terry, elo_like

    a_key = "va.prompt_name, va.prompt_version, va.model"
    b_key = "vb.prompt_name, vb.prompt_version, vb.model"
    sql = f"""WITH {cte}
    SELECT va.prompt_name AS a_name, va.prompt_version AS a_version, va.model AS a_model,
        vb.prompt_name AS b_name, vb.prompt_version AS b_version, vb.model AS b_model,
        SUM(CASE pv.choice WHEN 'a' THEN 1.0 WHEN 'b' THEN 0.0 ELSE 0.5 END) AS a_points,
        SUM(CASE pv.choice WHEN 'b' THEN 1.0 WHEN 'a' THEN 0.0 ELSE 0.5 END) AS b_points
    FROM pairwise_vote pv
    JOIN fv va ON va.variant_id = pv.variant_a_id
    JOIN fv vb ON vb.variant_id = pv.variant_b_id
    WHERE pv.run_id IN (SELECT run_id FROM fv)
    GROUP BY {a_key}, {b_key}"""
    pairs = _query(engine, sql, params, binds)
    index = {
        k: i
        for i, k in enumerate(
            zip(keys["prompt_name"], keys["prompt_version"], keys["model"], strict=True)
        )
    }
    wins = np.zeros((len(index), len(index)))
    for row in pairs.itertuples(index=False):
        a, b = index.get(tuple(row[0:3])), index.get(tuple(row[3:6]))
        if a is None or b is None or a == b:
            continue
        wins[a, b] += float(row[6])
        wins[b, a] += float(row[7])
    return [float(x) for x in elo_like(bradley_terry(wins))]


def evaluator_pass_rates(ws: Workspace | str, filters: Filters | None = None) -> pd.DataFrame:
    """Per variant key: evaluator scores with a verdict, passes, pass rate (95% Wilson)."""
    # Scores are counted per variant first (CROSS JOIN keeps SQLite's join order: each
    # score finds its cell by id), then the few per-variant rows are rolled up per key.
    cte, params, binds = _fv_cte(filters or Filters())
    sql = f"""WITH {cte},
    pv AS (
        SELECT c.variant_id, COUNT(*) AS n,
            SUM(CASE WHEN s.passed THEN 1 ELSE 0 END) AS k,
            SUM(s.value) AS total, COUNT(s.value) AS n_value
        FROM score s CROSS JOIN cell c
        WHERE c.id = s.cell_id AND s.passed IS NOT NULL AND s.run_id IN (SELECT run_id FROM fv)
        GROUP BY c.variant_id
    )
    SELECT fv.prompt_name, fv.prompt_version, fv.model,
        SUM(pv.n) AS n_scores,
        SUM(pv.k) AS n_passed,
        SUM(pv.total) * 1.0 / NULLIF(SUM(pv.n_value), 0) AS mean_eval_value
    FROM pv JOIN fv ON fv.variant_id = pv.variant_id
    GROUP BY fv.prompt_name, fv.prompt_version, fv.model"""
    df = _query(_engine(ws), sql, params, binds)
    df["pass_rate"] = df["n_passed"] / df["n_scores"]
    bounds = [
        wilson_interval(float(k), int(n))
        for k, n in zip(df["n_passed"].tolist(), df["n_scores"].tolist(), strict=True)
    ]
    df["pass_ci_low"] = [b[0] for b in bounds]
    df["pass_ci_high"] = [b[1] for b in bounds]
    return df


def _empty_leaderboard() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in LEADERBOARD_COLUMNS})


def choose_quality_metric(df: pd.DataFrame, metric: str = "auto") -> str:
    """`metric` when given; else human scores if any, else evaluator pass rate, else win rate."""
    if metric != "auto":
        if metric not in QUALITY_METRICS:
            raise ValueError(f"quality metric {metric!r} is not one of {QUALITY_METRICS}")
        return metric
    if "mean_score" in df and df["mean_score"].notna().any():
        return "human"
    if "pass_rate" in df and df["pass_rate"].notna().any():
        return "evaluator"
    if "win_rate" in df and df["win_rate"].notna().any():
        return "win_rate"
    return "human"


def leaderboard(
    ws: Workspace | str, filters: Filters | None = None, quality: str = "auto"
) -> pd.DataFrame:
    """One row per variant key, best quality first (columns: LEADERBOARD_COLUMNS).

    `quality`/`quality_low`/`quality_high` hold the chosen metric (`quality_metric`):
    the human score (t interval), the evaluator pass rate or the pairwise win rate (Wilson
    intervals). `bt_score` is the Bradley-Terry strength on an Elo-like scale.
    `run_id`/`variant_id` name the latest variant of the key, for opening it in Compare.
    """
    return _leaderboard(ws, filters or Filters(), quality)[0]


def _leaderboard(
    ws: Workspace | str, f: Filters, quality: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The leaderboard and the variant rows it was rolled up from."""
    rows, scores, wins, passes = _parallel(
        [
            partial(variant_rows, ws, f),
            partial(human_scores, ws, f),
            partial(win_rates, ws, f),
            partial(evaluator_pass_rates, ws, f),
        ]
    )
    cells = _cell_stats(rows)
    if cells.empty:
        return _empty_leaderboard(), rows
    latency = _latency_percentiles(ws, rows)
    variants = rows
    df = cells
    for part in (
        latency,
        scores,
        wins.drop(columns=["wins", "losses", "ties"]),
        passes.drop(columns=["n_passed", "mean_eval_value"]),
    ):
        df = df.merge(part, on=KEY, how="left") if not part.empty else _add_missing(df, part)
    df["prompt_version"] = df["prompt_version"].astype(int)
    df["error_rate"] = df["n_errors"] / df["n_cells"]
    df["cost_per_1k"] = df["cost_per_call"] * 1000
    for col in ("n_rated", "n_ratings", "n_votes", "n_scores", "n_latency"):
        df[col] = df[col].fillna(0).astype(int)
    run_of = dict(zip(variants["variant_id"].tolist(), variants["run_id"].tolist(), strict=True))
    df["run_id"] = [int(run_of[v]) for v in df["variant_id"].tolist()]
    df["label"] = [
        variant_label(p, v, m)
        for p, v, m in zip(df["prompt_name"], df["prompt_version"], df["model"], strict=True)
    ]
    metric = choose_quality_metric(df, quality)
    source = {
        "human": ("mean_score", "score_ci_low", "score_ci_high"),
        "evaluator": ("pass_rate", "pass_ci_low", "pass_ci_high"),
        "win_rate": ("win_rate", "win_ci_low", "win_ci_high"),
    }[metric]
    df["quality"] = df[source[0]]
    df["quality_low"] = df[source[1]]
    df["quality_high"] = df[source[2]]
    df["quality_metric"] = metric
    df = df.sort_values(
        ["quality", "prompt_name", "prompt_version", "model"],
        ascending=[False, True, False, True],
        na_position="last",
    )
    return df[LEADERBOARD_COLUMNS].reset_index(drop=True), rows


def _parallel(tasks: list[Callable[[], T]]) -> list[T]:
    """Run independent queries at once, each on its own pooled connection.

    The database does the work outside the GIL, so on two or more cores the dashboard
    waits for its slowest query rather than for the sum of them.
    """
    if len(tasks) < 2:
        return [t() for t in tasks]
    with ThreadPoolExecutor(max_workers=min(len(tasks), _WORKERS)) as pool:
        return list(pool.map(lambda t: t(), tasks))


def _add_missing(df: pd.DataFrame, part: pd.DataFrame) -> pd.DataFrame:
    for col in part.columns:
        if col not in KEY:
            df[col] = math.nan
    return df


def versions_of(board: pd.DataFrame, prompt: str) -> pd.DataFrame:
    """The rows of one prompt in a leaderboard, by model then version (drafts left out)."""
    if board.empty:
        return board
    rows = board[(board["prompt_name"] == prompt) & (board["prompt_version"].astype(int) > 0)]
    return rows.sort_values(["model", "prompt_version"]).reset_index(drop=True)


def quality_by_version(
    ws: Workspace | str, prompt: str, filters: Filters | None = None, quality: str = "auto"
) -> pd.DataFrame:
    """Quality of one prompt's versions v1..vN per model (leaderboard rows and columns)."""
    f = filters or Filters()
    return versions_of(leaderboard(ws, _replace(f, prompt=prompt), quality=quality), prompt)


@dataclass(frozen=True)
class DashboardData:
    """Everything the Dashboard page draws, computed at once."""

    board: pd.DataFrame  # the leaderboard plus `monthly_cost` and `on_frontier`
    samples: pd.DataFrame  # latency samples per variant key
    by_version: pd.DataFrame  # quality across versions of `versions_prompt`
    versions_prompt: str | None
    calls_per_month: float

    @property
    def empty(self) -> bool:
        return self.board.empty


def dashboard_data(
    ws: Workspace | str,
    filters: Filters | None = None,
    quality: str = "auto",
    calls_per_month: float = 1_000_000,
    versions_prompt: str | None = None,
) -> DashboardData:
    """The leaderboard, latency samples and quality across versions for the filters.

    `versions_prompt` defaults to the filtered prompt, else the prompt with most versions.
    """
    f = filters or Filters()
    board, rows = _leaderboard(ws, f, quality)
    samples = _latency_samples(rows, LATENCY_SAMPLE_CAP)
    if board.empty:
        board = board.assign(monthly_cost=pd.Series(dtype=float), on_frontier=pd.Series(dtype=bool))
        return DashboardData(board, samples, board, None, calls_per_month)
    board = pareto_frontier(project_monthly_cost(board, calls_per_month))
    prompts = board.groupby("prompt_name")["prompt_version"].nunique().sort_values(ascending=False)
    prompt = versions_prompt if versions_prompt in prompts.index else None
    prompt = prompt or f.prompt or str(prompts.index[0])
    return DashboardData(
        board=board,
        samples=samples,
        by_version=versions_of(board, prompt),
        versions_prompt=prompt,
        calls_per_month=calls_per_month,
    )


def latency_samples(
    ws: Workspace | str, filters: Filters | None = None, cap: int = LATENCY_SAMPLE_CAP
) -> pd.DataFrame:
    """Latencies (ms) of live ok calls per variant key, at most `cap` per key.

    Each variant's summary keeps the latencies of every k-th cell by id (k = ceil(n /
    STORED_SAMPLE_CAP)): ids are unrelated to latency, so this is a fair, repeatable
    sample. A key pooled over several variants takes from each in proportion to its
    calls, evenly spaced in id order.
    """
    return _latency_samples(variant_rows(ws, filters or Filters()), cap)


def _latency_samples(rows: pd.DataFrame, cap: int) -> pd.DataFrame:
    columns = [*KEY, "latency_ms", "label"]
    rows = rows[rows["n_latency"] > 0]
    frames: list[pd.DataFrame] = []
    for key, group in rows.groupby(KEY, sort=True):
        samples = [json.loads(js) for js in group["latency_sample_json"]]
        counts = [int(k) for k in group["n_latency"]]
        values: list[float] = []
        for sample, take in zip(samples, _allocate(counts, cap), strict=True):
            take = min(take, len(sample))
            values.extend(float(sample[(j * len(sample)) // take]) for j in range(take))
        name, version, model = (str(key[0]), int(key[1]), str(key[2]))  # type: ignore[call-overload]
        frame = pd.DataFrame({"latency_ms": sorted(values)})
        frame["prompt_name"], frame["prompt_version"], frame["model"] = name, version, model
        frame["label"] = variant_label(name, version, model)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def _allocate(counts: list[int], cap: int) -> list[int]:
    """How many of `cap` sample values each of several variants gives, in proportion to
    its calls (largest remainders), never more than `cap` in all."""
    total = sum(counts)
    budget = min(max(0, cap), total)
    if total == 0:
        return [0 for _ in counts]
    raw = [k * budget / total for k in counts]
    out = [math.floor(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: out[i] - raw[i])[: budget - sum(out)]:
        out[i] += 1
    return out


def pareto_frontier(
    df: pd.DataFrame, quality: str = "quality", cost: str = "cost_per_call"
) -> pd.DataFrame:
    """`df` with an `on_frontier` column: True where no other row has at least the quality
    at no more cost and is strictly better on one of them. Rows lacking either are False."""
    out = df.copy()
    out["on_frontier"] = False
    known = out[out[quality].notna() & out[cost].notna()]
    q = known[quality].to_numpy(dtype=float)
    c = known[cost].to_numpy(dtype=float)
    for idx, qi, ci in zip(known.index, q, c, strict=True):
        dominated = ((q >= qi) & (c <= ci) & ((q > qi) | (c < ci))).any()
        out.at[idx, "on_frontier"] = not bool(dominated)
    return out


def project_monthly_cost(df: pd.DataFrame, calls_per_month: float) -> pd.DataFrame:
    """`df` (a leaderboard) with `monthly_cost`: cost per call times the monthly volume."""
    out = df.copy()
    out["monthly_cost"] = out["cost_per_call"].astype(float) * float(calls_per_month)
    return out


def format_volume(calls: float) -> str:
    """1_000_000 -> "1M", 250_000 -> "250k", 1_500 -> "1.5k"."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if calls >= size:
            return f"{calls / size:.3g}{unit}"
    return f"{calls:.0f}"


def format_usd(amount: float) -> str:
    if amount is None or math.isnan(amount):
        return "unknown"
    if amount >= 100:
        return f"${amount:,.0f}"
    if amount >= 1:
        return f"${amount:,.2f}"
    return f"${amount:.4g}"


def monthly_cost_sentence(row: pd.Series | dict[str, Any], calls_per_month: float) -> str:
    """ "At 1M calls a month, summarize v2 · sim-fast costs $41.20." (or says it's unknown)."""
    cost = row["cost_per_call"]
    volume = format_volume(calls_per_month)
    if cost is None or (isinstance(cost, float) and math.isnan(cost)):
        return (
            f"The price of {row['label']} is unknown, so its cost at {volume} calls a month is too."
        )
    return (
        f"At {volume} calls a month, {row['label']} costs "
        f"{format_usd(float(cost) * calls_per_month)}."
    )


def filter_options(ws: Workspace | str, kinds: tuple[str, ...] = DEFAULT_KINDS) -> FilterOptions:
    """The prompts, datasets, models, rating schemes and runs the filters can choose from."""
    engine = _engine(ws)
    params = {"kinds": list(kinds)}
    binds: list[Any] = [bindparam("kinds", expanding=True)]
    runs = _query(
        engine,
        """SELECT r.id, r.name, r.created_at, r.dataset_name, r.status, r.kind,
               r.total_cells AS n_cells
           FROM run r WHERE r.kind IN :kinds ORDER BY r.id DESC""",
        params,
        binds,
    )
    variants = _query(
        engine,
        """SELECT DISTINCT v.prompt_name, v.model FROM variant v JOIN run r ON r.id = v.run_id
           WHERE r.kind IN :kinds""",
        params,
        binds,
    )
    schemes = _query(
        engine,
        "SELECT DISTINCT scheme FROM rating WHERE score IS NOT NULL ORDER BY scheme",
        {},
        [],
    )
    dates = pd.to_datetime(runs["created_at"]) if not runs.empty else pd.Series(dtype=object)
    return FilterOptions(
        prompts=sorted(variants["prompt_name"].unique().tolist()) if not variants.empty else [],
        datasets=sorted(runs["dataset_name"].dropna().unique().tolist()) if not runs.empty else [],
        models=sorted(variants["model"].unique().tolist()) if not variants.empty else [],
        schemes=schemes["scheme"].tolist(),
        runs=runs,
        first_date=dates.min().date() if len(dates) else None,
        last_date=dates.max().date() if len(dates) else None,
    )


def _replace(filters: Filters, **changes: Any) -> Filters:
    from dataclasses import replace

    return replace(filters, **changes)
