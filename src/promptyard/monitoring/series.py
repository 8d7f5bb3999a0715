"""The Monitoring page's series: volume, errors, latency, TTFT, tokens and cost per bucket.

Sums come from migration 025's hourly rollups (`rollups.bucket_sums`), percentiles from
the exact per-bucket cache (`percentiles.bucket_percentiles`): a range costs its buckets,
not its spans. Segments no rollup knows (user, session, a span attribute) come from each
bucket's figures per segment, computed from its spans once and kept (`segments`, m027).
Each gives the same figures as reading the spans (`metrics.span_series`).
"""

from __future__ import annotations

import pandas as pd

from promptyard.monitoring.metrics import (
    SERIES_COLUMNS,
    MetricsQuery,
    _bucket_time,
    _params,
    _url,
    segment_sql,
)
from promptyard.monitoring.percentiles import VALUE_COLUMNS, bucket_percentiles
from promptyard.monitoring.rollups import ROLLUP_SEGMENT_SQL, bucket_sums
from promptyard.monitoring.segments import segment_series
from promptyard.storage import get_engine
from promptyard.workspace import Workspace


def metric_series(ws: Workspace | str, query: MetricsQuery) -> pd.DataFrame:
    """One row per (bucket start `time`, `segment`) with the SERIES_COLUMNS, oldest first.

    `cost_usd` is NaN in a bucket where no span's price is known; `cost_unknown` counts
    the spans left out of it. Percentiles are exact (nearest rank) and NaN where no span
    succeeded.
    """
    if query.segment not in ROLLUP_SEGMENT_SQL:
        return segment_series(ws, query)
    url = _url(ws)
    engine = get_engine(url)
    segment = segment_sql(query, engine.dialect.name)
    with engine.connect() as conn:
        sums = bucket_sums(conn, query, segment)
    if sums.empty:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    values = bucket_percentiles(url, query, segment, _params(query))
    values["bucket"] = values["bucket"].astype("int64")
    df = sums.merge(values, on=["bucket", "segment"], how="left")
    for column in VALUE_COLUMNS:
        df[column] = df[column].astype(float)
    df["error_rate"] = df["errors"] / df["calls"]
    df["time"] = _bucket_time(df["bucket"], query.granularity.ns)
    df = df.sort_values(["time", "segment"], ignore_index=True)
    return df[SERIES_COLUMNS]
