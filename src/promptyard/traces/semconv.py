"""Span attributes to columns: OpenTelemetry GenAI semantic conventions and OpenInference.

`map_span(raw)` gives one `span` row (as a dict of column values) from a decoded span:
system, operation, models, parameters, tokens, messages, finish reasons, errors, the
promptyard.prompt.* link, user and session. Attributes it maps leave attributes_json;
every other attribute stays there, scrubbed of secrets. Cost and prompt_link need the
workspace and are filled in by traces.ingest.
"""

from __future__ import annotations

import json
from typing import Any

from promptyard.traces import messages as msgs
from promptyard.traces.otlp import RawSpan
from promptyard.traces.scrub import scrub_attributes

PROMPT_PREFIX = "promptyard.prompt."
PROMPT_KEYS = ("name", "version", "sha", "label", "variables")
SYSTEM_KEYS = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
REQUEST_MODEL_KEYS = ("gen_ai.request.model", "llm.request.model")
RESPONSE_MODEL_KEYS = ("gen_ai.response.model", "llm.response.model", "llm.model_name")
INPUT_TOKEN_KEYS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.token_count.prompt",
    "llm.usage.prompt_tokens",
)
OUTPUT_TOKEN_KEYS = (
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
    "llm.usage.completion_tokens",
)
USER_KEYS = ("user.id", "enduser.id", "langfuse.user.id", "gen_ai.request.user", "llm.user")
SESSION_KEYS = ("session.id", "langfuse.session.id", "gen_ai.conversation.id")
TTFT_SECONDS_KEYS = ("gen_ai.response.time_to_first_chunk", "gen_ai.server.time_to_first_token")
TTFT_MS_KEYS = ("llm.time_to_first_token_ms", "promptyard.ttft_ms")
# Parameters under gen_ai.request.* that are not parameters of the call.
_NOT_PARAMETERS = {"model", "user"}
# The columns a span inherits from its ancestors in the same trace when it lacks them.
CONTEXT_COLUMNS = (
    "prompt_name",
    "prompt_version",
    "prompt_sha",
    "prompt_label",
    "prompt_variables_json",
    "user_id",
    "session_id",
)


def _pop_first(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    found = None
    for key in keys:
        value = attrs.pop(key, None)
        if found is None and value not in (None, ""):
            found = value
    return found


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _dumps(value: Any) -> str | None:
    return None if value in (None, [], {}) else json.dumps(value, default=str, ensure_ascii=False)


def _parameters(attrs: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    invocation = attrs.pop("llm.invocation_parameters", None)
    if isinstance(invocation, str):
        try:
            invocation = json.loads(invocation)
        except ValueError:
            attrs["llm.invocation_parameters"] = invocation  # not JSON: kept as it came
            invocation = None
    if isinstance(invocation, dict):
        params.update({k: v for k, v in invocation.items() if k not in ("model", "messages")})
    for key in [k for k in attrs if k.startswith("gen_ai.request.")]:
        name = key.removeprefix("gen_ai.request.")
        if name not in _NOT_PARAMETERS and "." not in name:
            params[name] = attrs.pop(key)
        elif name.startswith("choice."):
            params[name.replace(".", "_")] = attrs.pop(key)
    return params


def _prompt(attrs: dict[str, Any]) -> dict[str, Any]:
    raw = {k: attrs.pop(PROMPT_PREFIX + k, None) for k in PROMPT_KEYS}
    if all(v in (None, "") for v in raw.values()):
        return {}
    variables = raw["variables"]
    if variables is not None and not isinstance(variables, str):
        variables = json.dumps(variables, default=str)
    version = raw["version"]
    if isinstance(version, str):
        version = version.removeprefix("v")
    return {
        "prompt_name": str(raw["name"]) if raw["name"] not in (None, "") else None,
        "prompt_version": _as_int(version),
        "prompt_sha": str(raw["sha"]) if raw["sha"] else None,
        "prompt_label": str(raw["label"]) if raw["label"] else None,
        "prompt_variables_json": variables,
    }


def _messages(
    attrs: dict[str, Any], events: list[dict[str, Any]]
) -> tuple[list[msgs.Message], list[msgs.Message], list[str], list[dict[str, Any]]]:
    inputs: list[msgs.Message] = []
    outputs: list[msgs.Message] = []
    system = attrs.pop("gen_ai.system_instructions", None)
    if system is not None:
        parts = msgs.from_json(system, "system") or []
        text = "".join(str(m.get("content") or "") for m in parts)
        inputs.append({"role": "system", "content": text})
    if "gen_ai.input.messages" in attrs:
        inputs += msgs.from_json(attrs.pop("gen_ai.input.messages"), "user") or []
    if "gen_ai.output.messages" in attrs:
        outputs += msgs.from_json(attrs.pop("gen_ai.output.messages"), "assistant") or []
    flat_in, flat_out, used = msgs.from_flat(attrs)
    for key in used:
        attrs.pop(key, None)
    if all(m["role"] == "system" for m in inputs):
        inputs += flat_in
    outputs = outputs or flat_out
    ev_in, ev_out, reasons, rest = msgs.from_events(events)
    if all(m["role"] == "system" for m in inputs):
        inputs += ev_in
    outputs = outputs or ev_out
    return inputs, outputs, reasons, rest


def resource_json(resource: dict[str, Any], secrets: list[str]) -> str | None:
    """The resource attributes of a span, scrubbed, as JSON."""
    return _dumps(scrub_attributes(resource, secrets))


def map_span(
    raw: RawSpan, secrets: list[str], resource: str | None | bool = False
) -> dict[str, Any]:
    """The `span` row of one decoded span (cost and prompt_link left None).

    `resource`: its resource_json when the caller made it already (spans of one resource
    share it), else False to make it here.
    """
    attrs = scrub_attributes(raw.attributes, secrets)
    has_llm_keys = any(k.startswith(("gen_ai.", "llm.")) for k in attrs)
    system = _pop_first(attrs, SYSTEM_KEYS)
    operation = attrs.pop("gen_ai.operation.name", None)
    request_model = _pop_first(attrs, REQUEST_MODEL_KEYS)
    response_model = _pop_first(attrs, RESPONSE_MODEL_KEYS)
    input_tokens = _as_int(_pop_first(attrs, INPUT_TOKEN_KEYS))
    output_tokens = _as_int(_pop_first(attrs, OUTPUT_TOKEN_KEYS))
    if request_model is None and "llm.model_name" in raw.attributes:
        request_model = response_model
    if operation is None and attrs.get("openinference.span.kind"):
        operation = str(attrs["openinference.span.kind"]).lower()
    params = _parameters(attrs)
    events = [
        {**e, "attributes": scrub_attributes(e.get("attributes") or {}, secrets)}
        for e in raw.events
    ]
    inputs, outputs, event_reasons, events = _messages(attrs, events)
    if not inputs and isinstance(attrs.get("input.value"), str):
        inputs = [{"role": "user", "content": attrs.pop("input.value")}]
        attrs.pop("input.mime_type", None)
    if not outputs and isinstance(attrs.get("output.value"), str):
        outputs = [{"role": "assistant", "content": attrs.pop("output.value")}]
        attrs.pop("output.mime_type", None)
    reasons = attrs.pop("gen_ai.response.finish_reasons", None)
    if isinstance(reasons, str):  # litellm sends the list as a JSON string
        try:
            parsed = json.loads(reasons)
        except ValueError:
            parsed = None
        reasons = parsed if isinstance(parsed, list) else [reasons]
    if not reasons:
        reasons = event_reasons or [
            str(m["finish_reason"]) for m in outputs if m.get("finish_reason")
        ]
    for message in (*inputs, *outputs):
        message.pop("finish_reason", None)
    ttft = _as_float(_pop_first(attrs, TTFT_MS_KEYS))
    if ttft is None:
        seconds = _as_float(_pop_first(attrs, TTFT_SECONDS_KEYS))
        ttft = seconds * 1000 if seconds is not None else None
    status_message = raw.status_message
    if raw.status == "error" and not status_message and attrs.get("error.type"):
        status_message = str(attrs["error.type"])
    is_llm = has_llm_keys and bool(
        request_model or response_model or input_tokens is not None or inputs or outputs
    )
    output_text = next((m["content"] for m in outputs if m.get("content")), None)
    row: dict[str, Any] = {
        "trace_id": raw.trace_id,
        "span_id": raw.span_id,
        "parent_span_id": raw.parent_span_id,
        "name": raw.name,
        "kind": raw.kind,
        "service_name": raw.resource.get("service.name"),
        "start_ns": raw.start_ns,
        "end_ns": raw.end_ns,
        "duration_ms": max(0, raw.end_ns - raw.start_ns) / 1e6,
        "status": raw.status,
        "status_message": status_message,
        "is_llm": is_llm,
        "system": str(system) if system is not None else None,
        "operation": str(operation) if operation is not None else None,
        "request_model": str(request_model) if request_model is not None else None,
        "response_model": str(response_model) if response_model is not None else None,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_usd": None,
        "ttft_ms": ttft,
        "input_messages_json": _dumps(inputs),
        "output_messages_json": _dumps(outputs),
        "output_text": output_text,
        "parameters_json": _dumps(params),
        "finish_reasons_json": _dumps([str(r) for r in reasons] if reasons else None),
        "prompt_name": None,
        "prompt_version": None,
        "prompt_sha": None,
        "prompt_label": None,
        "prompt_variables_json": None,
        "prompt_link": None,
        "user_id": None,
        "session_id": None,
        "events_json": _dumps(events),
        "resource_json": resource_json(raw.resource, secrets) if resource is False else resource,
    }
    row.update(_prompt(attrs))
    user = _pop_first(attrs, USER_KEYS)
    session = _pop_first(attrs, SESSION_KEYS)
    row["user_id"] = str(user) if user is not None else None
    row["session_id"] = str(session) if session is not None else None
    row["attributes_json"] = json.dumps(attrs, default=str, ensure_ascii=False)
    return row
