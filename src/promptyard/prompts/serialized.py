"""A parsed prompt as JSON data and back: the "parsed form" a bundle carries.

The data holds every field of `PromptTemplate`, with `${file:...}` references already read,
so a template rebuilt from it renders exactly as the one it was made from, with no
workspace and no YAML to parse.
"""

from __future__ import annotations

import json
from typing import Any

from promptyard.prompts.engines import TemplateFormat
from promptyard.prompts.template import MessageTemplate, PromptTemplate

_PLAIN_FIELDS = (
    "description",
    "model",
    "parameters",
    "inputs",
    "response_schema",
    "metadata",
    "tools",
    "outputs",
    "connection",
    "front",
    "referenced",
)


def _jsonable(value: Any) -> Any:
    # YAML may hold dates and the like; JSON keeps them as text
    return json.loads(json.dumps(value, default=str))


def template_to_data(template: PromptTemplate) -> dict[str, Any]:
    """The JSON-ready form of `template` (without its version, which travels beside it)."""
    data: dict[str, Any] = {
        "name": template.name,
        "body": template.body,
        "template_format": str(template.template_format),
        "messages": [
            {"role": m.role, "text": m.text, "first_line": m.first_line, "name": m.name}
            for m in template.messages
        ],
    }
    for name in _PLAIN_FIELDS:
        data[name] = _jsonable(getattr(template, name))
    return data


def template_from_data(data: dict[str, Any], source_text: str) -> PromptTemplate:
    """The template `template_to_data` described; KeyError, TypeError or ValueError when the
    data is not such a form (the caller says where)."""
    if not isinstance(data, dict):
        raise TypeError("the parsed form must be a JSON object")
    messages = [
        MessageTemplate(
            role=str(m["role"]),
            text=str(m["text"]),
            first_line=int(m["first_line"]),
            name=m.get("name"),
        )
        for m in data["messages"]
    ]
    if not messages:
        raise ValueError("the parsed form has no messages")
    fields = {name: data[name] for name in _PLAIN_FIELDS if name in data}
    for name in ("parameters", "inputs", "metadata", "front", "referenced"):
        if not isinstance(fields.setdefault(name, {}), dict):
            raise TypeError(f"field {name!r} of the parsed form must be an object")
    for name in ("tools", "outputs"):
        if not isinstance(fields.setdefault(name, []), list):
            raise TypeError(f"field {name!r} of the parsed form must be a list")
    return PromptTemplate(
        name=str(data["name"]),
        body=str(data["body"]),
        source_text=source_text,
        messages=messages,
        template_format=TemplateFormat(data["template_format"]),
        **fields,
    )
