"""What an online suite reads from a received LLM span: its filter, its deterministic
sample, and the output and context its evaluators grade (like a run cell's)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from promptyard.evals.evaluators import EvalContext
from promptyard.evals.suites import OnlineConfig
from promptyard.storage import Span, SpanStatus


def sample_point(suite: str, trace_id: str, span_id: str) -> float:
    """A number in [0, 1) fixed by the suite and the span's identity: a span is sampled
    when it is below the rate, so a re-run (or another process) samples the same spans."""
    digest = hashlib.sha256(f"{suite}\0{trace_id}\0{span_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def matches(cfg: OnlineConfig, span: Span) -> bool:
    """True when the span passes the suite's filter (prompt, label, model, service)."""
    if cfg.prompts and span.prompt_name not in cfg.prompts:
        return False
    if cfg.labels and span.prompt_label not in cfg.labels:
        return False
    if cfg.models and not ({span.request_model, span.response_model} & set(cfg.models)):
        return False
    return not (cfg.services and span.service_name not in cfg.services)


def _json(text: str | None, default: Any) -> Any:
    try:
        value = json.loads(text) if text else default
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


def _tool_calls(span: Span) -> list[dict[str, Any]] | None:
    calls: list[dict[str, Any]] = []
    for message in _json(span.output_messages_json, []):
        if isinstance(message, dict) and isinstance(message.get("tool_calls"), list):
            calls.extend(c for c in message["tool_calls"] if isinstance(c, dict))
    return calls or None


def span_context(span: Span) -> tuple[str | None, EvalContext]:
    """The text code evaluators grade (None for a failed call) and the context: the
    input messages, the prompt variables as the row (`reference` among them, if any)."""
    variables = _json(span.prompt_variables_json, {})
    reference = variables.get("reference")
    tool_calls = _tool_calls(span)
    error = None
    if span.status == SpanStatus.ERROR:
        error = f"span error: {span.status_message or 'the call failed'}"
    ctx = EvalContext(
        inputs=variables,
        reference=reference if isinstance(reference, str) else None,
        latency_ms=span.duration_ms,
        cost_usd=span.cost_usd,
        prompt_tokens=span.input_tokens,
        completion_tokens=span.output_tokens,
        model=span.response_model or span.request_model,
        prompt_name=span.prompt_name,
        messages=[m for m in _json(span.input_messages_json, []) if isinstance(m, dict)],
        error=error,
        tool_calls=tool_calls,
    )
    if error is not None:
        return None, ctx
    output = span.output_text
    if output is None and tool_calls:
        output = json.dumps(tool_calls, ensure_ascii=False)
    return output, ctx
