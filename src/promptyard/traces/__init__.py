"""Traces from production: spans received over OpenTelemetry OTLP/HTTP and end users' feedback.

`promptyard collect` (traces.collector) decodes OTLP bodies (traces.otlp), maps the GenAI
semantic conventions and OpenInference attributes to columns (traces.semconv) and stores
each request's spans in one transaction (traces.ingest); feedback on a trace goes through
traces.feedback. The tables are storage.Span and storage.TraceFeedback.

Reading them back: `list_spans` (the Traces list, filtered by `SpanFilters`, keyset-paged),
`trace_detail` (one trace's span tree and LLM calls), `session_turns` (a conversation turn
by turn), `traces_to_dataset` (production cases into a dataset version) and
`feedback_by_version` (the dashboard's count of end-user feedback).

`feedback` (the client an app calls) is imported at once and stays light; the server side
(Ingestor, CollectorHandle, start_collector) and the reading names are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from promptyard.traces.feedback import (
    COLLECTOR_PORT_ENV,
    COLLECTOR_URL_ENV,
    FeedbackError,
    collector_url,
    feedback,
    record_feedback,
)
from promptyard.traces.otlp import OtlpError, RawSpan, decode_traces

DEFAULT_COLLECTOR_PORT = 4318
"""The OTLP/HTTP port `promptyard collect` listens on (PROMPTYARD_COLLECTOR_PORT overrides it)."""

_LAZY = {
    "CollectorHandle": "collector",
    "MAX_BODY_BYTES": "collector",
    "start_collector": "collector",
    "Ingestor": "ingest",
    "map_span": "semconv",
    "scrub_attributes": "scrub",
    "Feedback": "detail",
    "SpanNode": "detail",
    "TraceDetail": "detail",
    "trace_detail": "detail",
    "TEXT_SCAN_WINDOW": "filtering",
    "SpanFilters": "filtering",
    "SpanScope": "filtering",
    "TraceQueryError": "filtering",
    "check_trace_id": "filtering",
    "COUNT_CAP": "queries",
    "FeedbackSummary": "queries",
    "SpanPage": "queries",
    "SpanRow": "queries",
    "TraceOptions": "queries",
    "count_spans": "queries",
    "list_spans": "queries",
    "trace_options": "queries",
    "SessionSummary": "sessions",
    "SessionView": "sessions",
    "Turn": "sessions",
    "recent_sessions": "sessions",
    "session_turns": "sessions",
    "VersionFeedback": "summary",
    "feedback_by_version": "summary",
    "TracesAdded": "to_dataset",
    "row_id": "to_dataset",
    "traces_to_dataset": "to_dataset",
    "SpanScoreView": "scores",
    "span_scores": "scores",
}

__all__ = [
    "COLLECTOR_PORT_ENV",
    "COLLECTOR_URL_ENV",
    "COUNT_CAP",
    "DEFAULT_COLLECTOR_PORT",
    "MAX_BODY_BYTES",
    "TEXT_SCAN_WINDOW",
    "CollectorHandle",
    "Feedback",
    "FeedbackError",
    "FeedbackSummary",
    "Ingestor",
    "OtlpError",
    "RawSpan",
    "SessionSummary",
    "SessionView",
    "SpanFilters",
    "SpanNode",
    "SpanPage",
    "SpanRow",
    "SpanScope",
    "TraceDetail",
    "TraceOptions",
    "TraceQueryError",
    "TracesAdded",
    "Turn",
    "VersionFeedback",
    "check_trace_id",
    "SpanScoreView",
    "collector_url",
    "count_spans",
    "decode_traces",
    "feedback",
    "feedback_by_version",
    "list_spans",
    "map_span",
    "recent_sessions",
    "record_feedback",
    "row_id",
    "scrub_attributes",
    "session_turns",
    "span_scores",
    "start_collector",
    "trace_detail",
    "trace_options",
    "traces_to_dataset",
]


def __getattr__(name: str) -> Any:
    """Import a server-side or reading name (sqlmodel, the models and datasets parts) on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'promptyard.traces' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"promptyard.traces.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from promptyard.traces.collector import MAX_BODY_BYTES, CollectorHandle, start_collector
    from promptyard.traces.detail import Feedback, SpanNode, TraceDetail, trace_detail
    from promptyard.traces.filtering import (
        TEXT_SCAN_WINDOW,
        SpanFilters,
        SpanScope,
        TraceQueryError,
        check_trace_id,
    )
    from promptyard.traces.ingest import Ingestor
    from promptyard.traces.queries import (
        COUNT_CAP,
        FeedbackSummary,
        SpanPage,
        SpanRow,
        TraceOptions,
        count_spans,
        list_spans,
        trace_options,
    )
    from promptyard.traces.scores import SpanScoreView, span_scores
    from promptyard.traces.scrub import scrub_attributes
    from promptyard.traces.semconv import map_span
    from promptyard.traces.sessions import (
        SessionSummary,
        SessionView,
        Turn,
        recent_sessions,
        session_turns,
    )
    from promptyard.traces.summary import VersionFeedback, feedback_by_version
    from promptyard.traces.to_dataset import TracesAdded, row_id, traces_to_dataset
