"""Eval suites: `evals/NAME.yaml` files that say what to run and how to score it.

A suite names prompts, models, a dataset (and a slice of it), and a list of assertions
with weights and thresholds (promptfoo's `assert:` shape). A cell (one row, one repeat,
one prompt version on one model) passes when its weighted score reaches `row_threshold`
(or, without one, when every weighted assertion passes); a suite passes when every
variant's pass rate reaches `threshold`.

Every error names the suite file and the line (`evals/x.yaml line 12: ...`).
Scoring a run with a suite is in `scoring.py`; judge calibration in `calibration.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from promptyard.errors import NotFoundError, PromptyardError
from promptyard.evals.evaluators import (
    Assertion,
    AssertionConfigError,
    check_assertion,
)
from promptyard.workspace import Workspace, validate_name

SUITE_KEYS = {
    "description": "what the suite checks",
    "prompts": "prompt names (the gate runs the working tree and the baseline of each)",
    "models": "model names",
    "dataset": "dataset name, optionally NAME@REF",
    "slice": "all, head:N, random:N:SEED or filter:EXPR",
    "repeats": "calls per row",
    "parameters": "model parameters for every call (temperature, max_tokens, ...)",
    "assert": "the assertions",
    "threshold": "the fraction of cells that must pass, per variant (default 1.0)",
    "row_threshold": "the weighted score a cell needs to pass (default: every assertion passes)",
    "tolerance": "how far a pass rate may drop below the baseline (default 0.0)",
    "max_cost_usd": "stop the run past this many dollars",
    "concurrency": "calls at once",
}
ASSERTION_KEYS = {"type", "value", "threshold", "weight", "name", "metric"}
ASSERTION_OPTIONS = {
    "path",
    "unit",
    "min",
    "max",
    "prompt",
    "provider",
    "model",
    "scale",
    "parameters",
    "config",
}
ROW_SCORE = "row"  # Score.name of the per-cell verdict a suite writes (evaluator "suite")


class SuiteError(PromptyardError):
    """A suite that cannot run: the message names the file and the line."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = f"{path} line {line}: " if path and line else (f"{path}: " if path else "")
        super().__init__(where + message)


@dataclass(frozen=True)
class Suite:
    name: str
    path: str  # "evals/NAME.yaml"
    description: str = ""
    prompts: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    dataset: str | None = None
    dataset_ref: str | None = None
    slice: str = "all"
    repeats: int = 1
    parameters: dict[str, Any] = field(default_factory=dict)
    assertions: list[Assertion] = field(default_factory=list)
    threshold: float = 1.0
    row_threshold: float | None = None
    tolerance: float = 0.0
    max_cost_usd: float | None = None
    concurrency: int = 8
    lines: dict[str, int] = field(default_factory=dict)  # top-level key -> line

    def where(self, key: str) -> str:
        line = self.lines.get(key)
        return f"{self.path} line {line}" if line else self.path

    def uses_custom_code(self) -> list[str]:
        """The custom evaluator files this suite runs (code from the workspace)."""
        return [str(a.value) for a in self.assertions if a.base_type == "python"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "description": self.description,
            "prompts": self.prompts,
            "models": self.models,
            "dataset": self.dataset
            if not self.dataset_ref
            else f"{self.dataset}@{self.dataset_ref}",
            "slice": self.slice,
            "repeats": self.repeats,
            "threshold": self.threshold,
            "row_threshold": self.row_threshold,
            "tolerance": self.tolerance,
            "max_cost_usd": self.max_cost_usd,
            "assert": [
                {
                    "type": a.type,
                    "name": a.display_name,
                    "weight": a.weight,
                    "threshold": a.threshold,
                }
                for a in self.assertions
            ],
        }


# --- parsing ------------------------------------------------------------------------------


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
    lines = _key_lines(node)
    for key in data:
        if key not in SUITE_KEYS and key != "assertions":
            raise SuiteError(
                f"unknown key {key!r} (known: {', '.join(SUITE_KEYS)})", path, lines.get(str(key))
            )
    assert_key = "assert" if "assert" in data else "assertions"
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
    models = _names(data.get("models", ["sim-fast"]), "models", path, lines.get("models"))
    dataset, dataset_ref = None, None
    if data.get("dataset") is not None:
        if not isinstance(data["dataset"], str):
            raise SuiteError(
                "dataset must be a name (NAME or NAME@REF)", path, lines.get("dataset")
            )
        dataset, _, ref = data["dataset"].partition("@")
        dataset_ref = ref or None
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
    assertions = _dedupe_names(assertions, path)
    description = data.get("description") or ""
    return Suite(
        name=name,
        path=path,
        description=str(description),
        prompts=prompts,
        models=models,
        dataset=dataset,
        dataset_ref=dataset_ref,
        slice=slice_text,
        repeats=repeats,
        parameters=dict(parameters),
        assertions=assertions,
        threshold=threshold,
        row_threshold=row_threshold,
        tolerance=tolerance,
        max_cost_usd=max_cost,
        concurrency=concurrency,
        lines=lines,
    )


def _slice_text(value: Any, path: str, line: int | None) -> str:
    from promptyard.datasets.slicing import SliceSpec

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


def _dedupe_names(assertions: list[Assertion], path: str) -> list[Assertion]:
    """Give every assertion a unique display name (`contains`, `contains #2`, ...)."""
    explicit: list[str] = []
    for a in assertions:
        if a.name and a.name in explicit:
            raise SuiteError(f"two assertions are named {a.name!r}", path, _line_of(a))
        if a.name:
            explicit.append(a.name)
    out: list[Assertion] = []
    used = set(explicit)
    for a in assertions:
        if not a.name:
            name, n = a.type, 1
            while name in used:
                n += 1
                name = f"{a.type} #{n}"
            used.add(name)
            a = replace(a, name=name)
        out.append(a)
    return out


def _line_of(a: Assertion) -> int | None:
    tail = a.where.rpartition(" line ")[2]
    return int(tail) if tail.isdigit() else None


def suite_path(name: str) -> str:
    return f"evals/{validate_name(name, 'suite')}.yaml"


def list_suites(ws: Workspace) -> list[str]:
    """The names of the suites in the workspace's evals/ folder."""
    return sorted(p.stem for p in ws.evals_dir.glob("*.yaml")) if ws.evals_dir.is_dir() else []


def load_suite(
    ws: Workspace, name: str, ref: str | None = None, *, check_refs: bool = True
) -> Suite:
    """Suite `name` as in the working tree (or at git `ref`), checked against the workspace.

    With `check_refs`, prompts, the dataset and the models it names must exist.
    Raises NotFoundError for an unknown suite, SuiteError for a bad one.
    """
    try:
        rel = suite_path(name)
    except PromptyardError as exc:
        raise SuiteError(str(exc)) from None
    if ref is None:
        file = ws.root / rel
        if not file.is_file():
            known = ", ".join(list_suites(ws)) or "none"
            raise NotFoundError(f"no suite named {name!r} ({rel} does not exist; suites: {known})")
        text = file.read_text(encoding="utf-8")
    else:
        from promptyard.versioning.store import Store

        text = Store(ws).read(rel, ref)
    suite = parse_suite(text, name, root=ws.root, path=rel)
    if check_refs:
        _check_refs(ws, suite)
    return suite


def _check_refs(ws: Workspace, suite: Suite) -> None:
    from promptyard.models import resolve_model

    for p in suite.prompts:
        if not (ws.prompts_dir / f"{p}.prompty").is_file():
            raise SuiteError(
                f"no prompt named {p!r} in prompts/", suite.path, suite.lines.get("prompts")
            )
    if suite.dataset and not (ws.datasets_dir / f"{suite.dataset}.jsonl").is_file():
        raise SuiteError(
            f"no dataset named {suite.dataset!r} in datasets/",
            suite.path,
            suite.lines.get("dataset"),
        )
    for m in suite.models:
        try:
            resolve_model(ws, m)
        except PromptyardError as exc:
            raise SuiteError(str(exc), suite.path, suite.lines.get("models")) from None


__all__ = [
    "ROW_SCORE",
    "Suite",
    "SuiteError",
    "list_suites",
    "load_suite",
    "parse_suite",
    "suite_path",
]
