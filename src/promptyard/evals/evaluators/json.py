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


def load_schema(value: Any, root: str | None = None) -> Any:
    """A schema value as promptfoo reads it: a mapping or boolean as is, a string as YAML
    (or JSON), `file://PATH` from a JSON or YAML file under `root` (the workspace).

    Raises ValueError saying what is wrong.
    """
    if isinstance(value, str):
        text = value
        if value.startswith("file://"):
            text = _schema_file(value[len("file://") :], root)
        import yaml

        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"the schema is not YAML or JSON: {shorten(str(exc), 100)}") from None
    if not isinstance(value, dict | bool):
        raise ValueError("the JSON schema must be a mapping (or a YAML/JSON text, or file://)")
    return value


def _schema_file(rel: str, root: str | None) -> str:
    from pathlib import Path

    base = Path(root or ".").resolve()
    path = (base / rel).resolve()
    if not path.is_relative_to(base):
        raise ValueError(f"the schema file {rel!r} is outside the workspace")
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read the schema file {rel!r}: {exc.strerror}") from None


def _check_schema(a: Assertion) -> None:
    schema = a.value
    if (schema is None or schema == "") and a.base_type == "json-schema":
        raise AssertionConfigError(f"{a.where}: json-schema needs a schema as its value")
    if schema is None or schema == "":
        return
    if isinstance(schema, str) and "{{" in schema:
        return
    from jsonschema import exceptions, validators

    try:
        schema = load_schema(schema, a.options.get("_root"))
        if isinstance(schema, dict):
            validators.validator_for(schema).check_schema(schema)
    except ValueError as exc:
        raise AssertionConfigError(f"{a.where}: invalid JSON schema: {exc}") from None
    except exceptions.SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "(root)"
        raise AssertionConfigError(
            f"{a.where}: invalid JSON schema at {path}: {exc.message}"
        ) from None


def _validate(data: Any, schema: Any) -> str | None:
    from jsonschema import FormatChecker, validators

    # `format` is checked, as promptfoo's ajv-formats does (date, email, uri, date-time, ...)
    cls = (
        validators.validator_for(schema) if isinstance(schema, dict) else validators.Draft7Validator
    )
    validator = cls(schema, format_checker=FormatChecker())
    error = next(iter(sorted(validator.iter_errors(data), key=lambda e: list(e.path))), None)
    if error is None:
        return None
    path = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"at {path}: {shorten(error.message, 120)}"


def _has_schema(a: Assertion) -> bool:
    return a.value is not None and a.value != ""


def _json_grade(data: Any, a: Assertion, what: str) -> Grade:
    if _has_schema(a):
        problem = _validate(data, load_schema(a.value, a.options.get("_root")))
        if problem:
            return verdict(False, f"{what} but does not match the schema {problem}")
        return verdict(True, f"{what} and matches the schema")
    return verdict(True, what)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(text: str) -> Any:
    """`text` parsed as JavaScript's `JSON.parse` does: no fences, no NaN/Infinity."""
    return json.loads(text, parse_constant=_reject_constant)


@register(
    "is-json",
    "the whole output is valid JSON (optionally matching a JSON schema value)",
    needs_value=False,
    check=_check_schema,
)
def is_json(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the output is JSON (and matches the schema value, if there is one)."""
    try:
        data = strict_json(output)
    except ValueError as exc:
        return verdict(False, f"not valid JSON: {shorten(str(exc), 100)}")
    return _json_grade(data, a, "valid JSON")


_BRACE_LIMIT = 100_000  # promptfoo's cap on one candidate object's length


def find_json_objects(output: str) -> list[Any]:
    """Every JSON object in `output`, as promptfoo's `extractJsonObjects` finds them.

    From each `{`, the shortest text that parses as an object is taken (JSON, or the
    YAML flow form promptfoo's parser also accepts, `//` comments allowed), and the
    search goes on after it. Bare arrays are not objects; objects inside them are found.
    """
    decoder = json.JSONDecoder()
    found: list[Any] = []
    i = output.find("{")
    while i >= 0:
        end: int | None = None
        try:
            value, end = decoder.raw_decode(output, i)
        except ValueError:
            value, end = _lenient_object(output, i)
        if end is not None and isinstance(value, dict):
            found.append(value)
            i = output.find("{", end)
        else:
            i = output.find("{", i + 1)
    return found


def _lenient_object(text: str, start: int) -> tuple[Any, int | None]:
    import yaml

    depth, quote = 0, ""
    stop = min(len(text), start + _BRACE_LIMIT)
    for j in range(start, stop):
        ch = text[j]
        if quote:
            if ch == quote and text[j - 1] != "\\":
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                candidate = re.sub(r"(?m)^(\s*)//", r"\1#", text[start : j + 1])
                try:
                    value = yaml.safe_load(candidate)
                except yaml.YAMLError:
                    return None, None
                return (value, j + 1) if isinstance(value, dict) else (None, None)
    return None, None


@register(
    "contains-json",
    "the output contains a JSON object (one of them matching the schema, if given)",
    needs_value=False,
    check=_check_schema,
)
def contains_json(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the output holds a JSON object; with a schema, when one of them matches."""
    objects = find_json_objects(output)
    if not objects:
        return verdict(False, "no JSON object in the output")
    if not _has_schema(a):
        return verdict(
            True, f"contains JSON ({len(objects)} object{'s' if len(objects) > 1 else ''})"
        )
    schema = load_schema(a.value, a.options.get("_root"))
    problem = ""
    for data in objects:
        problem = _validate(data, schema) or ""
        if not problem:
            return verdict(True, "contains JSON that matches the schema")
    return verdict(False, f"contains JSON but none matches the schema {problem}")


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
