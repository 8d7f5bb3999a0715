"""The prompt file format: YAML front matter and a Jinja2 body split into chat messages.

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
Each message renders in a Jinja2 `SandboxedEnvironment` with `StrictUndefined`.
"""

from __future__ import annotations

import functools
import operator
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from promptyard.errors import PromptyardError

ROLES = ("system", "user", "assistant")
_ROLE_LINE = re.compile(r"^[ \t]*(system|user|assistant)[ \t]*:[ \t]*$", re.IGNORECASE)
MAX_RENDERED_CHARS = 2_000_000  # a template may not build strings past this size


class TemplateError(PromptyardError):
    """A prompt file that cannot be parsed, validated or rendered.

    `line` and `column` are 1-based positions in the whole file; `field` names the front
    matter field at fault.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
        source: str | None = None,
    ) -> None:
        self.reason = message
        self.line = line
        self.column = column
        self.field = field
        self.source = source
        where = []
        if source:
            where.append(source)
        if line is not None:
            where.append(f"line {line}" + (f", column {column}" if column is not None else ""))
        prefix = f"{': '.join([' '.join(where)])}: " if where else ""
        super().__init__(f"{prefix}{message}")


class MissingVariablesError(TemplateError):
    """Rendering was asked without values for some variables; `missing` lists them all."""

    def __init__(self, missing: list[str], source: str | None = None) -> None:
        self.missing = missing
        names = ", ".join(missing)
        super().__init__(
            f"missing {'variable' if len(missing) == 1 else 'variables'}: {names}", source=source
        )


class _Sandbox(SandboxedEnvironment):
    """The sandbox, with size limits on `*` and `**` so a template cannot exhaust memory."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**" and isinstance(right, int) and abs(right) > 1000:
            raise SecurityError("exponent too large in template")
        if operator_name == "*":
            for seq, count in ((left, right), (right, left)):
                sized = isinstance(seq, str | list | tuple) and isinstance(count, int)
                if sized and len(seq) * count > MAX_RENDERED_CHARS:
                    raise SecurityError("template builds a value that is too large")
            return operator.mul(left, right)
        return super().call_binop(context, operator_name, left, right)


def _make_env() -> SandboxedEnvironment:
    env = _Sandbox(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    for unsafe_global in ("cycler", "joiner", "lipsum"):
        env.globals.pop(unsafe_global, None)
    return env


_ENV = _make_env()


@dataclass(frozen=True)
class MessageTemplate:
    role: str
    text: str
    first_line: int  # 1-based line in the file where this message's text starts


@dataclass
class PromptTemplate:
    """A parsed prompt file. `render(**values)` returns the chat messages."""

    name: str
    body: str
    source_text: str
    description: str = ""
    model: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    response_schema: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    messages: list[MessageTemplate] = field(default_factory=list)
    version: Any = None  # the store Version it was read at, when read from the store

    @property
    def variables(self) -> list[str]:
        """Every variable the body uses, in first-use order."""
        seen: dict[str, None] = {}
        for message in self.messages:
            for name in _variables_in_order(message.text):
                seen.setdefault(name, None)
        return list(seen)

    @property
    def samples(self) -> dict[str, Any]:
        """Sample values declared under `inputs:` in the front matter."""
        return {k: v["sample"] for k, v in self.inputs.items() if "sample" in v}

    def missing(self, values: dict[str, Any]) -> list[str]:
        return [name for name in self.variables if name not in values]

    def render(
        self, values: dict[str, Any] | None = None, /, **kwargs: Any
    ) -> list[dict[str, str]]:
        """The chat messages with `values` filled in.

        Raises MissingVariablesError naming every missing variable, or TemplateError when
        the template does something the sandbox refuses.
        """
        merged = {**(values or {}), **kwargs}
        missing = self.missing(merged)
        if missing:
            raise MissingVariablesError(missing, source=self.name)
        rendered = []
        for message in self.messages:
            text = _render_one(message, merged, self.name)
            rendered.append({"role": message.role, "content": text})
        return rendered


def _render_one(message: MessageTemplate, values: dict[str, Any], source: str) -> str:
    try:
        text = _compiled(message.text).render(values)
    except SecurityError as exc:
        raise TemplateError(f"refused by the sandbox: {exc}", source=source) from None
    except UndefinedError as exc:
        raise TemplateError(f"undefined value: {exc}", source=source) from None
    except TemplateSyntaxError as exc:  # pragma: no cover - caught at parse time
        raise TemplateError(exc.message or "syntax error", source=source) from None
    except Exception as exc:  # a template can raise anything (1/0, bad filters)
        raise TemplateError(f"{type(exc).__name__}: {exc}", source=source) from None
    if len(text) > MAX_RENDERED_CHARS:
        raise TemplateError("rendered message is too large", source=source)
    return text.strip("\n")


@functools.lru_cache(maxsize=512)
def _compiled(text: str) -> Any:
    # Compiling is most of a render's cost; a run renders one template for every row.
    return _ENV.from_string(text)


@functools.lru_cache(maxsize=512)
def _variables_in_order(text: str) -> tuple[str, ...]:
    ast = _ENV.parse(text)
    undeclared = meta.find_undeclared_variables(ast)
    ordered: dict[str, None] = {}
    for node in ast.find_all(nodes.Name):
        if node.name in undeclared:
            ordered.setdefault(node.name, None)
    return tuple(n for n in ordered if n not in _ENV.globals)


# --- parsing ---------------------------------------------------------------------------


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
            _ENV.parse(message.text)
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
