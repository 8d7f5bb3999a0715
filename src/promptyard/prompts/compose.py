"""Writing the `.prompty` format: a file's text from its fields, and the editor's edits."""

from __future__ import annotations

from typing import Any

import yaml

from promptyard.prompts.errors import TemplateError
from promptyard.prompts.format import parse_prompt, split_front_matter
from promptyard.prompts.template import PromptTemplate


def dump_prompt(
    body: str,
    *,
    name: str | None = None,
    description: str = "",
    model: str | None = None,
    parameters: dict[str, Any] | None = None,
    inputs: dict[str, dict[str, Any]] | None = None,
    response_schema: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A prompt file's text from its fields (the inverse of parse_prompt)."""
    front: dict[str, Any] = {}
    if name:
        front["name"] = name
    if description:
        front["description"] = description
    if model or parameters:
        front["model"] = {
            k: v for k, v in (("name", model), ("parameters", parameters or None)) if v
        }
    if inputs:
        front["inputs"] = inputs
    if response_schema:
        front["response_schema"] = response_schema
    front.update(extra or {})
    head = ""
    if front:
        head = (
            "---\n"
            + yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=10_000)
            + "---\n"
        )
    return head + body.strip("\n") + "\n"


def with_changes(
    template: PromptTemplate,
    *,
    body: str | None = None,
    description: str | None = None,
    model: str | None = None,
    parameters: dict[str, Any] | None = None,
    samples: dict[str, Any] | None = None,
) -> str:
    """The file text of `template` with some fields replaced (the editor's save path).

    Sample values are kept for the variables the body uses; declared inputs with a
    description are kept even when unused.
    """
    new_body = template.body if body is None else body
    inputs = {k: dict(v) for k, v in template.inputs.items()}
    for key, value in (samples or {}).items():
        inputs.setdefault(key, {})["sample"] = value
    try:
        used = set(parse_prompt(new_body, template.name).variables)
    except TemplateError:
        used = set(inputs)
    inputs = {k: v for k, v in inputs.items() if k in used or v.get("description")}
    fields = {
        "description": template.description if description is None else description,
        "model": template.model if model is None else (model or None),
        "parameters": template.parameters if parameters is None else parameters,
        "inputs": inputs,
    }
    unchanged = fields == {
        "description": template.description,
        "model": template.model,
        "parameters": template.parameters,
        "inputs": template.inputs,
    }
    front_text, _, _ = split_front_matter(template.source_text.replace("\r\n", "\n"))
    if unchanged and front_text is not None:
        # Keep the front matter byte for byte, so the diff shows only what was edited.
        return f"---\n{front_text}\n---\n{new_body.strip(chr(10))}\n"
    return dump_prompt(
        new_body,
        name=template.name,
        description=str(fields["description"] or ""),
        model=fields["model"],  # type: ignore[arg-type]
        parameters=fields["parameters"],  # type: ignore[arg-type]
        inputs=inputs or None,
        response_schema=template.response_schema,
        extra=template.metadata,
    )
