"""The front matter's fields, read as the Prompty specification writes them.

Both layouts are read: the current one (`model.id`, `model.options`, list-form `inputs`
with `kind`, `example` and `default`, `outputs`, `tools`, `template: {format, parser}`)
and the classic one (`model.name`, `model.parameters`, mapping `inputs` with `sample`,
`template: jinja2`, Promptyard's `response_schema`). Whatever Promptyard cannot honour is
refused through `fail(message, path)`, which names the line; nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from promptyard.prompts.engines import TemplateFormat
from promptyard.prompts.properties import (
    PARAMETER_TO_OPTION,
    RICH_KINDS,
    SIMPLE_KINDS,
    function_tool,
    infer_kind,
    named_list,
    options_to_parameters,
    outputs_schema,
)
from promptyard.prompts.references import env_references

Path = tuple[str | int, ...]
Fail = Callable[[str, Path], NoReturn]

KNOWN_FIELDS = frozenset(
    {"name", "displayName", "description", "metadata", "model", "inputs", "outputs", "tools"}
    | {"template", "parameters", "sample", "response_schema"}
)
_CHAT_API_TYPES = {None, "chat", "responses"}
_PROPERTY_KEYS = {"name", "kind", "description", "required", "nullable", "default", "example"}
_PROPERTY_KEYS |= {"enumValues", "items", "properties", "sample", "type"}


@dataclass
class Front:
    """The fields Promptyard uses, converted; see PromptTemplate for each one's meaning."""

    name: str | None = None
    description: str = ""
    model: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    connection: dict[str, Any] | None = None
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    response_schema: dict[str, Any] | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    template_format: TemplateFormat = TemplateFormat.JINJA2


def read_front(data: dict[str, Any], fail: Fail) -> Front:
    """The converted fields of front matter `data` (file references already read)."""
    front = Front()
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        fail("field 'name' must be text", ("name",))
    front.name = name
    description = data.get("description", "")
    if description is not None and not isinstance(description, str):
        fail("field 'description' must be text", ("description",))
    front.description = description or ""
    _read_model(data, front, fail)
    front.inputs = _read_inputs(data, fail)
    _read_outputs(data, front, fail)
    front.tools = _read_tools(data.get("tools"), fail)
    front.template_format = _read_template(data.get("template"), fail)
    _check_env_places(data, fail)
    return front


def _check_env_places(data: dict[str, Any], fail: Fail) -> None:
    for path in env_references(data):
        in_connection = path[:2] in (("model", "connection"), ("model", "configuration"))
        in_binding = len(path) >= 3 and path[0] == "tools" and path[2] == "bindings"
        if not (in_connection or in_binding):
            fail(
                "${env:...} is only read in model.connection: anywhere else its value "
                "would be stored with the run",
                path,
            )


def _read_model(data: dict[str, Any], front: Front, fail: Fail) -> None:
    model = data.get("model")
    params: dict[str, Any] = {}
    if isinstance(model, str):
        front.model = model
    elif isinstance(model, dict):
        model_id = model.get("id", model.get("name"))
        key = "id" if "id" in model else "name"
        if model_id is not None and not isinstance(model_id, str):
            fail(f"field 'model.{key}' must be text", ("model", key))
        connection = model.get("connection", model.get("configuration"))
        if model_id is None and isinstance(connection, dict):
            # The classic layout names the model in its connection (an Azure deployment).
            deployment = connection.get("azure_deployment")
            model_id = deployment if isinstance(deployment, str) else None
        front.model = model_id
        key = "apiType" if "apiType" in model else "api"  # `api` in the classic layout
        api_type = model.get(key)
        if api_type not in _CHAT_API_TYPES:
            fail(
                f"model.{key} '{api_type}' is not supported: Promptyard runs chat models",
                ("model", key),
            )
        # `configuration` is the classic layout's name for the connection.
        if connection is not None and not isinstance(connection, dict):
            fail("field 'model.connection' must be a mapping", ("model", "connection"))
        front.connection = connection
        options = model.get("options")
        if options is not None:
            if not isinstance(options, dict):
                fail("field 'model.options' must be a mapping", ("model", "options"))
            converted = options_to_parameters(options)
            for key, value in converted.items():
                option = PARAMETER_TO_OPTION.get(key, key)
                where = option if option in options else "additionalProperties"
                _check_parameter(key, value, ("model", "options", where), fail)
            params.update(converted)
        legacy = model.get("parameters")
        if legacy is not None:
            if not isinstance(legacy, dict):
                fail("field 'model.parameters' must be a mapping", ("model", "parameters"))
            for key, value in legacy.items():
                _check_parameter(str(key), value, ("model", "parameters", str(key)), fail)
            params.update(legacy)
    elif model is not None:
        fail("field 'model' must be a model name or a mapping", ("model",))
    top = data.get("parameters")
    if top is not None:
        if not isinstance(top, dict):
            fail("field 'parameters' must be a mapping", ("parameters",))
        for key, value in top.items():
            _check_parameter(str(key), value, ("parameters", str(key)), fail)
        params = {**top, **params}
    front.parameters = params


_NUMERIC_PARAMS = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "presence_penalty": (-2.0, 2.0),
    "frequency_penalty": (-2.0, 2.0),
}
_INT_PARAMS = {"max_tokens", "seed", "n", "top_k"}


def _check_parameter(key: str, value: Any, path: Path, fail: Fail) -> None:
    """Refuse a parameter value a model would refuse, naming where it was written."""
    shown = path[-1]
    if key in ("tools", "response_format"):
        field_name = "tools" if key == "tools" else "outputs"
        fail(
            f"'{key}' among the model's parameters is not supported: write it as '{field_name}:'",
            path,
        )
    if key in _NUMERIC_PARAMS:
        low, high = _NUMERIC_PARAMS[key]
        if not isinstance(value, int | float) or isinstance(value, bool):
            fail(f"field '{shown}' must be a number, got {value!r}", path)
        if not low <= value <= high:
            fail(f"field '{shown}' must be between {low} and {high}, got {value}", path)
    elif key in _INT_PARAMS:
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            fail(f"field '{shown}' must be a positive whole number, got {value!r}", path)
    elif key == "stop":
        ok = isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        )
        if not ok:
            fail(f"field '{shown}' must be text or a list of texts", path)


def _property(raw: Any, name: Any, path: Path, what: str, fail: Fail) -> dict[str, Any]:
    """One property in the current form: `kind` set, a classic `sample` read as `example`."""
    if not isinstance(raw, dict):
        # Scalar shorthand: Prompty reads `name: value` as an example value.
        return {"name": str(name), "kind": infer_kind(raw), "example": raw}
    if not isinstance(name, str) or not name:
        fail(f"every {what} needs a name", path)
    prop = {k: v for k, v in raw.items() if k in _PROPERTY_KEYS}
    unknown = sorted(set(raw) - _PROPERTY_KEYS)
    if unknown:
        fail(f"{what} '{name}': unsupported keys {unknown}", path)
    prop["name"] = name
    if "sample" in prop:
        prop.setdefault("example", prop.pop("sample"))
    if "type" in prop:  # the classic layout's name for kind
        prop.setdefault("kind", prop.pop("type"))
    if "kind" not in prop:
        seed = prop.get("default", prop.get("example"))
        prop["kind"] = infer_kind(seed) if seed is not None else "string"
    kind = prop["kind"]
    if kind in RICH_KINDS - {"thread"}:
        fail(
            f"{what} '{name}': kind '{kind}' is not supported "
            "(only text and data inputs, and thread)",
            (*path, "kind"),
        )
    if kind not in SIMPLE_KINDS | {"thread"}:
        fail(f"{what} '{name}': unknown kind '{kind}'", (*path, "kind"))
    return prop


def _properties(raw: Any, field_name: str, what: str, fail: Fail) -> list[dict[str, Any]]:
    pairs = named_list(raw)
    if pairs is None:
        fail(
            f"field '{field_name}' must be a list of properties or a mapping of names",
            (field_name,),
        )
    assert pairs is not None
    props = []
    for index, (name, spec) in enumerate(pairs):
        step: str | int = index if isinstance(raw, list) else str(name)
        if isinstance(raw, list) and not isinstance(spec, dict):
            fail(f"{what} {index + 1} must be a mapping with name and kind", (field_name, step))
        props.append(_property(spec, name, (field_name, step), what, fail))
    return props


def _read_inputs(data: dict[str, Any], fail: Fail) -> dict[str, dict[str, Any]]:
    inputs: dict[str, dict[str, Any]] = {}
    raw = data.get("inputs")
    if raw:
        for prop in _properties(raw, "inputs", "input", fail):
            inputs[prop["name"]] = {k: v for k, v in prop.items() if k != "name"}
    samples = data.get("sample")
    if samples is not None:
        if not isinstance(samples, dict):
            fail("field 'sample' must be a mapping", ("sample",))
        for key, value in samples.items():
            spec = inputs.setdefault(str(key), {"kind": infer_kind(value)})
            spec["example"] = value
    return inputs


def _read_outputs(data: dict[str, Any], front: Front, fail: Fail) -> None:
    schema = data.get("response_schema")
    if schema is not None and not isinstance(schema, dict):
        fail("field 'response_schema' must be a JSON schema mapping", ("response_schema",))
    raw = data.get("outputs")
    if raw:
        if schema is not None:
            fail("give either 'outputs' or 'response_schema', not both", ("response_schema",))
        front.outputs = _properties(raw, "outputs", "output", fail)
        for index, prop in enumerate(front.outputs):
            if prop["kind"] == "thread":
                fail(f"output '{prop['name']}': kind 'thread' is for inputs", ("outputs", index))
        schema = outputs_schema(front.outputs)
    front.response_schema = schema


def _read_tools(raw: Any, fail: Fail) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        fail("field 'tools' must be a list of tool definitions", ("tools",))
    tools = []
    for index, tool in enumerate(raw):
        path: Path = ("tools", index)
        if isinstance(tool, dict) and tool.get("type") == "function" and "function" in tool:
            fail(
                f"tool {index + 1} is in OpenAI's form (type: function); write Prompty's: "
                "name, kind: function, description, parameters",
                path,
            )
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            fail(f"tool {index + 1} must be a mapping with a name", path)
        kind = tool.get("kind")
        if kind != "function":
            fail(
                f"tool '{tool['name']}': kind '{kind}' is not supported (only kind: function)",
                (*path, "kind"),
            )
        bindings = tool.get("bindings") or {}
        if not isinstance(bindings, dict):
            fail(f"tool '{tool['name']}': bindings must be a mapping", (*path, "bindings"))
        params = []
        if tool.get("parameters"):
            params = _properties(tool["parameters"], "parameters", "parameter", _within(fail, path))
        tools.append(function_tool({**tool, "parameters": params, "bindings": bindings}))
    return tools


def _within(fail: Fail, prefix: Path) -> Fail:
    def inner(message: str, path: Path) -> NoReturn:
        fail(message, (*prefix, *path))

    return inner


def _read_template(raw: Any, fail: Fail) -> TemplateFormat:
    if raw is None:
        return TemplateFormat.JINJA2
    fmt: Any = raw
    parser: Any = None
    strict: Any = None
    if isinstance(raw, dict):
        fmt, parser = raw.get("format"), raw.get("parser")
        if isinstance(fmt, dict):
            strict = fmt.get("strict")
            fmt = fmt.get("kind")
        if isinstance(parser, dict):
            parser = parser.get("kind")
    elif not isinstance(raw, str):
        fail("field 'template' must be a mapping with format and parser", ("template",))
    if fmt in (None, "", "*"):
        fmt = "jinja2"
    if fmt not in {f.value for f in TemplateFormat}:
        fail(
            f"template format '{fmt}' is not supported (jinja2 or mustache)", ("template", "format")
        )
    if parser not in (None, "", "*", "prompty"):
        fail(f"template parser '{parser}' is not supported (prompty)", ("template", "parser"))
    if strict is False:
        fail(
            "template.format.strict: false is not supported: Promptyard never lets a value "
            "open a new turn",
            ("template", "format", "strict"),
        )
    return TemplateFormat(fmt)
