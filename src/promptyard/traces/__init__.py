"""Traces from production: spans received over OpenTelemetry OTLP/HTTP and end users' feedback.

`promptyard collect` (traces.collector) decodes OTLP bodies (traces.otlp), maps the GenAI
semantic conventions and OpenInference attributes to columns (traces.semconv) and stores
each request's spans in one transaction (traces.ingest); feedback on a trace goes through
traces.feedback. The tables are storage.Span and storage.TraceFeedback.

`feedback` (the client an app calls) is imported at once and stays light; the server side
(Ingestor, CollectorHandle, start_collector) is imported on first use.
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
    "SpanScoreView": "scores",
    "span_scores": "scores",
}

__all__ = [
    "COLLECTOR_PORT_ENV",
    "COLLECTOR_URL_ENV",
    "CollectorHandle",
    "DEFAULT_COLLECTOR_PORT",
    "FeedbackError",
    "Ingestor",
    "MAX_BODY_BYTES",
    "OtlpError",
    "RawSpan",
    "SpanScoreView",
    "collector_url",
    "decode_traces",
    "feedback",
    "map_span",
    "record_feedback",
    "scrub_attributes",
    "span_scores",
    "start_collector",
]


def __getattr__(name: str) -> Any:
    """Import a server-side name (sqlmodel, the models part) on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'promptyard.traces' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"promptyard.traces.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from promptyard.traces.collector import MAX_BODY_BYTES, CollectorHandle, start_collector
    from promptyard.traces.ingest import Ingestor
    from promptyard.traces.scores import SpanScoreView, span_scores
    from promptyard.traces.scrub import scrub_attributes
    from promptyard.traces.semconv import map_span
