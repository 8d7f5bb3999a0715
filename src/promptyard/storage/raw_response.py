"""A cell's raw response as stored: only what the cell's other columns do not hold.

The output text, the tool calls, the finish reason and the token counts are columns of
the cell; `compact_raw` takes them out of the provider's raw response (when they agree
with the columns), notes what it took in `promptyard_stored`, and leaves out fields
that are null; `full_raw` puts the taken fields back, so the trace view shows every
value the provider sent (a null field reads as absent).
"""

from __future__ import annotations

import json
from typing import Any

STORED_KEY = "promptyard_stored"  # what was taken out: "content", "tool_calls", ...
_LEGACY_NOTE = "promptyard_output"  # older rows: content left out, said in a sentence


def _first_message(raw: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    choices = raw.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None, None
    message = choices[0].get("message")
    return choices[0], message if isinstance(message, dict) else None


_TOKEN_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")


def _usage_matches(usage: Any, prompt: int | None, completion: int | None) -> bool:
    """True when the usage block's token counts are the cell's columns (and their sum)."""
    if not isinstance(usage, dict) or prompt is None or completion is None:
        return False
    same = (usage.get("prompt_tokens"), usage.get("completion_tokens")) == (prompt, completion)
    return same and usage.get("total_tokens") in (None, prompt + completion)


def compact_raw(
    raw: dict[str, Any] | None,
    *,
    text: str | None,
    tool_calls: list[dict[str, Any]] | None,
    finish_reason: str | None,
    prompt_tokens: int | None,
    completion_tokens: int | None,
) -> dict[str, Any] | None:
    """The raw response without what the cell's columns hold (a copy; `raw` is kept)."""
    if not isinstance(raw, dict):
        return raw
    out = dict(raw)
    taken: list[str] = []
    choice, message = _first_message(raw)
    if choice is not None:
        choice = dict(choice)
        if message is not None:
            message = dict(message)
            if text and message.get("content") == text:
                message["content"] = None  # kept as null: the output column holds it
                taken.append("content")
            if tool_calls and message.get("tool_calls") == tool_calls:
                message["tool_calls"] = None
                taken.append("tool_calls")
            choice["message"] = message
        if finish_reason is not None and choice.get("finish_reason") == finish_reason:
            del choice["finish_reason"]
            taken.append("finish_reason")
        out["choices"] = [choice, *raw["choices"][1:]]
    usage = raw.get("usage")
    if _usage_matches(usage, prompt_tokens, completion_tokens):
        assert isinstance(usage, dict)
        out["usage"] = {k: v for k, v in usage.items() if k not in _TOKEN_KEYS}
        taken.append("usage" if "total_tokens" in usage else "usage-no-total")
    if taken:
        out[STORED_KEY] = taken
    return _without_nulls(out)


def _without_nulls(value: Any, keep: str | None = None) -> Any:
    """`value` with null-valued keys left out (an SDK fills every field it knows with
    null); the message's `content` null stays, it marks the output's place."""
    if isinstance(value, dict):
        return {
            k: _without_nulls(v, "content" if k == "message" else None)
            for k, v in value.items()
            if v is not None or k == keep
        }
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def full_raw(
    stored: str | None,
    *,
    output: str | None,
    output_truncated: bool,
    tool_calls_json: str | None,
    finish_reason: str | None,
    prompt_tokens: int | None,
    completion_tokens: int | None,
) -> Any:
    """The raw response as the provider sent it, from the stored remainder and the cell's
    columns (text that is not JSON comes back as it is; None stays None)."""
    if not stored:
        return None
    try:
        raw = json.loads(stored)
    except ValueError:
        return stored
    if not isinstance(raw, dict):
        return raw
    taken = raw.pop(STORED_KEY, None) or []
    if raw.pop(_LEGACY_NOTE, None) is not None:
        taken = [*taken, "content"]
    choice, message = _first_message(raw)
    if message is not None and "content" in taken and not output_truncated:
        message["content"] = output
    if message is not None and "tool_calls" in taken and tool_calls_json:
        message["tool_calls"] = json.loads(tool_calls_json)
    if choice is not None and "finish_reason" in taken:
        choice["finish_reason"] = finish_reason
    if isinstance(raw.get("usage"), dict) and ("usage" in taken or "usage-no-total" in taken):
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
        if "usage" in taken and prompt_tokens is not None and completion_tokens is not None:
            usage["total_tokens"] = prompt_tokens + completion_tokens
        raw["usage"] = {**usage, **raw["usage"]}
    return raw


def cell_raw_response(cell: Any) -> Any:
    """A stored cell's raw response as the provider sent it: the stored remainder with the
    output, tool calls, finish reason and token counts put back from the cell's columns."""
    return full_raw(
        cell.raw_response_json,
        output=cell.output,
        output_truncated=cell.output_truncated,
        tool_calls_json=cell.tool_calls_json,
        finish_reason=cell.finish_reason,
        prompt_tokens=cell.prompt_tokens,
        completion_tokens=cell.completion_tokens,
    )
