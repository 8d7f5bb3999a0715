"""Traces from production: spans received over OpenTelemetry OTLP/HTTP and end users' feedback.

`promptyard collect` (traces.collector) decodes OTLP bodies (traces.otlp), maps the GenAI
semantic conventions and OpenInference attributes to columns (traces.semconv) and stores
each request's spans in one transaction (traces.ingest); feedback on a trace goes through
traces.feedback. The tables are storage.Span and storage.TraceFeedback.
"""

DEFAULT_COLLECTOR_PORT = 4318
"""The OTLP/HTTP port `promptyard collect` listens on (PROMPTYARD_COLLECTOR_PORT overrides it)."""

__all__ = ["DEFAULT_COLLECTOR_PORT"]
