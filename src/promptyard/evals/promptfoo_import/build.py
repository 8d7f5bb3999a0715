"""A promptfoo project as Promptyard files: prompt texts, dataset rows and a suite.

Nothing is written here; `apply` saves what `build` returns. Every part of the config
that cannot be carried over is listed in the report with the reason, never dropped
silently; a test with an unsupported assertion is skipped as a whole.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptyard.evals.evaluators import ROW_ASSERT_COLUMN
from promptyard.evals.promptfoo_import.assertions import convert
from promptyard.evals.promptfoo_import.providers import model_for, provider_id
from promptyard.evals.promptfoo_import.reading import (
    PromptfooImportError,
    RawPrompt,
    RawTest,
    load_config,
    read_prompts,
    read_tests,
    read_text,
)
from promptyard.workspace import Workspace

# promptfoo config keys that the import reads; the others are listed as not carried over
_READ_KEYS = {"description", "prompts", "providers", "tests", "defaultTest", "targets"}
_IGNORED_OK = {"outputPath", "sharing", "writeLatestResults", "evaluateOptions"}
_ROLES = {"system", "user", "assistant"}


@dataclass
class Plan:
    """What an import will save, and what it could not carry over."""

    name: str
    description: str
    prompts: dict[str, str] = field(default_factory=dict)  # prompt name -> template body
    prompt_sources: dict[str, str] = field(default_factory=dict)
    models: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    asserts: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # tests not imported, with the reason
    notes: list[str] = field(default_factory=list)  # anything else not carried over


def slug(text: str) -> str:
    """`text` as a Promptyard name (letters, digits, `_`, `-`)."""
    out = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_-")
    return out[:60] or "promptfoo"


def build(ws: Workspace, config_path: Path, name: str | None = None) -> Plan:
    """The import plan of the promptfoo config at `config_path`; raises
    PromptfooImportError when nothing useful can be carried over."""
    config_path = config_path.resolve()
    base = config_path.parent
    data = load_config(config_path)
    plan = Plan(
        name=slug(name or base.name),
        description=str(data.get("description") or f"Imported from promptfoo: {config_path.name}"),
    )
    for key in sorted(set(data) - _READ_KEYS - _IGNORED_OK):
        plan.notes.append(f"config key {key!r}: not carried over")
    _prompts(plan, read_prompts(base, data.get("prompts"), plan.notes))
    if not plan.prompts:
        raise PromptfooImportError(f"{config_path}: no prompt can be carried over ({_why(plan)})")
    _providers(ws, plan, data.get("providers", data.get("targets")))
    if not plan.models:
        raise PromptfooImportError(f"{config_path}: no provider can be carried over ({_why(plan)})")

    def map_provider(item: Any) -> tuple[str | None, str]:
        pid, label, _ = provider_id(item)
        return model_for(ws, pid, label) if pid else (None, f"{item!r} has no id")

    default = data.get("defaultTest") or {}
    if isinstance(default, str):
        plan.notes.append("defaultTest from a file is not supported; not carried over")
        default = {}
    for asserted in default.get("assert") or []:
        converted, note, problem = convert(asserted, base, map_provider)
        if problem:
            raise PromptfooImportError(
                f"{config_path}: defaultTest assertion cannot be carried over, so no test "
                f"could run as in promptfoo: {problem}"
            )
        plan.asserts.append(converted or {})
        if note and note not in plan.notes:
            plan.notes.append(note)
    for key in sorted(set(default) - {"assert", "vars", "options", "threshold"}):
        plan.notes.append(f"defaultTest key {key!r}: not carried over")
    if default.get("options"):
        plan.notes.append("defaultTest options (transform, provider, ...): not carried over")
    tests = read_tests(base, data.get("tests"), plan.notes)
    _tests(plan, tests, dict(default.get("vars") or {}), base, map_provider)
    return plan


def _why(plan: Plan) -> str:
    return "; ".join(plan.notes) or "none given"


def _prompts(plan: Plan, raws: list[RawPrompt]) -> None:
    names: list[str] = []
    for i, raw in enumerate(raws, 1):
        if raw.messages is not None:
            roles = {str(m.get("role")) for m in raw.messages}
            if not roles <= _ROLES:
                plan.notes.append(
                    f"prompt {raw.source}: role(s) {', '.join(sorted(roles - _ROLES))} are not "
                    "system, user or assistant; not imported"
                )
                continue
            body = "\n\n".join(f"{m['role']}:\n{m['content']}" for m in raw.messages)
        else:
            body = raw.text or ""
        body = nunjucks_to_jinja(body)
        stem = slug(raw.label) if raw.label else ""
        pname = plan.name if len(raws) == 1 else f"{plan.name}_{stem or i}"
        while pname in names:
            pname += "_2"
        names.append(pname)
        plan.prompts[pname] = body
        plan.prompt_sources[pname] = raw.source


def nunjucks_to_jinja(body: str) -> str:
    """A promptfoo (Nunjucks) template as Jinja: the two differ little; `dump` is Jinja's
    `tojson`."""
    return re.sub(r"\|\s*dump\b", "| tojson", body)


def _providers(ws: Workspace, plan: Plan, value: Any) -> None:
    items = value if isinstance(value, list) else [value] if value is not None else []
    configs: list[dict[str, Any]] = []
    for item in items:
        pid, label, config = provider_id(item)
        if pid is None:
            plan.notes.append(f"provider {item!r}: no id; not carried over")
            continue
        model, why = model_for(ws, pid, label)
        if model is None:
            plan.notes.append(f"provider {why}")
            continue
        if model not in plan.models:
            plan.models.append(model)
            configs.append(config)
    params = {k: v for k, v in (configs[0] if configs else {}).items() if k in _PARAMS}
    if len(configs) == 1:
        plan.parameters = params
    if any(set(c) - _PARAMS for c in configs) or (len(configs) > 1 and any(configs)):
        plan.notes.append(
            "provider config other than one provider's temperature/max_tokens/top_p/seed: "
            "not carried over (a suite's parameters apply to every model)"
        )


_PARAMS = {"temperature", "max_tokens", "top_p", "seed", "stop", "presence_penalty"}


def _expand(variables: dict[str, Any]) -> list[dict[str, Any]]:
    # promptfoo runs a test once per combination of its list-valued vars
    keys = [k for k, v in variables.items() if isinstance(v, list)]
    if not keys:
        return [variables]
    combos = itertools.product(*(variables[k] for k in keys))
    return [{**variables, **dict(zip(keys, combo, strict=True))} for combo in combos]


def _var_value(base: Path, value: Any) -> Any:
    if isinstance(value, str) and value.startswith("file://"):
        name = value[len("file://") :]
        if ":" in name or name.endswith((".js", ".ts", ".py", ".mjs", ".cjs")):
            raise PromptfooImportError(f"the var {value} is code; it cannot be carried over")
        return read_text(base, value)
    return value


def _tests(
    plan: Plan,
    tests: list[RawTest],
    default_vars: dict[str, Any],
    base: Path,
    map_provider: Any,
) -> None:
    kept: list[tuple[dict[str, Any], list[dict[str, Any]], float | None]] = []
    wheres: list[str] = []
    for test in tests:
        if test.extra_keys:
            plan.notes.append(f"{test.where}: key(s) {', '.join(test.extra_keys)} not carried over")
        if test.options:
            plan.skipped.append(
                f"{test.where}: test options ({', '.join(sorted(test.options))}) are not supported"
            )
            continue
        converted, problem = [], None
        for raw in test.asserts:
            one, note, problem = convert(raw, base, map_provider)
            if problem:
                break
            converted.append(one or {})
            if note and note not in plan.notes:
                plan.notes.append(note)
        if problem:
            plan.skipped.append(f"{test.where}: {problem}")
            continue
        try:
            merged = {k: _var_value(base, v) for k, v in {**default_vars, **test.vars}.items()}
        except PromptfooImportError as exc:
            plan.skipped.append(f"{test.where}: {exc}")
            continue
        if "__invalid__" in merged or "id" in merged or ROW_ASSERT_COLUMN in merged:
            plan.skipped.append(f"{test.where}: vars must be a mapping without `id`")
            continue
        for variables in _expand(merged):
            kept.append((variables, converted, test.threshold))
            wheres.append(test.where)
    if not tests:
        kept.append((dict(default_vars), [], None))  # promptfoo runs each prompt once
        wheres.append("(no tests)")
    if not kept:
        return
    columns = sorted({k for v, _, _ in kept for k in v})
    if any(set(columns) - set(v) for v, _, _ in kept):
        plan.notes.append(
            "tests lacking some vars: the missing vars are empty strings, as promptfoo renders them"
        )
    per_test = any(asserts or threshold is not None for _, asserts, threshold in kept)
    shared = _shared(kept, columns) if per_test else None
    if per_test and shared is None:
        # a row's own list is graded in-line; judges run only as the suite's own assertions
        judged = [i for i, (_, asserts, _) in enumerate(kept) if any(_judge(a) for a in asserts)]
        for i in judged:
            plan.skipped.append(
                f"{wheres[i]}: llm-rubric in a test's own assertions runs only when every test "
                "has it (or in defaultTest)"
            )
        kept = [k for i, k in enumerate(kept) if i not in set(judged)]
        if not kept:
            return
    for n, (variables, asserts, threshold) in enumerate(kept, 1):
        row: dict[str, Any] = {"id": f"t{n:03d}", **{c: variables.get(c, "") for c in columns}}
        if shared is not None:
            for i, one in enumerate(asserts):
                if shared[i].get("value") == _value_ref(i):
                    row[_value_ref(i)[2:-2]] = one.get("value")
        elif per_test:
            held: dict[str, Any] = {"assert": asserts}
            if threshold is not None:
                held["threshold"] = threshold
            row[ROW_ASSERT_COLUMN] = held
        plan.rows.append(row)
    if shared is not None:
        plan.asserts.extend(shared)
    elif per_test:
        plan.asserts.append(
            {
                "type": "row-assertions",
                "name": "promptfoo test assertions",
                "value": "{{" + ROW_ASSERT_COLUMN + "}}",
            }
        )


VALUE_COLUMN = "promptfoo_value"


def _judge(a: dict[str, Any]) -> bool:
    return str(a.get("type", "")).removeprefix("not-") == "llm-rubric"


def _value_ref(i: int) -> str:
    return "{{" + f"{VALUE_COLUMN}_{i + 1}" + "}}"


def _shared(
    kept: list[tuple[dict[str, Any], list[dict[str, Any]], float | None]], columns: list[str]
) -> list[dict[str, Any]] | None:
    """When every test has the same assertions but for their values (and no threshold),
    the suite's own assertions, each differing value read from a column; else None (each
    row then keeps its own list)."""
    lists = [asserts for _, asserts, _ in kept]
    if any(t is not None for _, _, t in kept) or not lists[0]:
        return None
    if any(c.startswith(VALUE_COLUMN) for c in columns):
        return None

    def shape(a: dict[str, Any]) -> str:
        return json.dumps({k: v for k, v in a.items() if k != "value"}, sort_keys=True)

    first = [shape(a) for a in lists[0]]
    if any([shape(a) for a in one] != first for one in lists):
        return None
    out: list[dict[str, Any]] = []
    for i, a in enumerate(lists[0]):
        values = [json.dumps(one[i].get("value"), sort_keys=True) for one in lists]
        if len(set(values)) == 1:
            out.append(dict(a))
            continue
        # a row's column is not filled again, so a differing value may not use {{vars}}
        if any(
            one[i].get("value") is None or "{{" in v for one, v in zip(lists, values, strict=True)
        ):
            return None
        out.append({**a, "value": _value_ref(i)})
    return out
