"""The JSON check: is an answer valid JSON, and does it match the schema asked for?

An answer that is not is repaired with `json-repair` (missing quotes and brackets, trailing
commas, a JSON object inside prose or a code fence); what the engine does when even the
repaired text fails is the policy's (a retry with the error fed back, a block, a flag).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jsonschema


@dataclass(frozen=True)
class JsonVerdict:
    """`ok` when the text is valid; otherwise `error` says what is wrong (for the model)."""

    ok: bool
    error: str | None = None


def check_json(text: str | None, schema: dict[str, Any] | None = None) -> JsonVerdict:
    """Whether `text` is one JSON value that matches `schema` (when given)."""
    if text is None or not text.strip():
        return JsonVerdict(False, "the answer is empty, not JSON")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return JsonVerdict(
            False, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        )
    if schema:
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(schema).iter_errors(data)
        )
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "the top level"
            return JsonVerdict(False, f"does not match the schema at {where}: {error.message}")
    return JsonVerdict(True)


def repair_json(text: str | None) -> str | None:
    """The text json-repair makes of `text` (compact JSON), or None when nothing is left.

    Called on text `json.loads` refused, so json-repair is told not to try that again."""
    if not text or not text.strip():
        return None
    from json_repair import repair_json as _repair

    try:
        repaired = _repair(text, ensure_ascii=False, skip_json_loads=True)
    except Exception:  # json-repair's own failure: nothing repaired, the policy goes on
        return None
    if not isinstance(repaired, str) or repaired.strip() in ("", '""', "null"):
        return None
    return repaired


def retry_message(error: str) -> str:
    """What a retry tells the model about its last answer."""
    return (
        f"Your last answer was rejected: {error}. Answer again with only the corrected JSON, "
        "no prose and no code fence."
    )
