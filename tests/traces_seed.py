"""Spans and feedback written straight through the tables, as `promptyard collect` stores them."""

from __future__ import annotations

import json
from typing import Any

from promptyard.storage import Span, TraceFeedback, db

T0 = 1_764_590_400_000_000_000  # 2025-12-01 12:00:00 UTC in ns
MS = 1_000_000


def trace_id(n: int) -> str:
    return f"{n:032x}"


def span_id(n: int, k: int = 0) -> str:
    return f"{n:012x}{k:04x}"


def llm_span(n: int, k: int = 0, **fields: Any) -> Span:
    """The LLM span `k` of trace `n`, started n seconds after T0; `fields` override."""
    start = fields.pop("start_ns", T0 + n * 1_000 * MS + k * 10 * MS)
    duration = fields.pop("duration_ms", 120.0)
    variables = fields.pop("variables", {"text": f"ticket {n}: the desk arrived broken"})
    question = str(variables.get("text")) if variables else f"question {n}"
    output = fields.pop("output", f"answer {n}")
    values: dict[str, Any] = {
        "trace_id": trace_id(n),
        "span_id": span_id(n, k),
        "parent_span_id": None,
        "name": "chat gpt-4o-mini",
        "kind": "client",
        "start_ns": start,
        "end_ns": start + int(duration * MS),
        "duration_ms": duration,
        "status": "ok",
        "is_llm": True,
        "system": "openai",
        "operation": "chat",
        "request_model": "gpt-4o-mini",
        "response_model": "gpt-4o-mini-2024-07-18",
        "input_tokens": 20,
        "output_tokens": 5,
        "cost_usd": 0.0001,
        "input_messages_json": json.dumps(
            [{"role": "system", "content": "Be brief."}, {"role": "user", "content": question}]
        ),
        "output_messages_json": json.dumps([{"role": "assistant", "content": output}]),
        "output_text": output,
        "parameters_json": json.dumps({"temperature": 0.2, "max_tokens": 64}),
        "finish_reasons_json": json.dumps(["stop"]),
        "prompt_name": "summarize",
        "prompt_version": 1,
        "prompt_sha": "a" * 40,
        "prompt_label": "production",
        "prompt_variables_json": json.dumps(variables) if variables is not None else None,
        "prompt_link": "linked",
        "user_id": "alice",
        "session_id": None,
        "attributes_json": "{}",
    }
    values.update(fields)
    return Span(**values)


def root_span(n: int, **fields: Any) -> Span:
    """The root (server) span of trace `n`, around its LLM spans."""
    start = T0 + n * 1_000 * MS - 5 * MS
    values: dict[str, Any] = {
        "trace_id": trace_id(n),
        "span_id": span_id(n, 0xFFFF),
        "name": "POST /ask",
        "kind": "server",
        "start_ns": start,
        "end_ns": start + 300 * MS,
        "duration_ms": 300.0,
        "status": "ok",
        "is_llm": False,
        "attributes_json": json.dumps({"http.route": "/ask"}),
    }
    values.update(fields)
    return Span(**values)


def add(ws: Any, *rows: Span | TraceFeedback) -> None:
    def _write(s: Any) -> None:
        for row in rows:
            s.add(row)

    db.write(ws, _write)


def feedback(n: int, value: float | None, name: str = "thumbs", **fields: Any) -> TraceFeedback:
    return TraceFeedback(trace_id=trace_id(n), name=name, value=value, **fields)
