"""The dashboard's numbers per variant key, rolled up from the per-variant summaries.

Definitions (docs/dashboard.md says the same for users):
- n_cells counts finished cells (ok or error); error_rate = errors / finished cells.
- latency percentiles are nearest-rank and cover successful calls not served from the cache.
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
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, bindparam, text

from promptyard.reading.analytics.filters import (
    KEY,
    Filters,
    _engine,
    _fv_cte,
    _query,
    filtered_variants,
    variant_label,
)
from promptyard.reading.analytics.summaries import (
    _RATING_SUMS,
    _rating_rows,
    nearest_rank,
    variant_rows,
)
from promptyard.reading.score_stats import EVERY_SUITE, score_groups
from promptyard.reading.variant_stats import LIVE_OK as _LIVE_OK
from promptyard.reading.variant_stats import nth_latency as _nth_latency
from promptyard.stats import bradley_terry, elo_like, mean_interval, wilson_interval
from promptyard.workspace import Workspace

LATENCY_SAMPLE_CAP = 1_000


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


def _count_beyond(conn: Any, variant_ids: list[int], bound: float, above: bool) -> int:
    """How many live ok latencies of these variants lie strictly above (or below) `bound`."""
    op = ">" if above else "<"
    stmt = text(
        f"""SELECT COUNT(*) FROM cell c
        WHERE {_LIVE_OK} AND c.variant_id IN :ids AND c.latency_ms {op} :bound"""
    ).bindparams(bindparam("ids", expanding=True))
    return int(conn.execute(stmt, {"no": False, "ids": variant_ids, "bound": bound}).scalar())


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
    # From the runs' kept score sums per variant (reading.score_groups): a million-cell
    # run's millions of default-check scores are not joined to their cells on each view.
    cte, params, binds = _fv_cte(filters or Filters())
    fv = _query(_engine(ws), f"WITH {cte} SELECT * FROM fv", params, binds)
    key_of = {
        int(v): (p, int(n), m)
        for v, p, n, m in zip(
            fv["variant_id"], fv["prompt_name"], fv["prompt_version"], fv["model"], strict=True
        )
    }
    totals: dict[tuple[str, int, str], list[float]] = {}
    for g in score_groups(ws, sorted({int(r) for r in fv["run_id"]})):
        key = key_of.get(g.variant_id)
        if key is None or not g.verdict or g.suite == EVERY_SUITE:
            continue
        t = totals.setdefault(key, [0, 0, 0.0, 0])
        t[0] += g.n
        t[1] += g.n_passed
        t[2] += g.value_sum
        t[3] += g.value_n
    df = pd.DataFrame(
        [
            {
                "prompt_name": p,
                "prompt_version": n,
                "model": m,
                "n_scores": int(t[0]),
                "n_passed": int(t[1]),
                "mean_eval_value": t[2] / t[3] if t[3] else None,
            }
            for (p, n, m), t in totals.items()
        ],
        columns=[
            "prompt_name",
            "prompt_version",
            "model",
            "n_scores",
            "n_passed",
            "mean_eval_value",
        ],
    )
    df["pass_rate"] = df["n_passed"] / df["n_scores"]
    bounds = [
        wilson_interval(float(k), int(n))
        for k, n in zip(df["n_passed"].tolist(), df["n_scores"].tolist(), strict=True)
    ]
    df["pass_ci_low"] = [b[0] for b in bounds]
    df["pass_ci_high"] = [b[1] for b in bounds]
    return df


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
