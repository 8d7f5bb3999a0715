"""One trace in full: the span tree with timing, each LLM call's messages, and feedback."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text

from promptyard.errors import NotFoundError
from promptyard.storage import db
from promptyard.traces.filtering import check_trace_id, from_ns
from promptyard.workspace import Workspace

MAX_TRACE_SPANS = 2_000
"""A trace with more spans shows its first ones (by start time) and says so."""


def _json(value: str | None, default: Any) -> Any:
    if not value:
        return default
    try:
        return json.loads(value)
    except ValueError:
        return default  # stored by the collector as JSON; a bad value is shown as absent


@dataclass(frozen=True)
class Feedback:
    """One end user's score of the trace (or of one of its spans)."""

    name: str
    value: float | None
    value_text: str | None
    comment: str | None
    span_id: str | None
    source: str
    created_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "value_text": self.value_text,
            "comment": self.comment,
            "span_id": self.span_id,
            "source": self.source,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


@dataclass(frozen=True)
class SpanNode:
    """One span of the tree: where it sits (depth, parent), when (offset from the trace's
    start, duration) and, for an LLM call, what went in and came out."""

    id: int
    span_id: str
    parent_span_id: str | None
    depth: int
    name: str
    kind: str
    service_name: str | None
    offset_ms: float
    duration_ms: float
    status: str
    status_message: str | None
    is_llm: bool
    system: str | None
    operation: str | None
    request_model: str | None
    response_model: str | None
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    ttft_ms: float | None
    input_messages: list[dict[str, Any]]
    output_messages: list[dict[str, Any]]
    output_text: str | None
    parameters: dict[str, Any]
    finish_reasons: list[Any]
    prompt_name: str | None
    prompt_version: int | None
    prompt_sha: str | None
    prompt_label: str | None
    prompt_variables: dict[str, Any] | None
    prompt_link: str | None
    user_id: str | None
    session_id: str | None
    attributes: dict[str, Any]
    events: list[Any]
    feedback: list[Feedback] = field(default_factory=list)

    @property
    def model(self) -> str | None:
        return self.response_model or self.request_model

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "feedback"}
        data["feedback"] = [f.to_dict() for f in self.feedback]
        return data


@dataclass(frozen=True)
class TraceDetail:
    """A trace: its spans in tree order (parents before children, siblings by start time),
    its totals and the feedback on it. `cost_usd` is None unless every LLM call is priced."""

    trace_id: str
    started_at: datetime
    duration_ms: float
    spans: list[SpanNode]
    feedback: list[Feedback]
    truncated: bool

    @property
    def root(self) -> SpanNode:
        return self.spans[0]

    @property
    def llm_spans(self) -> list[SpanNode]:
        return [s for s in self.spans if s.is_llm]

    @property
    def input_tokens(self) -> int | None:
        values = [s.input_tokens for s in self.llm_spans if s.input_tokens is not None]
        return sum(values) if values else None

    @property
    def output_tokens(self) -> int | None:
        values = [s.output_tokens for s in self.llm_spans if s.output_tokens is not None]
        return sum(values) if values else None

    @property
    def cost_usd(self) -> float | None:
        costs = [s.cost_usd for s in self.llm_spans]
        if not costs or any(c is None for c in costs):
            return None
        return float(sum(c for c in costs if c is not None))

    @property
    def has_error(self) -> bool:
        return any(s.status == "error" for s in self.spans)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "started_at": self.started_at.isoformat(),
            "duration_ms": self.duration_ms,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
            "error": self.has_error,
            "truncated": self.truncated,
            "feedback": [f.to_dict() for f in self.feedback],
            "spans": [s.to_dict() for s in self.spans],
        }


def _feedback(row: Any) -> Feedback:
    created = row.created_at
    if isinstance(created, str):
        created = datetime.fromisoformat(created)
    return Feedback(
        row.name, row.value, row.value_text, row.comment, row.span_id, row.source, created
    )


def _tree_order(rows: list[Any]) -> list[tuple[Any, int]]:
    """Rows depth-first from the roots; a span whose parent is not stored is a root."""
    ids = {r.span_id for r in rows}
    children: dict[str | None, list[Any]] = {}
    for r in rows:
        parent = r.parent_span_id if r.parent_span_id in ids else None
        children.setdefault(parent, []).append(r)
    ordered: list[tuple[Any, int]] = []
    seen: set[str] = set()
    stack = [(r, 0) for r in reversed(children.get(None, []))]
    while stack:
        row, depth = stack.pop()
        if row.span_id in seen:  # a cycle in bad data is cut, not followed forever
            continue
        seen.add(row.span_id)
        ordered.append((row, depth))
        stack.extend((c, depth + 1) for c in reversed(children.get(row.span_id, [])))
    # Spans caught in a parent cycle never reach a root: show them at the top level.
    ordered.extend((r, 0) for r in rows if r.span_id not in seen)
    return ordered


def trace_detail(ws: Workspace | str, trace_id: str) -> TraceDetail:
    """The trace `trace_id` (32 hex digits): span tree, LLM calls, totals, feedback.

    Raises TraceQueryError for a malformed id and NotFoundError when no span of it is stored.
    """
    trace_id = check_trace_id(trace_id)
    with db.session(ws) as s:
        conn = s.connection()
        rows = conn.execute(
            text("SELECT * FROM span WHERE trace_id = :t ORDER BY start_ns, id LIMIT :cap"),
            {"t": trace_id, "cap": MAX_TRACE_SPANS + 1},
        ).all()
        feedback_rows = conn.execute(
            text("SELECT * FROM trace_feedback WHERE trace_id = :t ORDER BY created_at, id"),
            {"t": trace_id},
        ).all()
    if not rows:
        raise NotFoundError(f"no trace {trace_id} has been received")
    truncated = len(rows) > MAX_TRACE_SPANS
    rows = list(rows[:MAX_TRACE_SPANS])
    feedback = [_feedback(r) for r in feedback_rows]
    per_span: dict[str, list[Feedback]] = {}
    for f in feedback:
        if f.span_id:
            per_span.setdefault(f.span_id, []).append(f)
    start = min(int(r.start_ns) for r in rows)
    end = max(int(r.end_ns) for r in rows)
    spans = [
        SpanNode(
            id=int(r.id),
            span_id=r.span_id,
            parent_span_id=r.parent_span_id,
            depth=depth,
            name=r.name,
            kind=r.kind,
            service_name=r.service_name,
            offset_ms=(int(r.start_ns) - start) / 1e6,
            duration_ms=float(r.duration_ms),
            status=r.status,
            status_message=r.status_message,
            is_llm=bool(r.is_llm),
            system=r.system,
            operation=r.operation,
            request_model=r.request_model,
            response_model=r.response_model,
            input_tokens=r.input_tokens,
            output_tokens=r.output_tokens,
            cost_usd=r.cost_usd,
            ttft_ms=r.ttft_ms,
            input_messages=_json(r.input_messages_json, []),
            output_messages=_json(r.output_messages_json, []),
            output_text=r.output_text,
            parameters=_json(r.parameters_json, {}),
            finish_reasons=_json(r.finish_reasons_json, []),
            prompt_name=r.prompt_name,
            prompt_version=r.prompt_version,
            prompt_sha=r.prompt_sha,
            prompt_label=r.prompt_label,
            prompt_variables=_json(r.prompt_variables_json, None),
            prompt_link=r.prompt_link,
            user_id=r.user_id,
            session_id=r.session_id,
            attributes=_json(r.attributes_json, {}),
            events=_json(r.events_json, []),
            feedback=per_span.get(r.span_id, []),
        )
        for r, depth in _tree_order(rows)
    ]
    return TraceDetail(trace_id, from_ns(start), (end - start) / 1e6, spans, feedback, truncated)
