"""Reading the `.prompty` format: YAML front matter and a Jinja2 body split into messages.

```
---
name: summarize
description: Summarize a support ticket
model:
  name: sim-fast
  parameters: {temperature: 0.2, max_tokens: 200}
inputs:
  text: {description: The ticket, sample: "My order never arrived"}
response_schema: {type: object}
---
system:
You summarize tickets.
user:
{{ text }}
```

The body is split into messages by lines that hold only `system:`, `user:` or
`assistant:` *before* rendering, so a variable's value can never start a new message.
Parsing validates the front matter and each message's Jinja syntax and says where a
mistake is (line, column, field); rendering is `render`'s job.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from jinja2 import TemplateSyntaxError

from promptyard.prompts.conflicts import refuse_conflicts
from promptyard.prompts.errors import TemplateError
from promptyard.prompts.render import check_syntax
from promptyard.prompts.template import MessageTemplate, PromptTemplate

_ROLE_LINE = re.compile(r"^[ \t]*(system|user|assistant)[ \t]*:[ \t]*$", re.IGNORECASE)


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """(front matter text or None, body, 1-based line where the body starts)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None, text, 1
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :]), i + 2
    raise TemplateError("front matter starts with '---' but has no closing '---'", line=1, column=1)


def split_messages(body: str, first_line: int = 1) -> list[MessageTemplate]:
    """Split the body on role lines; a body with no role line is one user message."""
    messages: list[MessageTemplate] = []
    role: str | None = None
    start = first_line
    buffer: list[str] = []

    def flush() -> None:
        text = "\n".join(buffer).strip("\n")
        if role is None and not text.strip():
            return  # blank lines before the first role line
        # Leading text before the first role line is kept as a system message.
        messages.append(MessageTemplate(role or "system", text, start))

    for offset, line in enumerate(body.split("\n")):
        match = _ROLE_LINE.match(line)
        if match:
            flush()
            role = match.group(1).lower()
            start = first_line + offset + 1
            buffer = []
        else:
            buffer.append(line)
    if role is None:
        text = "\n".join(buffer).strip("\n")
        return [MessageTemplate("user", text, first_line)] if text.strip() else []
    flush()
    return messages


def _line_of(node: yaml.Node | None, path: list[str], base_line: int) -> int | None:
    """The file line of the YAML key at `path` (front matter starts at `base_line`)."""
    current = node
    line = None
    for key in path:
        if not isinstance(current, yaml.MappingNode):
            return line
        for key_node, value_node in current.value:
            if getattr(key_node, "value", None) == key:
                line = base_line + key_node.start_mark.line
                current = value_node
                break
        else:
            return line
    return line


def _syntax_error(exc: TemplateSyntaxError, message: MessageTemplate, source: str) -> TemplateError:
    line_in_message = exc.lineno or 1
    line = message.first_line + line_in_message - 1
    text_lines = message.text.split("\n")
    line_text = text_lines[line_in_message - 1] if line_in_message <= len(text_lines) else ""
    openers = [m.start() for m in re.finditer(r"\{\{|\{%|\{#", line_text)]
    column = (openers[-1] + 1) if openers else 1
    return TemplateError(
        f"template syntax error: {exc.message}", line=line, column=column, source=source
    )


def _expect(
    condition: bool,
    message: str,
    field_path: list[str],
    root: yaml.Node | None,
    base: int,
    source: str,
) -> None:
    if not condition:
        raise TemplateError(
            message,
            line=_line_of(root, field_path, base),
            field=".".join(field_path),
            source=source,
        )


def parse_prompt(
    text: str, name: str | None = None, *, source: str | None = None
) -> PromptTemplate:
    """Parse and validate a prompt file; raise TemplateError saying what and where."""
    source = source or (f"{name}.prompty" if name else "prompt")
    refuse_conflicts(text, source)  # every read path parses here: get_prompt, runs, eval
    if "\x00" in text:
        raise TemplateError("file contains NUL bytes; is it a binary file?", source=source)
    front_text, body, body_line = split_front_matter(text.replace("\r\n", "\n"))
    data: dict[str, Any] = {}
    root: yaml.Node | None = None
    if front_text is not None and front_text.strip():
        try:
            root = yaml.compose(front_text, Loader=yaml.SafeLoader)
            loaded = yaml.safe_load(front_text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc)
            raise TemplateError(
                f"front matter is not valid YAML: {problem}",
                line=(mark.line + 2) if mark else None,
                column=(mark.column + 1) if mark else None,
                source=source,
            ) from None
        if loaded is not None and not isinstance(loaded, dict):
            raise TemplateError("front matter must be a mapping of fields", line=2, source=source)
        data = loaded or {}
    base = 2  # front matter text starts on file line 2

    def check(cond: bool, msg: str, path: list[str]) -> None:
        _expect(cond, msg, path, root, base, source)

    fm_name = data.get("name")
    check(fm_name is None or isinstance(fm_name, str), "field 'name' must be text", ["name"])
    description = data.get("description", "")
    check(isinstance(description, str), "field 'description' must be text", ["description"])

    model_name: str | None = None
    parameters: dict[str, Any] = {}
    model = data.get("model")
    if isinstance(model, str):
        model_name = model
    elif isinstance(model, dict):
        raw_name = model.get("name", model.get("id"))
        check(
            raw_name is None or isinstance(raw_name, str),
            "field 'model.name' must be text",
            ["model", "name"],
        )
        model_name = raw_name
        params = model.get("parameters", {}) or {}
        check(
            isinstance(params, dict),
            "field 'model.parameters' must be a mapping",
            ["model", "parameters"],
        )
        parameters = dict(params)
    else:
        check(model is None, "field 'model' must be a model name or a mapping", ["model"])
    top_params = data.get("parameters")
    if top_params is not None:
        check(isinstance(top_params, dict), "field 'parameters' must be a mapping", ["parameters"])
        parameters = {**top_params, **parameters}
    _check_parameters(parameters, check)

    inputs: dict[str, dict[str, Any]] = {}
    raw_inputs = data.get("inputs", {}) or {}
    check(
        isinstance(raw_inputs, dict),
        "field 'inputs' must be a mapping of variable names",
        ["inputs"],
    )
    for key, spec in raw_inputs.items():
        if isinstance(spec, dict):
            inputs[str(key)] = dict(spec)
        else:
            inputs[str(key)] = {"sample": spec}
    samples = data.get("sample")
    if samples is not None:
        check(isinstance(samples, dict), "field 'sample' must be a mapping", ["sample"])
        for key, value in samples.items():
            inputs.setdefault(str(key), {})["sample"] = value

    schema = data.get("response_schema")
    check(
        schema is None or isinstance(schema, dict),
        "field 'response_schema' must be a JSON schema mapping",
        ["response_schema"],
    )

    messages = split_messages(body, body_line)
    if not messages:
        raise TemplateError(
            "the prompt has no messages: write the body below the front matter",
            line=body_line,
            source=source,
        )
    for message in messages:
        try:
            check_syntax(message.text)
        except TemplateSyntaxError as exc:
            raise _syntax_error(exc, message, source) from None

    known = {"name", "description", "model", "parameters", "inputs", "sample", "response_schema"}
    return PromptTemplate(
        name=name or fm_name or "prompt",
        body=body,
        source_text=text,
        description=description or "",
        model=model_name,
        parameters=parameters,
        inputs=inputs,
        response_schema=schema,
        metadata={k: v for k, v in data.items() if k not in known},
        messages=messages,
    )


_NUMERIC_PARAMS = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "presence_penalty": (-2.0, 2.0),
    "frequency_penalty": (-2.0, 2.0),
}
_INT_PARAMS = {"max_tokens", "seed", "n"}


def _check_parameters(params: dict[str, Any], check: Any) -> None:
    for key, value in params.items():
        path = ["model", "parameters", key]
        if key in _NUMERIC_PARAMS:
            low, high = _NUMERIC_PARAMS[key]
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            check(ok, f"field '{key}' must be a number, got {value!r}", path)
            check(
                low <= value <= high,
                f"field '{key}' must be between {low} and {high}, got {value}",
                path,
            )
        elif key in _INT_PARAMS:
            ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
            check(ok, f"field '{key}' must be a positive whole number, got {value!r}", path)
        elif key == "stop":
            ok = isinstance(value, str) or (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            )
            check(ok, "field 'stop' must be text or a list of texts", path)
