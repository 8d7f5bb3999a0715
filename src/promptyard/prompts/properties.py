"""Prompty's typed pieces in the shapes a model call takes.

Prompty describes inputs, outputs and tool parameters as `Property` lists (`name`, `kind`,
`description`, `required`, `default`, `example`, `enumValues`, `items`, `properties`) and
model parameters as camelCase `options`. Promptyard sends OpenAI-shaped calls, so this
module converts: properties to JSON schema (as Prompty's own OpenAI executor does), a
`kind: function` tool to `{"type": "function", "function": {...}}`, and `options` to the
snake_case parameters the engine passes on (and back, for saving).
"""

from __future__ import annotations

from typing import Any

_JSON_TYPE = {
    "string": "string",
    "integer": "integer",
    "float": "number",
    "number": "number",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
}

SIMPLE_KINDS = frozenset(_JSON_TYPE)
RICH_KINDS = frozenset({"thread", "image", "file", "audio"})

# Prompty option -> the parameter name the engine sends (litellm/OpenAI chat).
OPTION_TO_PARAMETER = {
    "temperature": "temperature",
    "maxOutputTokens": "max_tokens",
    "topP": "top_p",
    "topK": "top_k",
    "frequencyPenalty": "frequency_penalty",
    "presencePenalty": "presence_penalty",
    "seed": "seed",
    "stopSequences": "stop",
    "allowMultipleToolCalls": "parallel_tool_calls",
    "reasoningEffort": "reasoning_effort",
}
PARAMETER_TO_OPTION = {v: k for k, v in OPTION_TO_PARAMETER.items()}


def infer_kind(value: Any) -> str:
    """The Prompty kind of a scalar shorthand value (`inputs: {name: Jane}`)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


def named_list(raw: Any) -> list[tuple[Any, Any]] | None:
    """(name, spec) pairs of a mapping or list-form property collection; None if neither."""
    if isinstance(raw, dict):
        return list(raw.items())
    if isinstance(raw, list):
        return [(item.get("name") if isinstance(item, dict) else None, item) for item in raw]
    return None


def options_to_parameters(options: dict[str, Any]) -> dict[str, Any]:
    """The call parameters for Prompty `options`; `additionalProperties` pass through."""
    params: dict[str, Any] = {}
    for key, value in options.items():
        if key == "additionalProperties" and isinstance(value, dict):
            continue
        params[OPTION_TO_PARAMETER.get(key, key)] = value
    extra = options.get("additionalProperties")
    if isinstance(extra, dict):
        for key, value in extra.items():
            params.setdefault(str(key), value)
    return params


def parameters_to_options(params: dict[str, Any]) -> dict[str, Any]:
    """Prompty `options` for call parameters (the inverse of `options_to_parameters`)."""
    options: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in params.items():
        if key in PARAMETER_TO_OPTION:
            option = PARAMETER_TO_OPTION[key]
            if option == "stopSequences" and isinstance(value, str):
                value = [value]
            options[option] = value
        else:
            extra[key] = value
    if extra:
        options["additionalProperties"] = extra
    return options


def property_schema(
    prop: dict[str, Any], *, optional: bool = False, strict: bool = False
) -> dict[str, Any]:
    """The JSON schema of one property, as Prompty's OpenAI executor writes it."""
    kind = prop.get("kind", "")
    json_type = _JSON_TYPE.get(kind)
    schema: dict[str, Any] = {"type": json_type} if json_type else {}
    if prop.get("description"):
        schema["description"] = prop["description"]
    if prop.get("enumValues"):
        schema["enum"] = list(prop["enumValues"])
    if kind == "array":
        items = prop.get("items")
        schema["items"] = (
            property_schema(items, strict=strict) if isinstance(items, dict) else {"type": "string"}
        )
    if kind == "object":
        children = named_list(prop.get("properties")) or []
        props: dict[str, Any] = {}
        required: list[str] = []
        for name, child in children:
            child = child if isinstance(child, dict) else {"kind": infer_kind(child)}
            props[str(name)] = property_schema(
                child, optional=strict and not child.get("required"), strict=strict
            )
            if strict or child.get("required"):
                required.append(str(name))
        schema["properties"] = props
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
    if prop.get("nullable") or optional:
        if isinstance(schema.get("type"), str):
            schema["type"] = [schema["type"], "null"]
        elif schema:
            schema = {"anyOf": [dict(schema), {"type": "null"}]}
        if isinstance(schema.get("enum"), list) and None not in schema["enum"]:
            schema["enum"].append(None)
    return schema


def outputs_schema(outputs: list[dict[str, Any]]) -> dict[str, Any]:
    """The response JSON schema for Prompty `outputs` (strict: every key present,
    optional ones nullable), the schema Prompty sends as `response_format`."""
    properties = {
        p["name"]: property_schema(p, optional=not p.get("required"), strict=True) for p in outputs
    }
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if properties:
        schema["required"] = list(properties)
    return schema


def schema_to_outputs(schema: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Prompty `outputs` for a flat object JSON schema; None when it does not map exactly."""
    kinds = {v: k for k, v in _JSON_TYPE.items() if k not in ("number",)}
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        return None
    if set(schema) - {"type", "properties", "required", "additionalProperties"}:
        return None
    required = set(schema.get("required") or [])
    outputs = []
    for name, sub in schema["properties"].items():
        if not isinstance(sub, dict) or set(sub) - {"type", "description", "enum"}:
            return None
        kind = kinds.get(sub.get("type"))  # type: ignore[arg-type]
        if kind is None or kind in ("array", "object"):
            return None
        prop: dict[str, Any] = {"name": name, "kind": kind}
        if sub.get("description"):
            prop["description"] = sub["description"]
        if sub.get("enum"):
            prop["enumValues"] = sub["enum"]
        prop["required"] = name in required
        outputs.append(prop)
    return outputs


def function_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI tool dict for a Prompty `kind: function` tool (bound parameters left out)."""
    function: dict[str, Any] = {"name": tool["name"]}
    if tool.get("description"):
        function["description"] = tool["description"]
    strict = bool(tool.get("strict"))
    params = tool.get("parameters") or []
    bound = set((tool.get("bindings") or {}).keys())
    if params:
        props: dict[str, Any] = {}
        required: list[str] = []
        for prop in params:
            if prop["name"] in bound:
                continue
            props[prop["name"]] = property_schema(
                prop, optional=strict and not prop.get("required"), strict=strict
            )
            if strict or prop.get("required"):
                required.append(prop["name"])
        parameters: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            parameters["required"] = required
        function["parameters"] = parameters
    if strict:
        function["strict"] = True
        if "parameters" in function:
            function["parameters"]["additionalProperties"] = False
    return {"type": "function", "function": function}
