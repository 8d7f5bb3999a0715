"""JSON checks: is-json, contains-json, json-schema and json-field, and the JSON helpers
(reading fenced output, finding JSON in text, dotted paths) the judges also use."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from promptyard.evals.evaluators.base import (
    Assertion,
    AssertionConfigError,
    EvalContext,
    Grade,
    register,
    shorten,
    verdict,
)


def parse_json_output(output: str) -> Any:
    """The output parsed as JSON; a ```json fenced block is accepted. Raises ValueError."""
    text = output.strip()
    fence = re.fullmatch(r"```(?:json)?\s*\n(.*?)\n?```", text, re.DOTALL)
    if fence:
        text = fence.group(1)
    return json.loads(text)


def find_json(output: str) -> Any:
    """The first JSON object or array inside `output`. Raises ValueError when there is none."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[\[{]", output):
        try:
            value, _ = decoder.raw_decode(output, match.start())
        except ValueError:
            continue
        return value
    raise ValueError("no JSON object or array in the output")


_PATH_PART = re.compile(r"[^.\[\]]+|\[\d+\]")


def json_path_get(data: Any, path: str) -> Any:
    """`data` at a dotted path such as `items[0].price`. Raises KeyError when absent."""
    current = data
    for part in _PATH_PART.findall(path):
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(current, list) or index >= len(current):
                raise KeyError(path)
            current = current[index]
        elif isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise KeyError(path)
    return current


# --- schemas ------------------------------------------------------------------------------


def _check_schema(a: Assertion) -> None:
    schema = a.value
    if schema is None and a.base_type == "json-schema":
        raise AssertionConfigError(f"{a.where}: json-schema needs a schema as its value")
    if schema is None:
        return
    if not isinstance(schema, dict):
        raise AssertionConfigError(f"{a.where}: the JSON schema must be a mapping")
    from jsonschema import exceptions, validators

    try:
        validators.validator_for(schema).check_schema(schema)
    except exceptions.SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "(root)"
        raise AssertionConfigError(
            f"{a.where}: invalid JSON schema at {path}: {exc.message}"
        ) from None


def _validate(data: Any, schema: dict[str, Any]) -> str | None:
    from jsonschema import validators

    validator = validators.validator_for(schema)(schema)
    error = next(iter(sorted(validator.iter_errors(data), key=lambda e: list(e.path))), None)
    if error is None:
        return None
    path = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"at {path}: {shorten(error.message, 120)}"


def _json_grade(data: Any, a: Assertion, what: str) -> Grade:
    if isinstance(a.value, dict):
        problem = _validate(data, a.value)
        if problem:
            return verdict(False, f"{what} but does not match the schema {problem}")
        return verdict(True, f"{what} and matches the schema")
    return verdict(True, what)


@register(
    "is-json",
    "the output is valid JSON (optionally matching a JSON schema value)",
    needs_value=False,
    check=_check_schema,
)
def is_json(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the output is JSON (and matches the schema value, if there is one)."""
    try:
        data = parse_json_output(output)
    except ValueError as exc:
        return verdict(False, f"not valid JSON: {shorten(str(exc), 100)}")
    return _json_grade(data, a, "valid JSON")


@register(
    "contains-json",
    "the output contains a JSON object or array (optionally matching a schema)",
    needs_value=False,
    check=_check_schema,
)
def contains_json(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the output holds a JSON object or array (matching the schema, if any)."""
    try:
        data = find_json(output)
    except ValueError as exc:
        return verdict(False, str(exc))
    return _json_grade(data, a, "contains JSON")


@register(
    "json-schema",
    "the output is JSON that validates against the JSON schema value",
    check=_check_schema,
)
def json_schema(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the output is JSON that validates against the schema value."""
    try:
        data = parse_json_output(output)
    except ValueError as exc:
        return verdict(False, f"not valid JSON: {shorten(str(exc), 100)}")
    return _json_grade(data, a, "valid JSON")


# --- one field ----------------------------------------------------------------------------


def _check_json_field(a: Assertion) -> None:
    path = a.options.get("path")
    if not isinstance(path, str) or not _PATH_PART.findall(path):
        raise AssertionConfigError(
            f"{a.where}: json-field needs a `path:` such as total or items[0].sku"
        )


def _same_value(got: Any, expected: Any) -> bool:
    if isinstance(got, int | float) and not isinstance(got, bool):
        try:
            return math.isclose(float(got), float(expected), rel_tol=1e-9, abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    if isinstance(got, str) and not isinstance(expected, str):
        return got.strip() == str(expected)
    if isinstance(got, str):
        return got.strip() == expected.strip()
    return bool(got == expected)


@register(
    "json-field",
    "the JSON output has `path:` equal to the value",
    check=_check_json_field,
    needs_value=False,
    uses_reference=True,
)
def json_field(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the output's JSON has the value at `path:` (numbers compare closely)."""
    path = str(a.options["path"])
    try:
        data = parse_json_output(output)
    except ValueError:
        try:
            data = find_json(output)
        except ValueError:
            return verdict(False, "not valid JSON")
    try:
        got = json_path_get(data, path)
    except KeyError:
        return verdict(False, f"no field {path}")
    same = _same_value(got, a.value)
    return verdict(
        same,
        f"{path} = {shorten(json.dumps(got, ensure_ascii=False), 60)}"
        + ("" if same else f", expected {shorten(json.dumps(a.value, ensure_ascii=False), 60)}"),
    )
