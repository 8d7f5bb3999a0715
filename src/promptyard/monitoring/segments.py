"""The series segmented by user, session or a span attribute, from per-bucket kept figures.

No rollup knows these segments (m025 sums by prompt, model and service), and reading every
span of a week on every view cost seconds. So each bucket's figures per segment (calls,
errors, known token and cost sums, exact nearest-rank percentiles) are computed from its
spans once (`segment_figures`) and kept in `span_segment` (m027) with a stamp: the sum of
`span_rollup.changes` over the bucket's hours. Any span written, moved, deleted or updated
in those hours changes the stamp (triggers of m025 and m027, in the writer's transaction),
so a kept bucket is used only while none of its spans changed; otherwise, and for a bucket
cut by a range that does not start or end on a whole hour, it is computed again. A kept
bucket is one row (its segments' names and a matrix of their figures), read whole: a
week by hour and user reads 168 rows, not one per user and hour. Every segment is kept,
not only the busiest: the page's totals and its top segments read them.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from promptyard.monitoring.metrics import MetricsQuery, Segment, _url
from promptyard.monitoring.percentiles import _pieces, _stamps, adjacent_runs, keep_buckets
from promptyard.monitoring.rollups import NS_PER_HOUR
from promptyard.monitoring.segment_figures import (
    FIGURE_COLUMNS,
    STORED,
    compute_figures,
    empty_figures,
    figures_frame,
)
from promptyard.storage import db
from promptyard.workspace import Workspace

log = logging.getLogger(__name__)

Piece = tuple[int, int]


def segment_kind(query: MetricsQuery) -> str:
    """The cache's name of the query's segmentation: one per attribute name."""
    if query.segment is Segment.ATTRIBUTE:
        return f"attribute:{query.attribute}"
    return str(query.segment)


def segment_series(ws: Workspace | str, query: MetricsQuery) -> pd.DataFrame:
    """`series.metric_series` for a user, session or attribute segment: the same rows as
    `metrics.span_series`, from kept buckets where none of their spans changed."""
    url = _url(ws)
    size, kind = query.granularity.ns, segment_kind(query)
    pieces = _pieces(query)
    with db.get_engine(url).connect() as conn:
        stamps = _stamps(conn, query)
        whole = {p for p in pieces if p[0] % NS_PER_HOUR == 0 and p[1] % NS_PER_HOUR == 0}
        kept = _read_kept(conn, kind, query, whole, stamps)
        # A whole bucket with no rollup row has no LLM span: nothing to compute.
        stale = [p for p in pieces if p not in kept and (p not in whole or p[0] // size in stamps)]
        computed = compute_figures(conn, query, adjacent_runs(stale)) if stale else empty_figures()
    keep = [p for p in stale if p in whole]
    if keep:
        keep_buckets(
            url, kind, size, keep, stamps, computed, _store_segments, ("span_segment",),
            "segment figures",
        )  # fmt: skip
    frames = [f for f in (*kept.values(), computed) if not f.empty]
    figures = pd.concat(frames, ignore_index=True) if frames else empty_figures()
    return figures_frame(figures, query)


def _read_kept(
    conn: Connection, kind: str, query: MetricsQuery, whole: set[Piece], stamps: dict[int, int]
) -> dict[Piece, pd.DataFrame]:
    """The kept figures of the range's whole pieces whose stamp is still the bucket's."""
    size = query.granularity.ns
    rows = conn.execute(
        text(
            "SELECT lo_ns, hi_ns, stamp, segments, figures FROM span_segment"
            " WHERE segment_kind = :k AND lo_ns >= :since AND hi_ns <= :until"
        ),
        {"k": kind, "since": query.since_ns, "until": query.until_ns},
    ).all()
    out: dict[Piece, pd.DataFrame] = {}
    for lo, hi, stamp, names, blob in rows:
        piece = (int(lo), int(hi))
        # Only this range's own pieces: an hourly piece may start where a day does.
        if piece in whole and stamps.get(piece[0] // size) == int(stamp):
            out[piece] = _unpack(piece[0] // size, names, bytes(blob))
    return out


def _pack(group: pd.DataFrame) -> tuple[str, bytes]:
    """One bucket's figures as kept: the segments' names and a float64 matrix of STORED."""
    names = json.dumps([str(s) for s in group["segment"]], ensure_ascii=False)
    matrix = np.ascontiguousarray(group[STORED].to_numpy(dtype="<f8"))
    return names, matrix.tobytes()


def _unpack(bucket: int, names: str, blob: bytes) -> pd.DataFrame:
    segments = json.loads(names)
    matrix = np.frombuffer(blob, dtype="<f8").reshape(len(segments), len(STORED))
    out: dict[str, Any] = {
        "bucket": np.full(len(segments), bucket, dtype=np.int64),
        "segment": np.asarray(segments, dtype=object),
    }
    for i, column in enumerate(STORED):
        out[column] = matrix[:, i]
    return pd.DataFrame(out, columns=FIGURE_COLUMNS)


_UPSERT = text(
    "INSERT INTO span_segment (segment_kind, lo_ns, hi_ns, stamp, segments, figures)"
    " VALUES (:k, :lo, :hi, :st, :names, :blob) ON CONFLICT (segment_kind, lo_ns, hi_ns)"
    " DO UPDATE SET stamp = excluded.stamp, segments = excluded.segments,"
    " figures = excluded.figures"
)


def _store_segments(conn: Connection, key: dict[str, Any], group: pd.DataFrame | None) -> None:
    names, blob = _pack(empty_figures() if group is None else group)
    conn.execute(_UPSERT, {**key, "names": names, "blob": blob})
