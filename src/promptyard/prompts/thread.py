"""`kind: thread` inputs: chat history given as data, turned into separate turns.

A thread input's value is a list of `{"role", "content"}` items. Each item becomes one
message as it is; the rendered text is never re-parsed for role lines, so text inside a
value still cannot open a turn. Where the template places the thread (`{{ history }}`)
is found with a random marker that only the renderer knows, as Prompty does: the message
holding it is split there, and with no placeholder the turns go after the last message.
"""

from __future__ import annotations

import secrets
from typing import Any

from promptyard.prompts.errors import TemplateError

THREAD_ROLES = ("system", "developer", "user", "assistant")


def thread_markers(names: list[str]) -> dict[str, str]:
    """A fresh, unguessable marker per thread input name."""
    return {name: f"__PROMPTYARD_THREAD_{secrets.token_hex(8)}_{name}__" for name in names}


def thread_turns(value: Any, name: str, source: str) -> list[dict[str, str]]:
    """The messages of thread input `name`; TemplateError saying which item is wrong."""
    if not isinstance(value, list):
        raise TemplateError(
            f"input '{name}' is a thread: give a list of {{role, content}} items, "
            f"not {type(value).__name__}",
            source=source,
        )
    turns: list[dict[str, str]] = []
    for index, item in enumerate(value, 1):
        where = f"input '{name}' item {index}"
        if not isinstance(item, dict):
            raise TemplateError(f"{where} must be a mapping with role and content", source=source)
        role, content = item.get("role"), item.get("content")
        if role not in THREAD_ROLES:
            roles = ", ".join(THREAD_ROLES)
            raise TemplateError(
                f"{where}: role must be one of {roles}, got {role!r}", source=source
            )
        if not isinstance(content, str):
            raise TemplateError(f"{where}: content must be text", source=source)
        extra = set(item) - {"role", "content", "name"}
        if extra:
            raise TemplateError(f"{where}: unsupported keys {sorted(extra)}", source=source)
        turn = {"role": role, "content": content}
        if isinstance(item.get("name"), str):
            turn["name"] = item["name"]
        turns.append(turn)
    return turns


def split_at_marker(text: str, markers: dict[str, str]) -> tuple[str, str, str] | None:
    """(text before, thread name, text after) for the first marker in `text`, else None."""
    for name, marker in markers.items():
        if marker in text:
            before, _, after = text.partition(marker)
            return before.strip(), name, after.strip()
    return None
