"""Reading the `.prompty` format: YAML front matter and a templated body split into messages.

```
---
name: summarize
description: Summarize a support ticket
model:
  id: sim-fast
  options: {temperature: 0.2, maxOutputTokens: 200}
inputs:
  - name: text
    kind: string
    description: The ticket
    example: "My order never arrived"
template:
  format: {kind: jinja2}
  parser: {kind: prompty}
---
system:
You summarize tickets.
user:
{{ text }}
```

The body is split into messages by role lines (`system:`, `developer:`, `user:`,
`assistant:`, optionally with attributes such as `user[name="Alice"]:` or a leading `#`)
*before* rendering, so a variable's value can never start a new message. Parsing
validates the front matter (`front`) and each message's template syntax and says where a
mistake is (line, column, field); rendering is `PromptTemplate.render`'s job.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NoReturn

import yaml
from jinja2 import TemplateSyntaxError, nodes

from promptyard.prompts.conflicts import refuse_conflicts
from promptyard.prompts.engines import TemplateFormat, check_format_syntax, parse_jinja
from promptyard.prompts.errors import TemplateError
from promptyard.prompts.front import KNOWN_FIELDS, read_front
from promptyard.prompts.references import reference_of, resolve_files
from promptyard.prompts.template import MessageTemplate, PromptTemplate

# Prompty's role boundary: a role alone on its line, maybe `# ` before it, maybe attributes.
_ROLE_LINE = re.compile(
    r"^\s*#?\s*(system|developer|user|assistant)"
    r"(\[(?:\w++\s*+=\s*+(?:\"[^\"]*\"|[^\",\]]*+)\s*+,?+\s*+)+\])?\s*:\s*$",
    re.IGNORECASE,
)
_ATTRIBUTE = re.compile(r'(\w+)\s*=\s*"?([^",]*)"?')
# A line that would only become a role line once rendered (`{{ turn.role }}:`).
_RENDERED_ROLE = re.compile(r"^\s*(\{\{[^}]*\}\}|\{%[^%]*%\})\s*:\s*$")


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """(front matter text or None, body, 1-based line where the body starts)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None, text, 1
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :]), i + 2
    raise TemplateError("front matter starts with '---' but has no closing '---'", line=1, column=1)


def _attributes(raw: str | None, line: int, source: str) -> str | None:
    """The `name` attribute of a role line; any other attribute is refused."""
    if not raw:
        return None
    attrs = {m.group(1): m.group(2).strip() for m in _ATTRIBUTE.finditer(raw.strip("[]"))}
    unknown = sorted(set(attrs) - {"name"})
    if unknown:
        raise TemplateError(
            f"role attribute {', '.join(unknown)} is not supported (only name)",
            line=line,
            source=source,
        )
    return attrs.get("name")


def split_messages(body: str, first_line: int = 1, source: str = "prompt") -> list[MessageTemplate]:
    """Split the body on role lines; text before the first role line is a system message,
    as is a body with no role line at all (Prompty's default role)."""
    messages: list[MessageTemplate] = []
    role = "system"
    name: str | None = None
    start = first_line
    buffer: list[str] | None = None  # None: no line yet since the last role line
    lines = body.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the file is not a line of its own

    def flush() -> None:
        if buffer is None:
            return
        text = "\n".join(buffer).strip("\n")
        # Blank lines before the first role line are no message (Prompty strips them).
        if messages or role != "system" or start != first_line or text.strip():
            messages.append(MessageTemplate(role, text, start, name))

    for offset, line in enumerate(lines):
        match = _ROLE_LINE.match(line)
        if match:
            flush()
            role = match.group(1).lower()
            name = _attributes(match.group(2), first_line + offset, source)
            start = first_line + offset + 1
            buffer = None
            continue
        if _RENDERED_ROLE.match(line):
            raise TemplateError(
                "a role line made by the template is not supported: Promptyard splits "
                "messages before rendering (give chat history as a kind: thread input)",
                line=first_line + offset,
                source=source,
            )
        if buffer is None:
            buffer = []
        buffer.append(line)
    flush()
    return messages


def _line_of(node: yaml.Node | None, path: tuple[str | int, ...], base_line: int) -> int | None:
    """The file line of the YAML key or item at `path` (front matter starts at `base_line`)."""
    current = node
    line = None
    for key in path:
        if isinstance(current, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(current.value):
                return line
            current = current.value[key]
            line = base_line + current.start_mark.line
            continue
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


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_yaml(front_text: str, source: str) -> tuple[dict[str, Any], yaml.Node | None]:
    # One pass: the node tree (for line numbers) and the data built from it; libyaml when
    # it is installed, as parsing is most of the cost of listing prompts.
    loader = _LOADER(front_text)
    try:
        root = loader.get_single_node()
        loaded = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise TemplateError(
            f"front matter is not valid YAML: {problem}",
            line=(mark.line + 2) if mark else None,
            column=(mark.column + 1) if mark else None,
            source=source,
        ) from None
    finally:
        loader.dispose()
    if loaded is not None and not isinstance(loaded, dict):
        raise TemplateError("front matter must be a mapping of fields", line=2, source=source)
    return loaded or {}, root


def parse_prompt(
    text: str,
    name: str | None = None,
    *,
    source: str | None = None,
    base_dir: Path | None = None,
    root: Path | None = None,
) -> PromptTemplate:
    """Parse and validate a prompt file; raise TemplateError saying what and where.

    `base_dir` is the prompt's folder and `root` the workspace: `${file:...}` references
    are read relative to the first and only from inside the second (without them, a file
    reference is refused).
    """
    source = source or (f"{name}.prompty" if name else "prompt")
    refuse_conflicts(text, source)  # every read path parses here: get_prompt, runs, eval
    if "\x00" in text:
        raise TemplateError("file contains NUL bytes; is it a binary file?", source=source)
    front_text, body, body_line = split_front_matter(text.replace("\r\n", "\n"))
    raw: dict[str, Any] = {}
    node: yaml.Node | None = None
    if front_text is not None and front_text.strip():
        raw, node = _load_yaml(front_text, source)

    def fail(message: str, path: tuple[str | int, ...]) -> NoReturn:
        raise TemplateError(
            message,
            line=_line_of(node, path, 2),  # front matter text starts on file line 2
            field=".".join(str(p) for p in path),
            source=source,
        )

    data = resolve_files(raw, base_dir, root, fail)
    front = read_front(data, fail)
    messages = split_messages(body, body_line, source)
    if not messages:
        raise TemplateError(
            "the prompt has no messages: write the body below the front matter",
            line=body_line,
            source=source,
        )
    for message in messages:
        _check_message(message, front.template_format, source)
    return PromptTemplate(
        name=name or front.name or "prompt",
        body=body,
        source_text=text,
        description=front.description,
        model=front.model,
        parameters=front.parameters,
        inputs=front.inputs,
        response_schema=front.response_schema,
        metadata={k: v for k, v in raw.items() if k not in KNOWN_FIELDS},
        messages=messages,
        tools=front.tools,
        outputs=front.outputs,
        template_format=front.template_format,
        connection=front.connection,
        front=raw,
        referenced={k: data[k] for k, v in raw.items() if reference_of(v) is not None},
    )


_NO_LOADER = {
    nodes.Extends: "{% extends %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from ... import %}",
}


def _check_message(message: MessageTemplate, fmt: TemplateFormat, source: str) -> None:
    try:
        problem = check_format_syntax(message.text, fmt)
        if fmt is TemplateFormat.JINJA2:
            for node in parse_jinja(message.text).find_all(tuple(_NO_LOADER)):
                raise TemplateError(
                    f"{_NO_LOADER[type(node)]} is not supported: a prompt is one file",
                    line=message.first_line + node.lineno - 1,
                    source=source,
                )
    except TemplateSyntaxError as exc:
        error = _syntax_error(exc, message, source)
        if "Unexpected end of template" in (exc.message or "") or "unknown tag 'end" in (
            exc.message or ""
        ):
            error = TemplateError(
                f"{error.reason} (a block cannot span a role line: Promptyard splits "
                "messages before rendering)",
                line=error.line,
                column=error.column,
                source=source,
            )
        raise error from None
    if problem is not None:
        offset, why = problem
        raise TemplateError(why, line=message.first_line + offset, source=source)
