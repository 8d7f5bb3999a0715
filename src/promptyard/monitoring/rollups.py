"""Sums over a range from migration 025's hourly rollups, exact to the span.

A range is split into the whole UTC hours inside it, answered by `span_rollup` (or
`span_rollup_user`), and the parts of an hour at its ends, answered by the spans
themselves; both are summed in one statement. The page's ranges are whole hours, so it
reads rollup rows only: a few per hour whatever the traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from promptyard.monitoring.metrics import NO_SEGMENT, MetricsQuery, Segment

NS_PER_HOUR = 3_600 * 1_000_000_000

# The segments a rollup row knows; user, session and attribute segments read the spans.
ROLLUP_SEGMENT_SQL = {
    Segment.NONE: "'all'",
    Segment.PROMPT_VERSION: (
        "NULLIF(r.prompt_name, '') || ' v' || CAST(NULLIF(r.prompt_version, -1) AS TEXT)"
    ),
    Segment.PROMPT_LABEL: "NULLIF(r.prompt_name, '') || '@' || NULLIF(r.prompt_label, '')",
    Segment.REQUEST_MODEL: "NULLIF(r.request_model, '')",
    Segment.RESPONSE_MODEL: "NULLIF(r.response_model, '')",
    Segment.SERVICE: "NULLIF(r.service_name, '')",
}

SUM_COLUMNS = [
    "bucket", "segment", "calls", "errors", "input_tokens", "output_tokens", "cost_usd",
    "cost_unknown",
]  # fmt: skip


@dataclass(frozen=True)
class Split:
    """[since, until) as rollup hours [h0, h1) and span edges [since, e0) and [e1, until)."""

    since: int
    until: int
    h0: int
    h1: int
    e0: int
    e1: int

    @property
    def params(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "h0": self.h0,
            "h1": self.h1,
            "e0": self.e0,
            "e1": self.e1,
            "llm": True,
        }


def split(since_ns: int, until_ns: int) -> Split:
    """The whole hours of [since_ns, until_ns) and what is left at its ends."""
    h0, h1 = -(-since_ns // NS_PER_HOUR), until_ns // NS_PER_HOUR
    if h0 >= h1:
        return Split(since_ns, until_ns, 0, 0, until_ns, until_ns)
    return Split(since_ns, until_ns, h0, h1, h0 * NS_PER_HOUR, h1 * NS_PER_HOUR)


_EDGES = (
    "s.is_llm = :llm AND ((s.start_ns >= :since AND s.start_ns < :e0)"
    " OR (s.start_ns >= :e1 AND s.start_ns < :until))"
)


def _figures(row: str) -> str:
    """One span's sums, in span_rollup's column order after the keys."""
    return (
        f"1, CASE WHEN {row}.status = 'error' THEN 1 ELSE 0 END,"
        f" COALESCE({row}.input_tokens, 0), CASE WHEN {row}.input_tokens IS NULL THEN 0 ELSE 1 END,"
        f" COALESCE({row}.output_tokens, 0),"
        f" CASE WHEN {row}.output_tokens IS NULL THEN 0 ELSE 1 END,"
        f" COALESCE({row}.cost_usd, 0), CASE WHEN {row}.cost_usd IS NULL THEN 0 ELSE 1 END"
    )


_ROLLED = (
    "r.calls, r.errors, r.input_tokens, r.input_known, r.output_tokens, r.output_known,"
    " r.cost_usd, r.cost_known"
)
_TOTALS = (
    "SUM(calls), SUM(errors), SUM(input_tokens), SUM(input_known), SUM(output_tokens),"
    " SUM(output_known), SUM(cost_usd), SUM(cost_known)"
)


def _frame(rows: list[Any]) -> pd.DataFrame:
    """Summed rows (bucket, segment, then _TOTALS) as SUM_COLUMNS: a sum with no known
    value is NaN, never 0; `cost_unknown` counts the calls without a price."""
    if not rows:
        return pd.DataFrame(columns=SUM_COLUMNS)
    cols = list(zip(*rows, strict=True))
    calls = np.asarray(cols[2], dtype=np.int64)

    def known(total: int, count: int) -> np.ndarray:
        return np.where(np.asarray(cols[count], dtype=np.int64) > 0, cols[total], np.nan)

    return pd.DataFrame(
        {
            "bucket": np.asarray(cols[0], dtype=np.int64),
            "segment": pd.Series(cols[1], dtype=object).fillna(NO_SEGMENT).astype(str),
            "calls": calls,
            "errors": np.asarray(cols[3], dtype=np.int64),
            "input_tokens": known(4, 5).astype(float),
            "output_tokens": known(6, 7).astype(float),
            "cost_usd": known(8, 9).astype(float),
            "cost_unknown": calls - np.asarray(cols[9], dtype=np.int64),
        }
    )


def bucket_sums(conn: Connection, query: MetricsQuery, span_segment: str) -> pd.DataFrame:
    """Calls, errors, known tokens and cost per (bucket, segment) over the query's range;
    `span_segment` is the segment's SQL over a span (alias `s`) for the range's ends."""
    rolled = ROLLUP_SEGMENT_SQL[query.segment]
    parts = split(query.since_ns, query.until_ns)
    stmt = text(
        f"SELECT b, seg, {_TOTALS} FROM ("
        f" SELECT r.hour / :per AS b, {rolled} AS seg, {_ROLLED} FROM span_rollup r"
        "  WHERE r.hour >= :h0 AND r.hour < :h1"
        f" UNION ALL SELECT s.start_ns / :size, {span_segment}, {_figures('s')}"
        f"  FROM span s WHERE {_EDGES}"
        ") AS u GROUP BY b, seg HAVING SUM(calls) > 0"
    )
    size = query.granularity.ns
    params = {
        **parts.params,
        "per": size // NS_PER_HOUR,
        "size": size,
        "attr_key": query.attribute or "",
        "attr_path": f'$."{query.attribute or ""}"',
    }
    return _frame(list(conn.execute(stmt, params).all()))


def consumer_sums(conn: Connection, user: bool, since_ns: int, until_ns: int) -> pd.DataFrame:
    """Per user (or per service): calls, known tokens and cost over [since_ns, until_ns)."""
    table, column = ("span_rollup_user", "user_id") if user else ("span_rollup", "service_name")
    figures = _figures("s")
    no_errors = figures.replace("CASE WHEN s.status = 'error' THEN 1 ELSE 0 END,", "", 1)
    rolled = _ROLLED.replace("r.errors, ", "")
    stmt = text(
        f"SELECT consumer, 0, {_TOTALS.replace('SUM(errors), ', '')} FROM ("
        f" SELECT NULLIF(r.{column}, '') AS consumer, {rolled} FROM {table} r"
        "  WHERE r.hour >= :h0 AND r.hour < :h1"
        f" UNION ALL SELECT s.{column}, {no_errors} FROM span s WHERE {_EDGES}"
        ") AS u GROUP BY consumer HAVING SUM(calls) > 0"
    )
    rows = conn.execute(stmt, split(since_ns, until_ns).params).all()
    # Shaped as bucket sums (bucket 0, no errors column) so one reader turns them to a frame.
    shaped = [(0, r[0], r[2], 0, *r[3:]) for r in rows]
    df = _frame(shaped)
    return df.rename(columns={"segment": "consumer"}).drop(columns=["bucket", "errors"])
