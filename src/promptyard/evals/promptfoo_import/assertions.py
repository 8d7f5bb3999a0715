"""promptfoo assertions to Promptyard ones: what carries over as it is, and why the rest
does not (a test with such an assertion is skipped and listed)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from promptyard.evals.promptfoo_import.reading import PromptfooImportError, read_text

# promptfoo's assertion types that Promptyard grades with promptfoo's meaning
SAME_MEANING = {
    "equals",
    "contains",
    "icontains",
    "contains-any",
    "contains-all",
    "icontains-any",
    "icontains-all",
    "starts-with",
    "regex",
    "is-json",
    "contains-json",
    "levenshtein",
    "rouge-n",
    "rouge-l",
    "bleu",
    "latency",
    "cost",
    "word-count",
    "llm-rubric",
}
NOT_NEGATABLE = {"levenshtein", "llm-rubric"}
# the keys of a promptfoo assertion that Promptyard reads; any other key skips the test
_KEYS = {"type", "value", "threshold", "weight", "metric", "provider", "normalizeUnicode"}
_SCHEMA_TYPES = {"is-json", "contains-json"}
_SIMPLE_VAR = re.compile(r"\{\{\s*[A-Za-z_]\w*(?:\.\w+|\[\d+\])*\s*\}\}")
_CSV_FORM = re.compile(r"^(not-)?([a-z][a-z-]*)(?:\((\d+(?:\.\d+)?)\))?(?::(.*))?$", re.DOTALL)
_CSV_ALIASES = {"grade": "llm-rubric", "fn": "javascript", "eval": "javascript"}
_CSV_BARE = {"is-json", "contains-json", "is-xml", "is-sql", "is-valid-openai-tools-call"}


def from_csv(text: str) -> dict[str, Any]:
    """A CSV `__expected` cell as promptfoo reads it: `type:value`, `type(threshold):value`,
    `grade:rubric`, a bare `is-json`, and anything else as `equals` the text."""
    match = _CSV_FORM.match(text.strip())
    if match:
        neg, kind, threshold, value = match.groups()
        kind = _CSV_ALIASES.get(kind, kind)
        if value is not None or kind in _CSV_BARE:
            out: dict[str, Any] = {"type": f"{neg or ''}{kind}"}
            if value is not None:
                out["value"] = value
            if threshold is not None:
                out["threshold"] = float(threshold)
            return out
    return {"type": "equals", "value": text}


def _base(kind: str) -> tuple[str, bool]:
    return (kind[4:], True) if kind.startswith("not-") else (kind, False)


def convert(
    raw: Any, base: Path, map_provider: Any
) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """(the Promptyard assertion, a note, why it cannot be carried over).

    `map_provider(id) -> (model name | None, why)` maps an llm-rubric `provider:`.
    """
    if isinstance(raw, str):
        raw = from_csv(raw)
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return None, None, f"assertion {str(raw)[:60]!r} has no type"
    kind = raw["type"].strip()
    base_kind, negated = _base(kind)
    if base_kind not in SAME_MEANING or (negated and base_kind in NOT_NEGATABLE):
        return None, None, _unsupported_reason(kind)
    extra = sorted(set(raw) - _KEYS)
    if extra:
        return None, None, f"{kind}: the key(s) {', '.join(extra)} are not supported"
    out: dict[str, Any] = {"type": kind}
    note = None
    value = raw.get("value")
    if isinstance(value, str) and value.startswith("file://"):
        try:
            value = _file_value(base, value, base_kind)
        except PromptfooImportError as exc:
            return None, None, f"{kind}: {exc}"
    if isinstance(value, str) and ("{%" in value or _SIMPLE_VAR.sub("", value).count("{{")):
        return None, None, f"{kind}: the value uses Nunjucks beyond {{{{var}}}}: {value[:60]!r}"
    if value is not None:
        out["value"] = value
    for key in ("threshold", "weight"):
        if raw.get(key) is not None:
            if isinstance(raw[key], bool) or not isinstance(raw[key], int | float):
                return None, None, f"{kind}: `{key}` must be a number"
            out[key] = raw[key]
    if raw.get("metric"):
        out["name"] = str(raw["metric"])
    if "normalizeUnicode" in raw:
        out["normalizeUnicode"] = raw["normalizeUnicode"]
    if base_kind == "llm-rubric":
        note = (
            "llm-rubric: graded by Promptyard's judge prompt on a 1-5 scale mapped to 0..1 "
            "(promptfoo's grader answers pass/score)"
        )
        if raw.get("provider") is not None:
            model, why = map_provider(raw["provider"])
            if model is None:
                return None, None, f"llm-rubric: grader provider {why}"
            out["model"] = model
    elif raw.get("provider") is not None:
        return None, None, f"{kind}: `provider:` applies only to model-graded assertions"
    return out, note, None


def _file_value(base: Path, ref: str, kind: str) -> Any:
    name = ref[len("file://") :]
    if ":" in name or name.endswith((".js", ".ts", ".mjs", ".cjs", ".py")):
        raise PromptfooImportError(f"{ref} is code (a function); it cannot be carried over")
    text = read_text(base, ref)
    if kind in _SCHEMA_TYPES or name.endswith((".json", ".yaml", ".yml")):
        try:
            return json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError):
            raise PromptfooImportError(f"{ref} is not valid JSON or YAML") from None
    return text


def _unsupported_reason(kind: str) -> str:
    base_kind, negated = _base(kind)
    if base_kind in ("javascript", "python", "webhook", "ruby"):
        return f"{kind}: runs code from the config, which Promptyard does not execute"
    if negated and base_kind in NOT_NEGATABLE:
        return f"{kind}: promptfoo's {base_kind} has no not- form in Promptyard"
    return f"{kind}: not supported by Promptyard"
