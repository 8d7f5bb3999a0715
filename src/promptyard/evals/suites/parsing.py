"""Reading a suite file: YAML text to a checked `Suite`, every error naming the line."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from promptyard.errors import PromptyardError
from promptyard.evals.evaluators import Assertion, AssertionConfigError, check_assertion
from promptyard.evals.suites.model import (
    ASSERTION_KEYS,
    ASSERTION_OPTIONS,
    SUITE_KEYS,
    Suite,
    SuiteError,
    name_assertions,
)
from promptyard.evals.suites.online_config import parse_online
from promptyard.workspace import validate_name


def _key_lines(node: yaml.Node | None) -> dict[str, int]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {
        str(k.value): k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)
    }


def _value_node(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _number(
    value: Any, what: str, path: str, line: int | None, low: float = 0.0, high: float | None = None
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise SuiteError(f"{what} must be a number, not {value!r}", path, line)
    if value < low or (high is not None and value > high):
        span = f"{low:g}..{high:g}" if high is not None else f">= {low:g}"
        raise SuiteError(f"{what} must be {span}, not {value!r}", path, line)
    return float(value)


def _names(value: Any, what: str, path: str, line: int | None) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if (
        not isinstance(items, list)
        or not items
        or not all(isinstance(v, str) and v.strip() for v in items)
    ):
        raise SuiteError(f"{what} must be a name or a list of names", path, line)
    return [v.strip() for v in items]


def parse_suite(text: str, name: str, root: Path | None = None, path: str | None = None) -> Suite:
    """Parse suite `name` from YAML `text`; raise SuiteError naming the file and line.

    `root` (the workspace root) lets custom evaluator files be checked for existence.
    """
    path = path or f"evals/{name}.yaml"
    node, data = _read_yaml(text, path)
    lines = _key_lines(node)
    for key in data:
        if key not in SUITE_KEYS and key != "assertions":
            raise SuiteError(
                f"unknown key {key!r} (known: {', '.join(SUITE_KEYS)})", path, lines.get(str(key))
            )
    prompts = _prompts(data, path, lines)
    models = _names(data.get("models", ["sim-fast"]), "models", path, lines.get("models"))
    dataset, dataset_ref = _dataset(data, path, lines)
    slice_text = _slice_text(data.get("slice"), path, lines.get("slice"))
    repeats = int(_number(data.get("repeats", 1), "repeats", path, lines.get("repeats"), 1))
    parameters = data.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise SuiteError("parameters must be a mapping", path, lines.get("parameters"))
    threshold = _number(data.get("threshold", 1.0), "threshold", path, lines.get("threshold"), 0, 1)
    row_threshold = data.get("row_threshold")
    if row_threshold is not None:
        row_threshold = _number(
            row_threshold, "row_threshold", path, lines.get("row_threshold"), 0, 1
        )
    tolerance = _number(data.get("tolerance", 0.0), "tolerance", path, lines.get("tolerance"), 0, 1)
    max_cost = data.get("max_cost_usd")
    if max_cost is not None:
        max_cost = _number(max_cost, "max_cost_usd", path, lines.get("max_cost_usd"))
    concurrency = int(
        _number(data.get("concurrency", 8), "concurrency", path, lines.get("concurrency"), 1)
    )
    return Suite(
        name=name,
        path=path,
        description=str(data.get("description") or ""),
        prompts=prompts,
        models=models,
        dataset=dataset,
        dataset_ref=dataset_ref,
        slice=slice_text,
        repeats=repeats,
        parameters=dict(parameters),
        assertions=_assertions(data, node, path, root, lines),
        threshold=threshold,
        row_threshold=row_threshold,
        tolerance=tolerance,
        max_cost_usd=max_cost,
        concurrency=concurrency,
        online=parse_online(data.get("online"), prompts, path, lines.get("online")),
        lines=lines,
    )


def _read_yaml(text: str, path: str) -> tuple[yaml.Node | None, dict[str, Any]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SuiteError(
            f"invalid YAML: {problem}", path, mark.line + 1 if mark else None
        ) from None
    if not isinstance(data, dict):
        raise SuiteError(
            "a suite is a YAML mapping (prompts:, models:, dataset:, assert:)", path, 1
        )
    return node, data


def _prompts(data: dict[str, Any], path: str, lines: dict[str, int]) -> list[str]:
    if "prompts" not in data:
        raise SuiteError("the suite names no `prompts:`", path, 1)
    prompts = _names(data["prompts"], "prompts", path, lines.get("prompts"))
    for p in prompts:
        if "@" in p:
            raise SuiteError(
                f"prompt {p!r}: name a prompt without @version; the gate compares the working "
                "tree with the baseline (--baseline)",
                path,
                lines.get("prompts"),
            )
        try:
            validate_name(p, "prompt")
        except PromptyardError as exc:
            raise SuiteError(str(exc), path, lines.get("prompts")) from None
    return prompts


def _dataset(
    data: dict[str, Any], path: str, lines: dict[str, int]
) -> tuple[str | None, str | None]:
    if data.get("dataset") is None:
        return None, None
    if not isinstance(data["dataset"], str):
        raise SuiteError("dataset must be a name (NAME or NAME@REF)", path, lines.get("dataset"))
    dataset, _, ref = data["dataset"].partition("@")
    return dataset, ref or None


def _assertions(
    data: dict[str, Any],
    node: yaml.Node | None,
    path: str,
    root: Path | None,
    lines: dict[str, int],
) -> list[Assertion]:
    assert_key = "assert" if "assert" in data else "assertions"
    raw_asserts = data.get(assert_key)
    if not isinstance(raw_asserts, list) or not raw_asserts:
        raise SuiteError(
            "`assert:` must be a non-empty list of assertions", path, lines.get(assert_key, 1)
        )
    seq = _value_node(node, assert_key)
    items = seq.value if isinstance(seq, yaml.SequenceNode) else []
    assertions = [
        _parse_assertion(raw, items[i] if i < len(items) else None, path, root)
        for i, raw in enumerate(raw_asserts)
    ]
    return name_assertions(assertions, path)


def _slice_text(value: Any, path: str, line: int | None) -> str:
    from promptyard.datasets import SliceSpec

    if value is None:
        return "all"
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"head:{value}"
    if isinstance(value, dict):
        kind = value.get("kind") or next(
            (k for k in ("head", "random", "filter") if k in value), "all"
        )
        n = value.get("n", value.get(kind) if kind in ("head", "random") else None)
        if kind == "filter":
            value = f"filter:{value.get('filter') or value.get('filter_expr') or ''}"
        elif kind == "random":
            value = f"random:{n}:{value.get('seed', 0)}"
        else:
            value = f"{kind}:{n}" if n is not None else str(kind)
    try:
        return SliceSpec.parse(str(value)).describe()
    except PromptyardError as exc:
        raise SuiteError(str(exc), path, line) from None


def _parse_assertion(raw: Any, node: yaml.Node | None, path: str, root: Path | None) -> Assertion:
    line = node.start_mark.line + 1 if node is not None else None
    where = f"{path} line {line}" if line else path
    if not isinstance(raw, dict) or "type" not in raw:
        raise SuiteError("an assertion is a mapping with a `type:`", path, line)
    key_lines = _key_lines(node)
    options: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ASSERTION_KEYS:
            continue
        if key not in ASSERTION_OPTIONS:
            raise SuiteError(
                f"unknown assertion key {key!r} (known: {', '.join(sorted(ASSERTION_KEYS | ASSERTION_OPTIONS))})",
                path,
                key_lines.get(str(key), line),
            )
        options[key] = value
    if isinstance(raw.get("config"), dict):
        options.update(raw["config"])
    if root is not None:
        options["_root"] = str(root)
    weight = _number(raw.get("weight", 1.0), "weight", path, key_lines.get("weight", line))
    threshold = raw.get("threshold")
    if threshold is not None:
        threshold = _number(threshold, "threshold", path, key_lines.get("threshold", line))
    a = Assertion(
        type=str(raw["type"]).strip(),
        value=raw.get("value"),
        threshold=threshold,
        weight=weight,
        name=str(raw.get("name") or raw.get("metric") or ""),
        options=options,
        where=f"{path} line {key_lines.get('value', line)}" if "value" in raw else where,
    )
    type_line = key_lines.get("type", line)
    try:
        check_assertion(replace(a, where=f"{path} line {type_line}"), config=False)
        check_assertion(a)
    except AssertionConfigError as exc:
        raise SuiteError(str(exc)) from None
    return replace(a, where=where)
