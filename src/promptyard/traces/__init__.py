"""Traces from production: spans received over OpenTelemetry OTLP/HTTP and end users' feedback.

`promptyard collect` (traces.collector) decodes OTLP bodies (traces.otlp), maps the GenAI
semantic conventions and OpenInference attributes to columns (traces.semconv) and stores
each request's spans in one transaction (traces.ingest); feedback on a trace goes through
traces.feedback. The tables are storage.Span and storage.TraceFeedback.

Reading them back: `list_spans` (the Traces list, filtered by `SpanFilters`, keyset-paged),
`trace_detail` (one trace's span tree and LLM calls), `session_turns` (a conversation turn
by turn), `traces_to_dataset` (production cases into a dataset version) and
`feedback_by_version` (the dashboard's count of end-user feedback). They are imported on
first use, so importing this package stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

DEFAULT_COLLECTOR_PORT = 4318
"""The OTLP/HTTP port `promptyard collect` listens on (PROMPTYARD_COLLECTOR_PORT overrides it)."""

_LAZY = {
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
}

__all__ = [
    "COUNT_CAP",
    "DEFAULT_COLLECTOR_PORT",
    "TEXT_SCAN_WINDOW",
    "Feedback",
    "FeedbackSummary",
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
    "count_spans",
    "feedback_by_version",
    "list_spans",
    "recent_sessions",
    "row_id",
    "session_turns",
    "trace_detail",
    "trace_options",
    "traces_to_dataset",
]


def __getattr__(name: str) -> Any:
    """Import a reading name (sqlmodel, the datasets part) on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'promptyard.traces' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"promptyard.traces.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from promptyard.traces.detail import Feedback, SpanNode, TraceDetail, trace_detail
    from promptyard.traces.filtering import (
        TEXT_SCAN_WINDOW,
        SpanFilters,
        SpanScope,
        TraceQueryError,
        check_trace_id,
    )
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
    from promptyard.traces.sessions import (
        SessionSummary,
        SessionView,
        Turn,
        recent_sessions,
        session_turns,
    )
    from promptyard.traces.summary import VersionFeedback, feedback_by_version
    from promptyard.traces.to_dataset import TracesAdded, row_id, traces_to_dataset
