"""Exact latency and time-to-first-token percentiles per bucket, computed once per bucket.

A percentile is not a sum: no rollup adds it up. Each bucket's p50/p95/p99 are computed
exactly (nearest rank, as `metrics.span_series` does) from the bucket's spans, and kept in
`span_percentile` (m025) with a stamp: the sum of `span_rollup.changes` over the bucket's
hours. Every span written, moved or deleted in those hours bumps a `changes` (triggers,
in the writer's transaction), so a kept bucket is used only while no span of it changed;
otherwise, and for a bucket cut by a range that does not start or end on a whole hour, it is
computed again from the spans. A late span therefore makes its own bucket be read again,
and nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from promptyard.errors import PromptyardError
from promptyard.monitoring.metrics import NO_SEGMENT, PERCENTILES, MetricsQuery
from promptyard.monitoring.rollups import NS_PER_HOUR
from promptyard.storage import db

log = logging.getLogger(__name__)

VALUE_COLUMNS = [f"{m}_p{p}" for m in ("latency", "ttft") for p in PERCENTILES]

Piece = tuple[int, int]  # [lo_ns, hi_ns): one bucket's part inside the range


def _pieces(query: MetricsQuery) -> list[Piece]:
    size = query.granularity.ns
    first, last = query.since_ns // size, (query.until_ns - 1) // size
    return [
        (max(b * size, query.since_ns), min((b + 1) * size, query.until_ns))
        for b in range(first, last + 1)
    ]


def _stamps(conn: Connection, query: MetricsQuery) -> dict[int, int]:
    """The sum of span_rollup.changes per bucket, over the whole hours of the range."""
    size = query.granularity.ns
    h0, h1 = -(-query.since_ns // NS_PER_HOUR), query.until_ns // NS_PER_HOUR
    rows = conn.execute(
        text(
            "SELECT hour / :per, SUM(changes) FROM span_rollup"
            " WHERE hour >= :h0 AND hour < :h1 GROUP BY hour / :per"
        ),
        {"per": size // NS_PER_HOUR, "h0": h0, "h1": h1},
    )
    return {int(b): int(n) for b, n in rows}


def adjacent_runs(pieces: list[Piece]) -> list[tuple[int, int]]:
    """Adjacent pieces as one range each: one scan of the start-time index per run."""
    runs: list[list[int]] = []
    for lo, hi in sorted(pieces):
        if runs and runs[-1][1] == lo:
            runs[-1][1] = hi
        else:
            runs.append([lo, hi])
    return [(lo, hi) for lo, hi in runs]


def _compute(
    conn: Connection, query: MetricsQuery, segment: str, params: dict[str, Any], pieces: list[Piece]
) -> pd.DataFrame:
    """Exact percentiles per (bucket, segment) of the spans in `pieces`, read in runs."""
    runs = adjacent_runs(pieces)
    # The driver's own cursor and placeholders: a cold range reads up to every span of it,
    # and SQLAlchemy's row objects would cost more than the reading.
    mark = "%({})s" if conn.dialect.name == "postgresql" else ":{}"
    constant = segment.startswith("'")  # no segment: every span is 'all', not read per row
    sql = (
        f"SELECT s.start_ns / {mark.format('size')}, {'NULL' if constant else segment},"
        " s.duration_ms, s.ttft_ms"
        f" FROM span s WHERE s.is_llm = {mark.format('llm')} AND s.status <> 'error'"
        f" AND s.start_ns >= {mark.format('lo')} AND s.start_ns < {mark.format('hi')}"
    )
    rows: list[Any] = []
    cursor = conn.connection.cursor()
    try:
        for lo, hi in runs:
            cursor.execute(sql, {"size": params["size"], "llm": True, "lo": lo, "hi": hi})
            rows += cursor.fetchall()
    finally:
        cursor.close()
    if not rows:
        return pd.DataFrame(columns=["bucket", "segment", *VALUE_COLUMNS])
    n = len(rows)
    buckets = np.fromiter((r[0] for r in rows), np.int64, n)
    names: Any
    if constant:
        codes, names = np.zeros(n, dtype=np.int64), [segment.strip("'")]
    else:
        codes, names = pd.factorize(
            pd.Series([r[1] for r in rows], dtype=object).fillna(NO_SEGMENT).astype(str)
        )
    duration = np.fromiter((r[2] for r in rows), float, n)
    ttft = np.fromiter((np.nan if r[3] is None else r[3] for r in rows), float, n)
    lat = _ranked(buckets, codes, duration, "latency")
    has = ~np.isnan(ttft)
    first = _ranked(buckets[has], codes[has], ttft[has], "ttft")
    out = lat.merge(first, on=["bucket", "code"], how="outer")
    out.insert(1, "segment", np.asarray(names, dtype=object)[out.pop("code").to_numpy()])
    return out.reindex(columns=["bucket", "segment", *VALUE_COLUMNS])


def _ranked(
    buckets: np.ndarray, codes: np.ndarray, values: np.ndarray, prefix: str
) -> pd.DataFrame:
    """Nearest-rank p50/p95/p99 of `values` per (bucket, segment code), by one sort."""
    columns = ["bucket", "code", *(f"{prefix}_p{p}" for p in PERCENTILES)]
    if not len(values):
        return pd.DataFrame(columns=columns).astype({"bucket": "int64", "code": "int64"})
    # One sort by value, then a stable sort by group: values stay sorted within a group.
    by_value = np.argsort(values, kind="stable")
    groups = (buckets - buckets.min()) * (int(codes.max()) + 1) + codes
    order = by_value[np.argsort(groups[by_value], kind="stable")]
    b, c, v = buckets[order], codes[order], values[order]
    starts = np.flatnonzero(np.r_[True, (b[1:] != b[:-1]) | (c[1:] != c[:-1])])
    counts = np.diff(np.r_[starts, len(v)])
    out = pd.DataFrame({"bucket": b[starts], "code": c[starts].astype(np.int64)})
    for p in PERCENTILES:
        out[f"{prefix}_p{p}"] = v[starts + (p * counts + 99) // 100 - 1]  # stats.nearest_rank
    return out


def bucket_percentiles(
    url: str, query: MetricsQuery, segment: str, params: dict[str, Any]
) -> pd.DataFrame:
    """Exact p50/p95/p99 of latency and TTFT (spans that did not fail) per (bucket,
    segment) of the query: `bucket`, `segment` and VALUE_COLUMNS, NaN where none."""
    size, kind = query.granularity.ns, str(query.segment)
    pieces = _pieces(query)
    with db.get_engine(url).connect() as conn:
        stamps = _stamps(conn, query)
        kept = {
            (int(lo), int(hi)): int(st)
            for lo, hi, st in conn.execute(
                text(
                    "SELECT lo_ns, hi_ns, stamp FROM span_percentile_stamp WHERE segment_kind = :k"
                    " AND lo_ns >= :since AND hi_ns <= :until"
                ),
                {"k": kind, "since": query.since_ns, "until": query.until_ns},
            )
        }
        whole = {p for p in pieces if p[0] % NS_PER_HOUR == 0 and p[1] % NS_PER_HOUR == 0}
        fresh = {p for p in whole if p[0] // size in stamps and kept.get(p) == stamps[p[0] // size]}
        stale = [p for p in pieces if p not in fresh and (p not in whole or p[0] // size in stamps)]
        computed = _compute(conn, query, segment, params, stale) if stale else None
        stored = conn.execute(
            text(
                f"SELECT lo_ns, hi_ns, segment, {', '.join(VALUE_COLUMNS)} FROM span_percentile"
                " WHERE segment_kind = :k AND lo_ns >= :since AND hi_ns <= :until"
            ),
            {"k": kind, "since": query.since_ns, "until": query.until_ns},
        ).all()
    frames = []
    if fresh:
        # Rows of this range's own pieces: an hourly piece may start where a day does.
        mine = [(r[0], *r[2:]) for r in stored if (int(r[0]), int(r[1])) in fresh]
        cached = pd.DataFrame(mine, columns=["lo", "segment", *VALUE_COLUMNS])
        cached.insert(0, "bucket", cached.pop("lo").astype("int64") // size)
        frames.append(cached)
    if computed is not None:
        frames.append(computed)
        keep = [p for p in stale if p in whole]
        if keep:
            keep_buckets(
                url, kind, size, keep, stamps, computed, _store_percentiles,
                ("span_percentile", "span_percentile_stamp"), "percentiles",
            )  # fmt: skip
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=["bucket", "segment", *VALUE_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def keep_buckets(
    url: str,
    kind: str,
    size: int,
    pieces: list[Piece],
    stamps: dict[int, int],
    computed: pd.DataFrame,
    store_bucket: Callable[[Connection, dict[str, Any], pd.DataFrame | None], None],
    tables: tuple[str, ...],
    what: str,
) -> None:
    """Store each piece's computed bucket with the stamp read before it was computed (a
    span written meanwhile changed the stamp, so the next view computes that bucket
    again), and forget the bucket's other partial cuts in `tables`.

    `store_bucket(conn, key, rows)` stores one: `key` holds the piece (`lo`, `hi`), the
    kind (`k`) and the stamp (`st`); `rows` are its computed rows, None when it has none.
    A read-only database still answers, uncached (`what` names the figures in the log).
    """
    by_bucket: dict[int, pd.DataFrame] = (
        {int(cast(Any, b)): g for b, g in computed.groupby("bucket")} if not computed.empty else {}
    )

    def store(session: Any) -> None:
        conn = session.connection()
        for lo, hi in pieces:
            key = {"lo": lo, "hi": hi, "k": kind, "st": stamps[lo // size]}
            store_bucket(conn, key, by_bucket.get(lo // size))
            if size > NS_PER_HOUR:
                _forget_other_cuts(conn, key, lo // size * size, size, tables)

    try:
        db.write(url, store)
    except PromptyardError as exc:
        log.info("%s not kept: %s", what, exc)


_VALUES = ", ".join(f":{c}" for c in VALUE_COLUMNS)
_UPDATES = ", ".join(f"{c} = excluded.{c}" for c in VALUE_COLUMNS)


def _store_percentiles(conn: Connection, key: dict[str, Any], group: pd.DataFrame | None) -> None:
    # The stamp row first: it locks the bucket, so two viewers storing the same bucket on
    # PostgreSQL go one after the other and the later one's rows win.
    conn.execute(
        text(
            "INSERT INTO span_percentile_stamp (lo_ns, hi_ns, segment_kind, stamp)"
            " VALUES (:lo, :hi, :k, :st) ON CONFLICT (lo_ns, hi_ns, segment_kind)"
            " DO UPDATE SET stamp = excluded.stamp"
        ),
        key,
    )
    conn.execute(
        text("DELETE FROM span_percentile WHERE lo_ns = :lo AND hi_ns = :hi AND segment_kind = :k"),
        key,
    )
    rows = [] if group is None else group.to_dict("records")
    if rows:
        conn.execute(
            text(
                "INSERT INTO span_percentile (lo_ns, hi_ns, segment_kind, segment,"
                f" {', '.join(VALUE_COLUMNS)}) VALUES (:lo, :hi, :k, :segment, {_VALUES})"
                " ON CONFLICT (lo_ns, hi_ns, segment_kind, segment)"
                f" DO UPDATE SET {_UPDATES}"
            ),
            [{**key, **_plain(r)} for r in rows],
        )


def _forget_other_cuts(
    conn: Connection, key: dict[str, Any], start: int, size: int, tables: tuple[str, ...]
) -> None:
    """Drop the bucket's other partial pieces from `tables` (the kept percentiles, or the
    kept segment figures): a range ending at the current hour cuts its first and last day
    anew every hour, and only the newest cut is viewed again."""
    where = (
        " WHERE segment_kind = :k AND lo_ns >= :b0 AND hi_ns <= :b1"
        " AND hi_ns - lo_ns > :hour AND hi_ns - lo_ns < :size"
        " AND NOT (lo_ns = :lo AND hi_ns = :hi)"
    )
    cut = {**key, "b0": start, "b1": start + size, "hour": NS_PER_HOUR, "size": size}
    for table in tables:
        conn.execute(text(f"DELETE FROM {table}{where}"), cut)


def _plain(row: dict[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"segment": str(row["segment"])}
    for c in VALUE_COLUMNS:
        v = row.get(c)
        out[c] = None if v is None or pd.isna(v) else float(v)
    return out
