"""One bucket's figures per user, session or span attribute, computed from its spans.

The spans of a range are read once, in chunks, through the driver's own cursor (a
million SQLAlchemy rows cost more than the reading), and aggregated with numpy: sums and
known counts by `bincount`, nearest-rank percentiles by one sort per measure. The result
has the columns `span_segment` (m027) keeps, FIGURE_COLUMNS, which `figures_frame` turns
into the page's series.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from promptyard.monitoring.metrics import (
    NO_SEGMENT,
    PERCENTILES,
    SERIES_COLUMNS,
    MetricsQuery,
    _bucket_time,
    segment_sql,
)
from promptyard.monitoring.percentiles import VALUE_COLUMNS

SUM_COLUMNS = [
    "calls", "errors", "input_tokens", "input_known", "output_tokens", "output_known",
    "cost_usd", "cost_known",
]  # fmt: skip
STORED = [*SUM_COLUMNS, *VALUE_COLUMNS]  # the figures of a segment, as kept (m027)
FIGURE_COLUMNS = ["bucket", "segment", *STORED]
CHUNK = 100_000  # rows fetched at a time: the tuples of a whole range would not be freed


def empty_figures() -> pd.DataFrame:
    """No figures, with FIGURE_COLUMNS."""
    return pd.DataFrame(columns=FIGURE_COLUMNS)


def compute_figures(
    conn: Connection, query: MetricsQuery, runs: list[tuple[int, int]]
) -> pd.DataFrame:
    """FIGURE_COLUMNS per (bucket, segment) of the LLM spans started in `runs` ([lo, hi)
    nanosecond ranges, not overlapping), exactly as `metrics.span_series` counts them."""
    dialect = conn.dialect.name
    mark = "%({})s" if dialect == "postgresql" else ":{}"
    segment = segment_sql(query, dialect)
    for name in ("attr_key", "attr_path"):
        segment = segment.replace(f":{name}", mark.format(name))
    sql = (
        f"SELECT s.start_ns / {mark.format('size')}, {segment},"
        " CASE WHEN s.status = 'error' THEN 1 ELSE 0 END,"
        " s.duration_ms, s.ttft_ms, s.input_tokens, s.output_tokens, s.cost_usd"
        f" FROM span s WHERE s.is_llm = {mark.format('llm')}"
        f" AND s.start_ns >= {mark.format('lo')} AND s.start_ns < {mark.format('hi')}"
    )
    key = query.attribute or ""
    params = {"size": query.granularity.ns, "llm": True, "attr_key": key, "attr_path": f'$."{key}"'}
    parts: list[list[np.ndarray]] = [[] for _ in range(8)]
    cursor = conn.connection.cursor()
    try:
        for lo, hi in runs:
            cursor.execute(sql, {**params, "lo": lo, "hi": hi})
            while chunk := cursor.fetchmany(CHUNK):
                _columns(chunk, parts)
    finally:
        cursor.close()
    if not parts[0]:
        return empty_figures()
    bucket, names, error, duration, ttft, tokens_in, tokens_out, cost = (
        np.concatenate(p) for p in parts
    )
    codes, labels = _codes(names)
    # One dense group number per (bucket, segment) present.
    width = len(labels)
    keys = (bucket - bucket.min()) * width + codes
    groups, group = np.unique(keys, return_inverse=True)
    n = len(groups)
    out: dict[str, Any] = {
        "bucket": groups // width + bucket.min(),
        "segment": np.asarray(labels, dtype=object)[groups % width],
        "calls": np.bincount(group, minlength=n).astype(np.int64),
        "errors": np.bincount(group, weights=error, minlength=n).astype(np.int64),
    }
    for name, values in (("input", tokens_in), ("output", tokens_out), ("cost", cost)):
        known = ~np.isnan(values)
        total = np.bincount(group, weights=np.where(known, values, 0.0), minlength=n)
        out["cost_usd" if name == "cost" else f"{name}_tokens"] = total
        out[f"{name}_known"] = np.bincount(group, weights=known, minlength=n).astype(np.int64)
    ok = error == 0
    out.update(_ranked(group[ok], duration[ok], n, "latency"))
    with_ttft = ok & ~np.isnan(ttft)
    out.update(_ranked(group[with_ttft], ttft[with_ttft], n, "ttft"))
    return pd.DataFrame(out, columns=FIGURE_COLUMNS)


def _columns(chunk: Sequence[Any], parts: list[list[np.ndarray]]) -> None:
    """Append one fetched chunk's columns as arrays (None becomes NaN in a float column)."""
    # One object matrix, then a cast per column: faster than zip(*chunk) and a copy each.
    table = np.array(chunk, dtype=object)
    parts[0].append(table[:, 0].astype(np.int64))
    parts[1].append(table[:, 1])
    parts[2].append(table[:, 2].astype(np.int64))
    for i in range(3, 8):
        parts[i].append(table[:, i].astype(float))


def _codes(names: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Each span's segment as a code into its labels; no value is NO_SEGMENT, and a value
    written "(none)" is the same segment, as `span_series` groups them."""
    codes, uniques = pd.factorize(names, use_na_sentinel=True)
    labels = [str(u) for u in uniques]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes)
        labels.append(NO_SEGMENT)
    merged, distinct = pd.factorize(np.asarray(labels, dtype=object))
    return merged[codes].astype(np.int64), [str(d) for d in distinct]


def _ranked(group: np.ndarray, values: np.ndarray, n: int, prefix: str) -> dict[str, np.ndarray]:
    """Nearest-rank p50/p95/p99 of `values` per group number (NaN for a group without)."""
    out = {f"{prefix}_p{p}": np.full(n, np.nan) for p in PERCENTILES}
    if not len(values):
        return out
    # One sort by value (NaN last, as pandas), then a stable one by group: values stay
    # sorted within a group, and two argsorts cost half a lexsort.
    by_value = np.argsort(values)
    order = by_value[np.argsort(group[by_value], kind="stable")]
    g, v = group[order], values[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    counts = np.diff(np.r_[starts, len(v)])
    for p in PERCENTILES:
        out[f"{prefix}_p{p}"][g[starts]] = v[starts + (p * counts + 99) // 100 - 1]
    return out


def figures_frame(figures: pd.DataFrame, query: MetricsQuery) -> pd.DataFrame:
    """FIGURE_COLUMNS as the page's SERIES_COLUMNS, oldest first: a sum with no known
    value is NaN, never 0, and `cost_unknown` counts the calls without a price."""
    if figures.empty:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    df = pd.DataFrame(
        {
            "bucket": figures["bucket"].to_numpy(dtype=np.int64),
            "segment": figures["segment"].astype(str).to_numpy(dtype=object),
            "calls": figures["calls"].to_numpy(dtype=np.int64),
            "errors": figures["errors"].to_numpy(dtype=np.int64),
        }
    )
    for total, known in (
        ("input_tokens", "input_known"),
        ("output_tokens", "output_known"),
        ("cost_usd", "cost_known"),
    ):
        has = figures[known].to_numpy(dtype=np.int64) > 0
        df[total] = np.where(has, figures[total].to_numpy(dtype=float), np.nan)
    df["cost_unknown"] = df["calls"] - figures["cost_known"].to_numpy(dtype=np.int64)
    for column in VALUE_COLUMNS:
        df[column] = figures[column].to_numpy(dtype=float)
    df["error_rate"] = df["errors"] / df["calls"]
    df["time"] = _bucket_time(df["bucket"], query.granularity.ns)
    df = df.sort_values(["time", "segment"], ignore_index=True)
    return df[SERIES_COLUMNS]
