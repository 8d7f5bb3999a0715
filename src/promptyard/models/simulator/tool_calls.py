"""Simulated tool calls: which tool the model calls (if any) and with what arguments.

`tool_choice`: "none" answers in text; "required" and a forced function always call;
"auto" (the default when tools are given) calls the tool whose name and description best
match the conversation, unless the last message is a tool's result, which the model then
answers in text (so an agent loop ends). Arguments are valid JSON for the tool's schema,
the same for the same request.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from typing import Any

from promptyard.models.simulator.schema_values import value_for_schema

_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2}


def chosen_tool(body: dict[str, Any], conversation: str) -> dict[str, Any] | None:
    """The function definition the model calls, or None for a text answer."""
    tools = [t["function"] for t in body.get("tools") or [] if isinstance(t, dict)]
    if not tools:
        return None
    choice = body.get("tool_choice", "auto")
    if choice == "none":
        return None
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        return next((t for t in tools if t.get("name") == name), None)
    messages = body.get("messages") or []
    if choice != "required" and messages and messages[-1].get("role") == "tool":
        return None
    said = _words(conversation)

    def overlap(tool: dict[str, Any]) -> int:
        name = str(tool.get("name", "")).replace("_", " ").replace("-", " ")
        return len(said & _words(f"{name} {tool.get('description', '')}"))

    # the best match; ties go to the first tool listed
    return max(tools, key=overlap)


def _hint(words: list[str]) -> Any:
    def hint(key: str) -> str | None:
        k = key.lower()
        if k in {"city", "location", "place", "town"}:
            capital = [w for w in words if w[:1].isupper()]
            return capital[-1] if capital else "Paris"
        if k in {"unit", "units"}:
            return "celsius"
        if k in {"query", "q", "search", "text", "question", "prompt", "message"}:
            return " ".join(words[:6]) or "query"
        if words:
            return words[sum(map(ord, k)) % len(words)]
        return None

    return hint


def tool_call(tool: dict[str, Any], conversation: str, seed: str, index: int = 0) -> dict[str, Any]:
    """One call of `tool`: an OpenAI `tool_calls` entry whose arguments fit its schema."""
    digest = hashlib.sha256(f"{seed}|{tool.get('name')}|{index}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    words = [w.strip(".,;:!?\"'()") for w in conversation.split()]
    words = [w for w in words if len(w) > 2 and w.isalpha()]
    schema = tool.get("parameters") or {"type": "object", "properties": {}}
    arguments = value_for_schema(schema, rng, _hint(words[-40:]))
    return {
        "id": "call_" + digest[8:20].hex(),
        "type": "function",
        "function": {"name": str(tool.get("name")), "arguments": json.dumps(arguments)},
    }
