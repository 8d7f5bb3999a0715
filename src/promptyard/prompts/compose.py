"""Writing the `.prompty` format in the current Prompty layout, and the editor's edits.

What Promptyard writes loads in the official `prompty` package: `model: {id, options}`
with camelCase options, list-form `inputs` with `kind` and `example`, `outputs` instead
of a flat `response_schema`, and `template: {format: {kind}, parser: {kind: prompty}}`.
References (`${env:...}`, `${file:...}`) are written back as they were, never resolved.
"""

from __future__ import annotations

from typing import Any

import yaml

from promptyard.prompts.engines import template_variables
from promptyard.prompts.format import split_front_matter, split_messages
from promptyard.prompts.properties import infer_kind, parameters_to_options, schema_to_outputs
from promptyard.prompts.references import reference_of
from promptyard.prompts.template import PromptTemplate

_FIRST_KEYS = ("name", "kind", "description")


def _property(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    spec = dict(spec)
    if "sample" in spec:
        spec.setdefault("example", spec.pop("sample"))
    if "type" in spec:
        spec.setdefault("kind", spec.pop("type"))
    if "kind" not in spec:
        seed = spec.get("default", spec.get("example"))
        spec["kind"] = infer_kind(seed) if seed is not None else "string"
    if spec["kind"] == "array" and "items" not in spec:
        # Prompty 2 wants the kind of an array's items; take it from the example.
        seed = spec.get("default", spec.get("example"))
        first = seed[0] if isinstance(seed, list) and seed else ""
        spec["items"] = {"kind": infer_kind(first)}
    out: dict[str, Any] = {"name": name}
    for key in _FIRST_KEYS[1:]:
        if key in spec:
            out[key] = spec[key]
    out.update({k: v for k, v in spec.items() if k not in _FIRST_KEYS})
    return out


def _inputs_list(inputs: Any) -> Any:
    if reference_of(inputs) is not None:
        return inputs
    if isinstance(inputs, dict):
        return [
            _property(str(k), v if isinstance(v, dict) else {"example": v})
            for k, v in inputs.items()
        ]
    if isinstance(inputs, list):
        return [_property(str(p.get("name")), p) if isinstance(p, dict) else p for p in inputs]
    return inputs


def _model(model: Any, top_parameters: Any) -> Any:
    if isinstance(model, str) or model is None:
        model = {"id": model} if model else {}
    if not isinstance(model, dict):
        return model
    out = dict(model)
    if "name" in out and "id" not in out:
        out = {"id": out.pop("name"), **out}
    connection = out.get("connection")
    if isinstance(connection, dict) and "kind" not in connection:
        # A classic connection (no kind) does not load in Prompty 2; keep it under the
        # classic key, which Prompty ignores and Promptyard still reads.
        out["configuration"] = out.pop("connection")
    config = out.get("configuration")
    if (
        "id" not in out
        and isinstance(config, dict)
        and isinstance(config.get("azure_deployment"), str)
    ):
        out = {"id": config["azure_deployment"], **out}
    if "api" in out:  # the classic layout's name for apiType
        out.setdefault("apiType", out.pop("api"))
    legacy = {**(top_parameters or {}), **(out.pop("parameters", None) or {})}
    if legacy:
        out["options"] = {**(out.get("options") or {}), **parameters_to_options(legacy)}
    if set(out) == {"id"}:
        return out["id"]
    return out or None


def current_form(front: dict[str, Any]) -> dict[str, Any]:
    """Front matter `front` rewritten in the current Prompty layout (same meaning)."""
    front = dict(front)
    out: dict[str, Any] = {}
    for key in ("name", "displayName", "description", "metadata"):
        if key in front:
            out[key] = front.pop(key)
    model = _model(front.pop("model", None), front.pop("parameters", None))
    if model:
        out["model"] = model
    inputs = front.pop("inputs", None)
    samples = front.pop("sample", None)
    if isinstance(inputs, dict | type(None)) and isinstance(samples, dict):
        inputs = dict(inputs or {})
        for key, value in samples.items():
            spec = inputs.get(key)
            spec = dict(spec) if isinstance(spec, dict) else {}
            inputs[key] = {**spec, "example": value}
    if inputs:
        out["inputs"] = _inputs_list(inputs)
    schema = front.pop("response_schema", None)
    outputs = front.pop("outputs", None)
    if outputs is None and isinstance(schema, dict):
        outputs = schema_to_outputs(schema)
        if outputs is None:
            front["response_schema"] = schema  # no exact Prompty form: kept as written
    if outputs:
        out["outputs"] = _inputs_list(outputs)
    if "tools" in front:
        out["tools"] = front.pop("tools")
    out["template"] = _template(front.pop("template", None))
    out.update(front)
    return out


def _template(raw: Any) -> Any:
    if isinstance(raw, str) and reference_of(raw) is None:
        return {"format": {"kind": raw}, "parser": {"kind": "prompty"}}
    if raw is None:
        return {"format": {"kind": "jinja2"}, "parser": {"kind": "prompty"}}
    if isinstance(raw, dict):
        out = dict(raw)
        if isinstance(out.get("format"), str):
            out["format"] = {"kind": out["format"]}
        if isinstance(out.get("parser"), str):
            out["parser"] = {"kind": out["parser"]}
        out.setdefault("format", {"kind": "jinja2"})
        out.setdefault("parser", {"kind": "prompty"})
        return out
    return raw


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line text and indented lists, as Prompty's samples are written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def _text_style(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value and all(line == line.rstrip() for line in value.split("\n")):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _text_style)


def _text(front: dict[str, Any], body: str) -> str:
    dumped = yaml.dump(front, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000)
    head = "---\n" + dumped + "---\n"
    return head + body.strip("\n") + "\n"


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
    """A prompt file's text from its fields, in the current Prompty layout (the inverse of
    parse_prompt). `parameters` are call parameters (`max_tokens`), written as options."""
    front: dict[str, Any] = {}
    if name:
        front["name"] = name
    if description:
        front["description"] = description
    if model or parameters:
        front["model"] = {k: v for k, v in (("id", model), ("parameters", parameters)) if v}
    if inputs:
        front["inputs"] = inputs
    if response_schema:
        front["response_schema"] = response_schema
    front.update(extra or {})
    return _text(current_form(front), body)


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
    description (or a default, or a kind other than string) are kept even when unused.
    Front matter already in the current layout and unchanged is kept byte for byte.
    """
    new_body = template.body if body is None else body
    front = dict(template.front)
    changed = False
    for key, content in template.referenced.items():
        if key in ("inputs", "outputs") and current_form({key: content}).get(key) != content:
            # The referenced file is in the classic layout: write its converted content.
            front[key] = content
            changed = True
    if description is not None and description != template.description:
        front["description"] = description
        changed = True
    if (model is not None and (model or None) != template.model) or (
        parameters is not None and parameters != template.parameters
    ):
        front["model"] = _changed_model(front.get("model"), model, parameters, template)
        front.pop("parameters", None)
        changed = True
    inputs = _changed_inputs(template, new_body, samples)
    if inputs is not None:
        front["inputs"] = inputs
        front.pop("sample", None)
        changed = True
    front_text, _, _ = split_front_matter(template.source_text.replace("\r\n", "\n"))
    if not changed and front_text is not None and current_form(front) == front:
        # Keep the front matter byte for byte, so the diff shows only what was edited.
        return f"---\n{front_text}\n---\n{new_body.strip(chr(10))}\n"
    return _text(current_form(front), new_body)


def _changed_model(
    raw: Any, model: str | None, parameters: dict[str, Any] | None, template: PromptTemplate
) -> Any:
    out = dict(raw) if isinstance(raw, dict) else {}
    out.pop("name", None)
    new_id = template.model if model is None else (model or None)
    out = {"id": new_id, **{k: v for k, v in out.items() if k != "id"}} if new_id else out
    if not new_id:
        out.pop("id", None)
    params = template.parameters if parameters is None else parameters
    out.pop("parameters", None)
    out.pop("options", None)
    if params:
        out["options"] = parameters_to_options(params)
    return out or None


def _changed_inputs(
    template: PromptTemplate, new_body: str, samples: dict[str, Any] | None
) -> list[dict[str, Any]] | None:
    """The inputs to write, or None when they are as the file has them."""
    inputs = {k: dict(v) for k, v in template.inputs.items()}
    for key, value in (samples or {}).items():
        inputs.setdefault(key, {"kind": infer_kind(value)})["example"] = value
    try:
        used = {
            name
            for message in split_messages(new_body)
            for name in template_variables(message.text, template.template_format)
        }
    except Exception:  # a half-typed template: keep every declared input
        used = set(inputs)
    kept = {
        k: v
        for k, v in inputs.items()
        if k in used or v.get("description") or "default" in v or v.get("kind") != "string"
    }
    if kept == template.inputs:
        return None
    return [_property(k, v) for k, v in kept.items()]
