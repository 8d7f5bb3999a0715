"""Deterministic values that are valid for a JSON schema: tool-call arguments and
structured outputs (`response_format: json_schema`, the SDK's `parse`).

Types, `enum`/`const`, `required`, `properties`, `items`, `minItems`/`maxItems`,
`minimum`/`maximum`, `minLength`/`maxLength`, `format` (date, date-time, email, uri, uuid),
`anyOf`/`oneOf`/`allOf`, nullable type lists and local `$ref`s (`#/$defs/...`, as pydantic
writes them) are honoured; a string gets a plausible value from `hint(key)` when one is given.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

_FORMATS = {
    "date": "2024-05-17",
    "date-time": "2024-05-17T09:30:00Z",
    "time": "09:30:00",
    "email": "someone@example.com",
    "uri": "https://example.com/item",
    "url": "https://example.com/item",
    "uuid": "123e4567-e89b-42d3-a456-426614174000",
    "ipv4": "192.0.2.1",
    "hostname": "example.com",
}
_MAX_DEPTH = 8

StringHint = Callable[[str], str | None]


def _resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    """`schema` with a local `$ref` followed (a few hops at most)."""
    for _ in range(_MAX_DEPTH):
        if not isinstance(schema, dict) or "$ref" not in schema:
            break
        ref = str(schema["$ref"])
        if not ref.startswith("#/"):
            return {}
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**target, **rest} if isinstance(target, dict) else rest
    return schema if isinstance(schema, dict) else {}


def _type_of(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):  # ["string", "null"]: the first type that is not null
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
    return str(kind) if kind is not None else None


def value_for_schema(
    schema: Any,
    rng: random.Random,
    hint: StringHint | None = None,
    key: str = "",
    root: dict[str, Any] | None = None,
    depth: int = 0,
) -> Any:
    """A value valid under `schema`, the same for the same `rng` state."""
    root = root if root is not None else (schema if isinstance(schema, dict) else {})
    schema = _resolve(schema, root)
    if depth > _MAX_DEPTH:
        return None
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return rng.choice(schema["enum"])
    for combinator in ("anyOf", "oneOf"):
        options = schema.get(combinator)
        if isinstance(options, list) and options:
            # the first option that is not just null: the likeliest shape
            pick = next((o for o in options if _type_of(_resolve(o, root)) != "null"), options[0])
            return value_for_schema(pick, rng, hint, key, root, depth + 1)
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            part = _resolve(part, root)
            merged.update({k: v for k, v in part.items() if k not in ("properties", "required")})
            merged.setdefault("properties", {}).update(part.get("properties") or {})
            merged["required"] = [*merged.get("required", []), *(part.get("required") or [])]
        return value_for_schema(merged, rng, hint, key, root, depth + 1)
    kind = _type_of(schema)
    if kind == "object":
        return _object(schema, rng, hint, root, depth)
    if kind == "array":
        return _array(schema, rng, hint, key, root, depth)
    if kind == "integer":
        return _number(schema, rng, integer=True)
    if kind == "number":
        return _number(schema, rng, integer=False)
    if kind == "boolean":
        return rng.random() < 0.7
    if kind == "null":
        return None
    return _string(schema, rng, hint, key)


def _object(
    schema: dict[str, Any],
    rng: random.Random,
    hint: StringHint | None,
    root: dict[str, Any],
    depth: int,
) -> dict[str, Any]:
    found = schema.get("properties")
    props: dict[str, Any] = found if isinstance(found, dict) else {}
    required = [r for r in schema.get("required") or [] if isinstance(r, str)]
    # every property (required ones first): fuller arguments, still valid
    names = required + [p for p in props if p not in required]
    return {
        name: value_for_schema(props.get(name, {}), rng, hint, name, root, depth + 1)
        for name in names
    }


def _array(
    schema: dict[str, Any],
    rng: random.Random,
    hint: StringHint | None,
    key: str,
    root: dict[str, Any],
    depth: int,
) -> list[Any]:
    low = int(schema.get("minItems") or 1)
    high = schema.get("maxItems")
    count = max(low, 1 if high is None else min(int(high), max(low, 2)))
    if high is not None:
        count = min(count, int(high))
    items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
    out = [value_for_schema(items, rng, hint, key, root, depth + 1) for _ in range(count)]
    if schema.get("uniqueItems") and len({repr(v) for v in out}) < len(out):
        out = out[:1]
    return out


def _number(schema: dict[str, Any], rng: random.Random, integer: bool) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    lo = float(low) if isinstance(low, int | float) else (1.0 if high is None else float(high) - 5)
    hi = float(high) if isinstance(high, int | float) else lo + 5
    if "exclusiveMinimum" in schema and "minimum" not in schema:
        lo += 1 if integer else 1e-6
    if "exclusiveMaximum" in schema and "maximum" not in schema:
        hi -= 1 if integer else 1e-6
    if integer:
        import math

        a, b = math.ceil(lo), math.floor(hi)
        return rng.randint(a, b) if a <= b else a
    return round(rng.uniform(lo, hi), 2) if hi > lo else lo


def _string(schema: dict[str, Any], rng: random.Random, hint: StringHint | None, key: str) -> str:
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _FORMATS:
        return _FORMATS[fmt]
    text = (hint(key) if hint else None) or (key.replace("_", " ") if key else "value")
    low = int(schema.get("minLength") or 0)
    high = schema.get("maxLength")
    if len(text) < low:
        text = (text + " ") * (low // (len(text) + 1) + 1)
    if isinstance(high, int) and len(text) > high:
        text = text[:high]
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        text = _matching(pattern, [text, *_PATTERN_TRIES], text)
    return text


# strings tried, in order, against a `pattern` (ids, codes, dates, words)
_PATTERN_TRIES = (
    "12345",
    "A1",
    "abc",
    "ABC",
    "ABC-123",
    "abc_123",
    "2024-05-17",
    "someone@example.com",
    "+15555550100",
    "x",
)


def _matching(pattern: str, tries: list[str], fallback: str) -> str:
    try:
        compiled = re.compile(pattern)
    except re.error:  # a JavaScript-only pattern: nothing to check against
        return fallback
    return next((t for t in tries if compiled.search(t)), fallback)
