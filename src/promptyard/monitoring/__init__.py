"""Continuous monitoring of live traffic: metrics over stored spans for the Monitoring page.

`metrics` computes volume, error rate, nearest-rank latency and time to first token,
tokens, cost (unknown kept apart), end-user feedback and online evaluators' pass rates
per hour or day and segment; `changes` finds where new prompt versions and provider
models first appeared and ranks the top consumers.
"""

from __future__ import annotations

from promptyard.monitoring.changes import (
    CONSUMER_COLUMNS,
    ChangeKind,
    ChangeMarker,
    ConsumerKind,
    change_markers,
    top_consumers,
)
from promptyard.monitoring.metrics import (
    NO_SEGMENT,
    SEGMENT_TITLES,
    SERIES_COLUMNS,
    Granularity,
    MetricsError,
    MetricsQuery,
    Segment,
    feedback_series,
    metric_series,
    pass_rate_series,
    span_attribute_keys,
    time_bounds,
)

__all__ = [
    "CONSUMER_COLUMNS",
    "ChangeKind",
    "ChangeMarker",
    "ConsumerKind",
    "Granularity",
    "MetricsError",
    "MetricsQuery",
    "NO_SEGMENT",
    "SEGMENT_TITLES",
    "SERIES_COLUMNS",
    "Segment",
    "change_markers",
    "feedback_series",
    "metric_series",
    "pass_rate_series",
    "span_attribute_keys",
    "time_bounds",
    "top_consumers",
]
