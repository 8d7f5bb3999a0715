"""Chat messages from the shapes instrumentations send them in, as one shape.

Every message becomes {"role", "content"} plus "tool_calls" (OpenAI format) when it has
any: the GenAI `parts` form (gen_ai.input.messages), OpenAI-style dicts, flattened
attributes (`llm.input_messages.0.message.role`, `gen_ai.prompt.0.content`) and the older
GenAI events (gen_ai.user.message, gen_ai.choice, gen_ai.content.prompt).
"""

from __future__ import annotations

import json
import re
from typing import Any

Message = dict[str, Any]

_FLAT = re.compile(
    r"^(?:(llm\.input_messages|llm\.output_messages)\.(\d+)\.message\.|"
    r"gen_ai\.(prompt|completion)\.(\d+)\.)(.+)$"
)
_EVENT_ROLES = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}


def _text(content: Any) -> str | None:
    if content is None:
        return None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces = []
        for part in content:
            if isinstance(part, dict):
                value = part.get("content", part.get("text"))
                if isinstance(value, str):
                    pieces.append(value)
            elif isinstance(part, str):
                pieces.append(part)
        return "".join(pieces)
    return json.dumps(content, default=str)


def _tool_call(raw: dict[str, Any]) -> dict[str, Any]:
    nested = raw.get("function")
    function: dict[str, Any] = nested if isinstance(nested, dict) else raw
    arguments = function.get("arguments")
    if arguments is not None and not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    return {
        "id": raw.get("id"),
        "type": "function",
        "function": {"name": function.get("name"), "arguments": arguments or ""},
    }


def normalize(raw: Any, default_role: str = "user") -> Message | None:
    """One message in the stored shape, from a dict of any supported form; None if not one."""
    if isinstance(raw, str):
        return {"role": default_role, "content": raw}
    if not isinstance(raw, dict):
        return None
    role = str(raw.get("role") or default_role)
    calls: list[dict[str, Any]] = []
    if isinstance(raw.get("parts"), list):
        texts = []
        for part in raw["parts"]:
            if not isinstance(part, dict):
                continue
            kind = part.get("type")
            if kind == "tool_call":
                calls.append(_tool_call(part))
            elif kind == "tool_call_response":
                response = part.get("response", part.get("result"))
                texts.append(response if isinstance(response, str) else json.dumps(response))
            elif isinstance(part.get("content"), str):
                texts.append(part["content"])
        content: str | None = "".join(texts) if texts or not calls else None
    else:
        content = _text(raw.get("content"))
    for call in raw.get("tool_calls") or []:
        if isinstance(call, dict):
            calls.append(_tool_call(call))
    message: Message = {"role": role, "content": content}
    if calls:
        message["tool_calls"] = calls
    if raw.get("finish_reason"):  # read into finish_reasons_json, then dropped
        message["finish_reason"] = str(raw["finish_reason"])
    return message


def from_json(value: Any, default_role: str) -> list[Message] | None:
    """Messages from a JSON attribute (a list, or one message, or plain text)."""
    data = value
    if isinstance(value, str):
        try:
            data = json.loads(value)
        except ValueError:
            return [{"role": default_role, "content": value}]
    if isinstance(data, dict):
        data = data.get("messages", [data])
    if not isinstance(data, list):
        return None
    out = [m for m in (normalize(x, default_role) for x in data) if m]
    return out or None


def _set_path(node: dict[str, Any], path: list[str], value: Any) -> None:
    for key in path[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            return
    node[path[-1]] = value


def _listify(node: Any) -> Any:
    """{"0": a, "1": b} -> [a, b], recursively (flattened indexed attributes)."""
    if not isinstance(node, dict):
        return node
    items = {k: _listify(v) for k, v in node.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def _unwrap(node: Any) -> Any:
    # OpenInference nests tool calls as tool_calls.N.tool_call.function.name and text
    # parts as contents.N.message_content.text.
    if isinstance(node, list):
        return [_unwrap(x) for x in node]
    if isinstance(node, dict):
        if set(node) == {"tool_call"}:
            return _unwrap(node["tool_call"])
        if set(node) == {"message_content"}:
            return _unwrap(node["message_content"])
        return {k: _unwrap(v) for k, v in node.items()}
    return node


def from_flat(attributes: dict[str, Any]) -> tuple[list[Message], list[Message], set[str]]:
    """Input and output messages from flattened indexed attributes, and the keys used."""
    found: dict[str, dict[str, Any]] = {"in": {}, "out": {}}
    used: set[str] = set()
    for key, value in attributes.items():
        if not (key.startswith("llm.") or key.startswith("gen_ai.")):
            continue
        match = _FLAT.match(key)
        if not match:
            continue
        oi, oi_index, ll, ll_index, rest = match.groups()
        side = "in" if (oi == "llm.input_messages" or ll == "prompt") else "out"
        _set_path(found[side], [oi_index or ll_index, *rest.split(".")], value)
        used.add(key)
    result = []
    for side in ("in", "out"):
        messages = []
        for index in sorted(found[side], key=int):
            raw = _unwrap(_listify(found[side][index]))
            if isinstance(raw, dict) and "content" not in raw and "contents" in raw:
                raw["content"] = raw.pop("contents")
            default = "user" if side == "in" else "assistant"
            message = normalize(raw, default)
            if message:
                messages.append(message)
        result.append(messages)
    return result[0], result[1], used


def from_events(
    events: list[dict[str, Any]],
) -> tuple[list[Message], list[Message], list[str], list[dict[str, Any]]]:
    """Input and output messages and finish reasons from the older GenAI events, and the
    events that are not messages (kept as events)."""
    inputs: list[Message] = []
    outputs: list[Message] = []
    reasons: list[str] = []
    rest: list[dict[str, Any]] = []
    for event in events:
        name, attrs = event.get("name"), event.get("attributes") or {}
        if name in _EVENT_ROLES:
            message = normalize({**attrs, "role": attrs.get("role") or _EVENT_ROLES[name]})
            if message:
                inputs.append(message)
        elif name == "gen_ai.choice":
            raw = attrs.get("message", attrs)
            if isinstance(raw, str):
                raw = from_json(raw, "assistant") or []
                raw = raw[0] if raw else {}
            message = normalize(raw, "assistant")
            if message:
                message["role"] = message.get("role") or "assistant"
                outputs.append(message)
            if attrs.get("finish_reason"):
                reasons.append(str(attrs["finish_reason"]))
        elif name == "gen_ai.content.prompt" and "gen_ai.prompt" in attrs:
            inputs += from_json(attrs["gen_ai.prompt"], "user") or []
        elif name == "gen_ai.content.completion" and "gen_ai.completion" in attrs:
            outputs += from_json(attrs["gen_ai.completion"], "assistant") or []
        else:
            rest.append(event)
    return inputs, outputs, reasons, rest
