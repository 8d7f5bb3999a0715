"""A cell's raw response as stored: only what the cell's other columns do not hold.

The output text, the tool calls, the finish reason and the token counts are columns of
the cell; `compact_raw` takes them out of the provider's raw response (when they agree
with the columns), and the values every chat completion has (`"object":
"chat.completion"`, the first choice's index 0, the assistant role, an empty usage
block), notes what it took in `~` (a letter each; rows before m024 say it in
`promptyard_stored`), and leaves out fields that are null; `full_raw` puts the taken
fields back, so the trace view shows every value the provider sent (a null field reads
as absent).
"""

from __future__ import annotations

import json
from typing import Any

STORED_KEY = "promptyard_stored"  # rows before m024: what was taken out, by name
TAKEN_KEY = "~"  # since m024: what was taken out, one letter each (_CODES)
_LEGACY_NOTE = "promptyard_output"  # older rows: content left out, said in a sentence
# What compact_raw takes out, and the letter that says so: values the cell's columns hold
# (content, tool calls, finish reason, token counts) and values every answer of the chat
# completions format has (its object name, the first choice's index, the assistant role).
_CODES = {
    "content": "c", "tool_calls": "t", "finish_reason": "f", "usage": "u",
    "usage-no-total": "n", "object": "o", "index": "i", "role": "r", "message": "m",
    "choices": "h", "usage-empty": "e",
}  # fmt: skip
_NAMES = {code: name for name, code in _CODES.items()}
_OBJECT = "chat.completion"
_ROLE = "assistant"


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


def _compact_choice(
    choice: dict[str, Any], text: str | None, tool_calls: Any, finish_reason: str | None
) -> tuple[dict[str, Any] | None, list[str]]:
    """The first choice without what the columns hold or every answer has (None: nothing
    is left of it), and what was taken."""
    out = {k: v for k, v in choice.items() if v is not None}
    taken: list[str] = []
    message = out.get("message")
    if isinstance(message, dict):
        message = {k: v for k, v in message.items() if v is not None}
        if text and message.get("content") == text:
            del message["content"]
            taken.append("content")
        if tool_calls and message.get("tool_calls") == tool_calls:
            del message["tool_calls"]
            taken.append("tool_calls")
        if message.get("role") == _ROLE:
            del message["role"]
            taken.append("role")
        if message:
            out["message"] = message
        else:
            del out["message"]
            taken.append("message")
    if finish_reason is not None and out.get("finish_reason") == finish_reason:
        del out["finish_reason"]
        taken.append("finish_reason")
    if out.get("index") == 0:
        del out["index"]
        taken.append("index")
    return (out or None), taken


def compact_raw(
    raw: dict[str, Any] | None,
    *,
    text: str | None,
    tool_calls: list[dict[str, Any]] | None,
    finish_reason: str | None,
    prompt_tokens: int | None,
    completion_tokens: int | None,
) -> dict[str, Any] | None:
    """The raw response without what the cell's columns hold, nor what every chat
    completion has (a copy; `raw` is kept); `full_raw` gives it back whole."""
    if not isinstance(raw, dict):
        return raw
    out = dict(raw)
    taken: list[str] = []
    if out.get("object") == _OBJECT:
        del out["object"]
        taken.append("object")
    choices = raw.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        first, took = _compact_choice(choices[0], text, tool_calls, finish_reason)
        taken += took
        if first is None and len(choices) == 1:
            del out["choices"]
            taken.append("choices")
        else:
            out["choices"] = [first or {}, *choices[1:]]
    usage = raw.get("usage")
    if _usage_matches(usage, prompt_tokens, completion_tokens):
        assert isinstance(usage, dict)
        rest = {k: v for k, v in usage.items() if k not in _TOKEN_KEYS and v is not None}
        taken.append("usage" if "total_tokens" in usage else "usage-no-total")
        if rest:
            out["usage"] = rest
        else:
            del out["usage"]
            taken.append("usage-empty")
    if taken:
        out[TAKEN_KEY] = "".join(_CODES[name] for name in taken)
    return _without_nulls(out)


def _without_nulls(value: Any) -> Any:
    """`value` with null-valued keys left out (an SDK fills every field it knows with null)."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _taken(raw: dict[str, Any]) -> set[str]:
    """What was taken out of a stored remainder, in any of the formats ever written."""
    names = set(raw.pop(STORED_KEY, None) or [])
    names |= {_NAMES.get(code, code) for code in raw.pop(TAKEN_KEY, None) or ""}
    if raw.pop(_LEGACY_NOTE, None) is not None:
        names.add("content")
    return names


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
    taken = _taken(raw)
    if "object" in taken:
        raw = (
            {"id": raw.pop("id"), "object": _OBJECT, **raw}
            if "id" in raw
            else {"object": _OBJECT, **raw}
        )
    if "choices" in taken:
        raw["choices"] = [{}]
    choices = raw.get("choices")
    choice = (
        choices[0]
        if isinstance(choices, list) and choices and isinstance(choices[0], dict)
        else None
    )
    if choice is not None:
        if "index" in taken:
            choice["index"] = 0
        if "message" in taken:
            choice["message"] = {}
    _choice, message = _first_message(raw)
    if message is not None:
        if "role" in taken:
            message["role"] = _ROLE
        if "content" in taken:
            # A cut output is not the content sent: that stays unknown (null).
            message["content"] = None if output_truncated else output
        if "tool_calls" in taken and tool_calls_json:
            message["tool_calls"] = json.loads(tool_calls_json)
    if choice is not None and "finish_reason" in taken:
        choice["finish_reason"] = finish_reason
    if "usage-empty" in taken:
        raw["usage"] = {}
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
