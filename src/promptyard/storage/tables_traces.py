"""The production traces' tables (m012): spans as the collector stores them, and end users'
feedback on traces. `tables` re-exports them with the rest."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from promptyard.storage.clock import utcnow


class SpanKind(StrEnum):
    """An OpenTelemetry span's kind, as the collector stores it."""

    UNSPECIFIED = "unspecified"
    INTERNAL = "internal"
    SERVER = "server"
    CLIENT = "client"
    PRODUCER = "producer"
    CONSUMER = "consumer"


class SpanStatus(StrEnum):
    """An OpenTelemetry span's status code."""

    UNSET = "unset"
    OK = "ok"
    ERROR = "error"


class PromptLink(StrEnum):
    """Whether a span's promptyard.prompt.* attributes name a version in the workspace."""

    LINKED = "linked"
    UNKNOWN = "unknown"


class Span(SQLModel, table=True):
    """One OpenTelemetry span received by `promptyard collect` (m012).

    LLM spans (gen_ai.* or OpenInference llm.* attributes) get their model, tokens,
    messages and cost in columns; every other attribute stays in attributes_json, scrubbed.
    (trace_id, span_id) is unique: a re-sent span is ignored.
    """

    __tablename__ = "span"

    id: int | None = Field(default=None, primary_key=True)
    trace_id: str = Field(index=True)  # 32 hex digits
    span_id: str  # 16 hex digits
    parent_span_id: str | None = None
    name: str = ""
    kind: str = SpanKind.UNSPECIFIED
    service_name: str | None = None
    # BIGINT as in the migration: PostgreSQL's INTEGER cannot hold nanoseconds since 1970.
    start_ns: int = Field(default=0, index=True, sa_type=BigInteger)
    end_ns: int = Field(default=0, sa_type=BigInteger)
    duration_ms: float = 0.0
    status: str = SpanStatus.UNSET
    status_message: str | None = None
    is_llm: bool = False
    system: str | None = None  # gen_ai.provider.name / gen_ai.system / llm.provider
    operation: str | None = None  # gen_ai.operation.name, e.g. "chat"
    request_model: str | None = None
    response_model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None  # None means the price is unknown, not free
    ttft_ms: float | None = None
    input_messages_json: str | None = None  # [{"role", "content", "tool_calls"?}]
    output_messages_json: str | None = None
    output_text: str | None = None  # the first output message's text, for search
    parameters_json: str | None = None  # {"temperature": ..., "max_tokens": ...}
    finish_reasons_json: str | None = None
    prompt_name: str | None = None
    prompt_version: int | None = None
    prompt_sha: str | None = None
    prompt_label: str | None = None
    prompt_variables_json: str | None = None
    prompt_link: str | None = None  # a PromptLink; None when no prompt attributes
    user_id: str | None = None
    session_id: str | None = None
    attributes_json: str = "{}"
    events_json: str | None = None
    resource_json: str | None = None
    received_at: datetime = Field(default_factory=utcnow)


class TraceFeedback(SQLModel, table=True):
    """An end user's score of a trace (or one span of it) under a rating scheme (m012)."""

    __tablename__ = "trace_feedback"

    id: int | None = Field(default=None, primary_key=True)
    trace_id: str = Field(index=True)
    span_id: str | None = None
    name: str  # a rating scheme name from ratings.yaml
    value: float | None = None  # numeric and boolean schemes
    value_text: str | None = None  # categorical and free-text schemes
    comment: str | None = None
    source: str = "end_user"
    created_at: datetime = Field(default_factory=utcnow)
