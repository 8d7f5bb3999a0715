"""Metrics of live traffic over the stored LLM spans, per hour or day, for the Monitoring page.

The functions here read the `span` table (and `trace_feedback`, and `span_score` when
online evaluation has made it) with plain SQL over the start-time index; `series` reads
migration 025's rollups for the same figures. Each returns a DataFrame with one row per
(bucket, segment):

- volume is the LLM spans started in the bucket; error rate is those whose status is
  "error" over all of them;
- latency p50/p95/p99 and time to first token are nearest-rank (the dashboard's
  `stats.nearest_rank`), exact, over the spans that did not fail;
- tokens are sums of the known counts; cost is the sum of the known prices, and the spans
  whose price is unknown are counted in `cost_unknown`, never added as 0;
- a bucket starts at a whole UTC hour or day (`start_ns` integer-divided by its length).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from promptyard.errors import PromptyardError
from promptyard.stats import nearest_rank
from promptyard.storage import get_engine
from promptyard.workspace import Workspace

NS_PER_HOUR = 3_600 * 1_000_000_000
NS_PER_DAY = 24 * NS_PER_HOUR
PERCENTILES = (50, 95, 99)
NO_SEGMENT = "(none)"
"""The segment of a span that has no value for the picked segment (no user, no prompt…)."""


class Granularity(StrEnum):
    """The length of one chart bucket."""

    HOUR = "hour"
    DAY = "day"

    @property
    def ns(self) -> int:
        """The bucket's length in nanoseconds."""
        return NS_PER_HOUR if self is Granularity.HOUR else NS_PER_DAY


class Segment(StrEnum):
    """What the charts draw one line per."""

    NONE = "none"
    PROMPT_VERSION = "prompt_version"
    PROMPT_LABEL = "prompt_label"
    REQUEST_MODEL = "request_model"
    RESPONSE_MODEL = "response_model"
    USER = "user"
    SESSION = "session"
    SERVICE = "service"
    ATTRIBUTE = "attribute"


SEGMENT_TITLES = {
    Segment.NONE: "nothing (all traffic)",
    Segment.PROMPT_VERSION: "prompt and version",
    Segment.PROMPT_LABEL: "prompt and label",
    Segment.REQUEST_MODEL: "model (requested)",
    Segment.RESPONSE_MODEL: "model (provider-reported)",
    Segment.USER: "user",
    Segment.SESSION: "session",
    Segment.SERVICE: "service",
    Segment.ATTRIBUTE: "a span attribute",
}

_SEGMENT_SQL = {
    Segment.NONE: "'all'",
    Segment.PROMPT_VERSION: "s.prompt_name || ' v' || CAST(s.prompt_version AS TEXT)",
    Segment.PROMPT_LABEL: "s.prompt_name || '@' || s.prompt_label",
    Segment.REQUEST_MODEL: "s.request_model",
    Segment.RESPONSE_MODEL: "s.response_model",
    Segment.USER: "s.user_id",
    Segment.SESSION: "s.session_id",
    Segment.SERVICE: "s.service_name",
}


class MetricsError(PromptyardError):
    """A metrics query that cannot be answered as asked (a bad attribute name, a bad range)."""


@dataclass(frozen=True)
class MetricsQuery:
    """Which spans and how to group them: [since_ns, until_ns) by granularity and segment."""

    since_ns: int
    until_ns: int
    granularity: Granularity = Granularity.HOUR
    segment: Segment = Segment.NONE
    attribute: str | None = None  # the attributes_json key when segment is ATTRIBUTE

    def __post_init__(self) -> None:
        if self.until_ns <= self.since_ns:
            raise MetricsError(f"range: the end ({self.until_ns}) is not after the start")
        if self.segment is Segment.ATTRIBUTE and not (self.attribute or "").strip():
            raise MetricsError("segment: pick the span attribute to segment by")
        if self.attribute and ('"' in self.attribute or "\\" in self.attribute):
            raise MetricsError(f'attribute {self.attribute!r}: a name may not hold " or \\')


def _url(ws: Workspace | str) -> str:
    return ws if isinstance(ws, str) else ws.database_url


def segment_sql(query: MetricsQuery, dialect: str) -> str:
    """The SQL expression of a span's segment (alias `s`), NULL when it has none."""
    if query.segment is not Segment.ATTRIBUTE:
        return _SEGMENT_SQL[query.segment]
    if dialect == "postgresql":
        return "CAST(s.attributes_json AS json) ->> :attr_key"
    return "CAST(json_extract(s.attributes_json, :attr_path) AS TEXT)"


def _params(query: MetricsQuery) -> dict[str, Any]:
    key = query.attribute or ""
    return {
        "since": query.since_ns,
        "until": query.until_ns,
        "size": query.granularity.ns,
        "attr_key": key,
        "attr_path": f'$."{key}"',
    }


def _where() -> str:
    return "s.is_llm = :llm AND s.start_ns >= :since AND s.start_ns < :until"


def _bucket_time(bucket: pd.Series, size: int) -> pd.Series:
    return pd.to_datetime(bucket.astype("int64") * size, unit="ns", utc=True)


def _percentiles(df: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Nearest-rank p50/p95/p99 of `value` per (bucket, segment) of a frame of them."""
    columns = ["bucket", "segment", *(f"{prefix}_p{p}" for p in PERCENTILES)]
    if df.empty:
        return pd.DataFrame(columns=columns)
    df = df.sort_values(["bucket", "segment", "value"], ignore_index=True)
    sizes = df.groupby(["bucket", "segment"], sort=False).size()
    counts = sizes.to_numpy()
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    sorted_values = df["value"].to_numpy()
    out = sizes.index.to_frame(index=False)
    for p in PERCENTILES:
        ranks = np.array([nearest_rank(p, int(n)) for n in counts], dtype=np.int64)
        out[f"{prefix}_p{p}"] = sorted_values[starts + ranks - 1]
    return out[columns]


SERIES_COLUMNS = [
    "time", "segment", "calls", "errors", "error_rate",
    "latency_p50", "latency_p95", "latency_p99", "ttft_p50", "ttft_p95", "ttft_p99",
    "input_tokens", "output_tokens", "cost_usd", "cost_unknown",
]  # fmt: skip


def span_series(ws: Workspace | str, query: MetricsQuery) -> pd.DataFrame:
    """`series.metric_series` read from the spans themselves, every span of the range once:
    for the segments no rollup knows (user, session, a span attribute)."""
    engine = get_engine(_url(ws))
    seg = segment_sql(query, engine.dialect.name)
    # One pass over the range's rows, aggregated here: SQLite reads each row once instead
    # of once per aggregate and once per percentile.
    stmt = text(
        f"SELECT s.start_ns / :size, {seg},"
        " CASE WHEN s.status = 'error' THEN 1 ELSE 0 END,"
        " s.duration_ms, s.ttft_ms, s.input_tokens, s.output_tokens, s.cost_usd"
        f" FROM span s WHERE {_where()}"
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt, {**_params(query), "llm": True}).all()
    if not rows:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    # Columns, not Row objects: building a frame from a million Rows costs seconds.
    cols = list(zip(*rows, strict=True))
    spans = pd.DataFrame(
        {
            "bucket": np.asarray(cols[0], dtype=np.int64),
            "segment": pd.Series(cols[1], dtype=object).fillna(NO_SEGMENT).astype(str),
            "error": np.asarray(cols[2], dtype=np.int64),
            "duration": np.asarray(cols[3], dtype=float),
            "ttft": np.asarray([np.nan if v is None else v for v in cols[4]], dtype=float),
            "input_tokens": pd.array(cols[5], dtype="Float64"),
            "output_tokens": pd.array(cols[6], dtype="Float64"),
            "cost_usd": pd.array(cols[7], dtype="Float64"),
        }
    )
    spans["cost_unknown"] = spans["cost_usd"].isna().astype(np.int64)
    df = spans.groupby(["bucket", "segment"], as_index=False).agg(
        calls=("error", "size"),
        errors=("error", "sum"),
        input_tokens=("input_tokens", lambda c: c.sum(min_count=1)),
        output_tokens=("output_tokens", lambda c: c.sum(min_count=1)),
        cost_usd=("cost_usd", lambda c: c.sum(min_count=1)),
        cost_unknown=("cost_unknown", "sum"),
    )
    for column in ("input_tokens", "output_tokens", "cost_usd"):
        df[column] = df[column].astype(float)
    ok = spans[spans["error"] == 0]
    lat = _percentiles(
        ok[["bucket", "segment", "duration"]].rename(columns={"duration": "value"}), "latency"
    )
    with_ttft = ok[ok["ttft"].notna()]
    first = _percentiles(
        with_ttft[["bucket", "segment", "ttft"]].rename(columns={"ttft": "value"}), "ttft"
    )
    df["error_rate"] = df["errors"] / df["calls"]
    df = df.merge(lat, on=["bucket", "segment"], how="left")
    df = df.merge(first, on=["bucket", "segment"], how="left")
    df["time"] = _bucket_time(df["bucket"], query.granularity.ns)
    df = df.sort_values(["time", "segment"], ignore_index=True)
    return df[SERIES_COLUMNS]


def feedback_series(ws: Workspace | str, query: MetricsQuery) -> pd.DataFrame:
    """End users' numeric feedback: mean and count per (time, segment, scheme `name`).

    A trace's feedback counts once, at the LLM span it names, or else at the trace's
    first LLM span; so a score lands where the call it judges started.
    """
    engine = get_engine(_url(ws))
    seg = segment_sql(query, engine.dialect.name)
    stmt = text(
        f"SELECT s.start_ns / :size, {seg}, f.name, AVG(f.value), COUNT(f.value)"
        " FROM trace_feedback f JOIN span s ON s.id = COALESCE("
        "   (SELECT s1.id FROM span s1 WHERE s1.trace_id = f.trace_id"
        "     AND s1.span_id = f.span_id AND s1.is_llm = :llm),"
        "   (SELECT s2.id FROM span s2 WHERE s2.trace_id = f.trace_id AND s2.is_llm = :llm"
        "     ORDER BY s2.start_ns, s2.id LIMIT 1))"
        f" WHERE f.value IS NOT NULL AND {_where()} GROUP BY 1, 2, 3"
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt, {**_params(query), "llm": True}).all()
    return _long_frame(list(rows), ["name", "mean", "count"], query)


def _long_frame(rows: list[Any], names: list[str], query: MetricsQuery) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["bucket", "segment", *names])
    if df.empty:
        return pd.DataFrame(columns=["time", "segment", *names])
    df["segment"] = df["segment"].fillna(NO_SEGMENT).astype(str)
    df["time"] = _bucket_time(df["bucket"], query.granularity.ns)
    return df.sort_values(["time", "segment"], ignore_index=True)[["time", "segment", *names]]


def has_table(conn: Connection, name: str) -> bool:
    """Whether the database has the table (span_score comes with online evaluation)."""
    return bool(inspect(conn).has_table(name))


def pass_rate_series(ws: Workspace | str, query: MetricsQuery) -> pd.DataFrame:
    """Online evaluators' pass rates per (time, segment, `suite`, `evaluator`): `passed`
    of `scored` spans that got a verdict; empty before the span_score table exists."""
    engine = get_engine(_url(ws))
    seg = segment_sql(query, engine.dialect.name)
    stmt = text(
        f"SELECT s.start_ns / :size, {seg}, sc.suite, sc.evaluator,"
        " SUM(CASE WHEN sc.passed THEN 1 ELSE 0 END), COUNT(sc.passed)"
        " FROM span_score sc JOIN span s ON s.id = sc.span_row_id"
        f" WHERE sc.passed IS NOT NULL AND {_where()} GROUP BY 1, 2, 3, 4"
    )
    with engine.connect() as conn:
        if not has_table(conn, "span_score"):
            rows: list[Any] = []
        else:
            rows = list(conn.execute(stmt, {**_params(query), "llm": True}).all())
    df = _long_frame(rows, ["suite", "evaluator", "passed", "scored"], query)
    df["pass_rate"] = df["passed"].astype(float) / df["scored"].astype(float)
    return df


def time_bounds(ws: Workspace | str) -> tuple[datetime, datetime] | None:
    """The start of the first and of the last stored LLM span, or None when there is none."""
    engine = get_engine(_url(ws))
    with engine.connect() as conn:
        if not has_table(conn, "span"):
            return None
        # Two statements: each is one seek on ix_span_llm; together in one they scan.
        low = conn.execute(
            text("SELECT MIN(start_ns) FROM span WHERE is_llm = :llm"), {"llm": True}
        ).scalar()
        high = conn.execute(
            text("SELECT MAX(start_ns) FROM span WHERE is_llm = :llm"), {"llm": True}
        ).scalar()
    if low is None or high is None:
        return None
    return _when(int(low)), _when(int(high))


def _when(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)


def span_attribute_keys(ws: Workspace | str, sample: int = 500) -> list[str]:
    """The attribute names of the latest `sample` LLM spans, sorted: the ones a user can
    segment by (a fixed sample, so the picker costs the same at any table size)."""
    import json

    engine = get_engine(_url(ws))
    stmt = text(
        "SELECT attributes_json FROM span WHERE is_llm = :llm ORDER BY start_ns DESC LIMIT :n"
    )
    keys: set[str] = set()
    with engine.connect() as conn:
        for (raw,) in conn.execute(stmt, {"llm": True, "n": sample}):
            try:
                found = json.loads(raw or "{}")
            except ValueError:
                continue
            if isinstance(found, dict):
                keys.update(str(k) for k in found if '"' not in str(k))
    return sorted(keys)
