"""Run plans: every cell of a run rendered up front.

A plan is prompt versions x models x dataset rows x repeats. `plan_run` renders every
cell's chat messages before anything is sent and reports every missing variable at once;
`promptyard.runs.pricing.estimate` prices a plan.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from promptyard.errors import PromptyardError
from promptyard.runs.plan_cells import PlannedCell, PlannedCells, cell_cache_key, variant_prefix
from promptyard.storage.tables import RunKind
from promptyard.workspace import Workspace

if TYPE_CHECKING:
    from promptyard.models import ModelEndpoint
    from promptyard.runs.mapping import VariableMapping


class PlanError(PromptyardError):
    """A plan that cannot run: every problem is in `problems`, one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        head = self.problems[0] if self.problems else "the plan is empty"
        more = f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        super().__init__(head + more)


class MissingColumnsError(PlanError):
    """Dataset rows lack columns for variables a prompt needs; nothing was sent."""

    def __init__(self, missing: Sequence[MissingVariables]) -> None:
        self.missing = list(missing)
        super().__init__([m.describe() for m in self.missing])


@dataclass(frozen=True)
class MissingVariables:
    """The variables one prompt version needs that a set of rows lacks."""

    prompt: str
    version: str
    variables: tuple[str, ...]
    row_ids: tuple[str, ...]

    def describe(self) -> str:
        rows = ", ".join(self.row_ids[:5]) + (
            f" and {len(self.row_ids) - 5} more" if len(self.row_ids) > 5 else ""
        )
        names = ", ".join(repr(v) for v in self.variables)
        return (
            f"prompt {self.prompt} {self.version} needs {names}, missing in "
            f"{len(self.row_ids)} row(s): {rows}"
        )


@dataclass
class PlannedVariant:
    """One column of the run: a prompt at one version on one model, with parameters."""

    prompt_name: str
    prompt_sha: str | None
    prompt_version: int | None
    model: str
    endpoint: ModelEndpoint
    parameters: dict[str, Any]
    template_text: str | None = None  # an unsaved edit (playground)

    @property
    def version_label(self) -> str:
        return f"v{self.prompt_version}" if self.prompt_version else "draft"

    @property
    def label(self) -> str:
        return f"{self.prompt_name} {self.version_label} · {self.model}"


@dataclass
class RunPlan:
    """Everything a run will send, rendered: variants and their cells."""

    variants: list[PlannedVariant]
    cells: Sequence[PlannedCell]  # a PlannedCells: made as read, not held one by one
    dataset_name: str | None = None
    dataset_sha: str | None = None
    slice: dict[str, Any] = field(default_factory=dict)
    repeats: int = 1
    name: str = ""
    kind: str = RunKind.RUN
    guardrails: str | None = None  # a guardrails.yaml policy name: every call goes through it
    mapping: dict[str, Any] | None = None  # runs.mapping.VariableMapping.to_dict(), stored

    @property
    def calls(self) -> int:
        return len(self.cells)


@dataclass(frozen=True)
class RowInput:
    """A dataset row as the engine sees it: its id, the template variables, a reference."""

    row_id: str
    inputs: dict[str, Any]
    reference: str | None = None


def cache_key(
    endpoint: ModelEndpoint, messages_json: str, parameters: dict[str, Any], repeat: int
) -> str:
    """The response-cache key: same model, messages, parameters and repeat index."""
    return cell_cache_key(variant_prefix(endpoint, parameters), messages_json, repeat)


def _row_input(row: RowInput | dict[str, Any], index: int) -> RowInput:
    """A RowInput, or a plain dict row: `id`, its fields as inputs (or a nested `inputs`)."""
    if isinstance(row, RowInput):
        return row
    data = dict(row)
    row_id = str(data.pop("id", index))
    reference = data.get("reference", data.get("expected"))
    nested = data.get("inputs")
    inputs = nested if isinstance(nested, dict) else data
    return RowInput(row_id, dict(inputs), None if reference is None else str(reference))


def _template_variables(template: Any) -> set[str]:
    variables = getattr(template, "variables", None)
    if variables is None:
        return set()
    if isinstance(variables, dict):
        return set(variables)
    return {getattr(v, "name", v) for v in variables}


@dataclass
class VariantSpec:
    """A variant before rendering: a loaded template (saved or an edit) and a model."""

    template: Any  # promptyard.prompts.template.PromptTemplate (or a get_prompt result)
    endpoint: ModelEndpoint
    parameters: dict[str, Any] = field(default_factory=dict)
    prompt_name: str | None = None
    prompt_sha: str | None = None
    prompt_version: int | None = None
    template_text: str | None = None


def build_plan(
    specs: Sequence[VariantSpec],
    rows: Iterable[RowInput | dict[str, Any]],
    *,
    repeats: int = 1,
    dataset_name: str | None = None,
    dataset_sha: str | None = None,
    slice_spec: dict[str, Any] | None = None,
    name: str = "",
    kind: str = RunKind.RUN,
) -> RunPlan:
    """Render every cell of specs x rows x repeats; raise with every missing variable."""
    from promptyard.prompts.errors import TemplateTimeoutError

    if repeats < 1:
        raise PlanError(["repeats must be at least 1"])
    if not specs:
        raise PlanError(["pick at least one prompt and one model"])
    row_inputs = [_row_input(r, i) for i, r in enumerate(rows)]
    if not row_inputs:
        raise PlanError(["the dataset slice has no rows"])
    seen: set[str] = set()
    for r in row_inputs:
        if r.row_id in seen:
            raise PlanError([f"row id {r.row_id!r} appears twice in the dataset slice"])
        seen.add(r.row_id)

    variants: list[PlannedVariant] = []
    for spec in specs:
        template = spec.template
        base = dict(getattr(template, "parameters", None) or {})
        tools = getattr(template, "tools", None) or []
        if tools:  # the prompt's tools reach the model (and the cache key) as a parameter
            base["tools"] = [dict(t) for t in tools]
        base.update(spec.parameters)
        version = getattr(template, "version", None)
        variants.append(
            PlannedVariant(
                prompt_name=spec.prompt_name or str(getattr(template, "name", "draft")),
                prompt_sha=spec.prompt_sha or getattr(version, "sha", None),
                prompt_version=spec.prompt_version or getattr(version, "number", None),
                model=spec.endpoint.name,
                endpoint=spec.endpoint,
                parameters=base,
                template_text=spec.template_text,
            )
        )

    # Render once per (template, row); models and repeats share the rendered messages.
    rendered: dict[int, list[str]] = {}
    missing: dict[tuple[int, tuple[str, ...]], list[str]] = {}
    other_problems: list[str] = []
    template_ids: dict[int, int] = {}
    for vi, spec in enumerate(specs):
        tid = template_ids.setdefault(id(spec.template), vi)
        if tid != vi:
            continue
        # A variable with a default declared under `inputs:` need not be a column.
        needed = _template_variables(spec.template) - set(getattr(spec.template, "defaults", {}))
        out = rendered[vi] = []
        for row in row_inputs:
            lacking = tuple(sorted(v for v in needed if v not in row.inputs))
            if lacking:
                missing.setdefault((vi, lacking), []).append(row.row_id)
                continue
            try:
                messages = spec.template.render(row.inputs)
            except TemplateTimeoutError as exc:
                # A template past its time limit would cost that limit on every row again.
                other_problems.append(f"{variants[vi].label}, row {row.row_id}: {exc}")
                break
            except PromptyardError as exc:
                other_problems.append(f"{variants[vi].label}, row {row.row_id}: {exc}")
                continue
            out.append(json.dumps(messages, ensure_ascii=False))
    if missing:
        raise MissingColumnsError(
            [
                MissingVariables(
                    variants[vi].prompt_name, variants[vi].version_label, lacking, tuple(ids)
                )
                for (vi, lacking), ids in missing.items()
            ]
        )
    if other_problems:
        raise PlanError(other_problems)

    cells = PlannedCells(
        [variant_prefix(v.endpoint, v.parameters) for v in variants],
        [template_ids[id(spec.template)] for spec in specs],
        rendered,
        [
            (r.row_id, json.dumps(r.inputs, ensure_ascii=False, default=str), r.reference)
            for r in row_inputs
        ],
        repeats,
    )
    return RunPlan(
        variants=variants,
        cells=cells,
        dataset_name=dataset_name,
        dataset_sha=dataset_sha,
        slice=slice_spec or {},
        repeats=repeats,
        name=name,
        kind=kind,
    )


def _load_prompt(ws: Workspace, name: str, ref: str | None) -> Any:
    from promptyard import prompts

    return prompts.get_prompt(name, ref=ref, workspace=ws)


def _load_rows(
    ws: Workspace, dataset: tuple[str, str | None], slice_spec: Any
) -> tuple[list[RowInput], str | None, dict[str, Any]]:
    from promptyard import datasets
    from promptyard.datasets.slicing import SliceSpec

    name, ref = dataset
    loaded = datasets.load_dataset(ws, name, ref)
    spec = SliceSpec.parse(slice_spec) if isinstance(slice_spec, str) else slice_spec
    rows = datasets.select_rows(loaded, spec)
    reference = loaded.reference
    out = [
        RowInput(
            str(row["id"]),
            {k: v for k, v in row.items() if k != "id"},
            None if not reference or row.get(reference) is None else str(row[reference]),
        )
        for row in rows
    ]
    sha = loaded.version.sha if loaded.version is not None else None
    described = {"slice": spec.describe()} if spec is not None else {"slice": "all"}
    if loaded.version is not None:
        described["version"] = loaded.version.ref
    return out, sha, described


def plan_run(
    ws: Workspace,
    prompts: Sequence[tuple[str, str | None]],
    models: Sequence[str],
    dataset: tuple[str, str | None],
    slice: Any = None,
    repeats: int = 1,
    parameters: dict[str, Any] | None = None,
    name: str = "",
    mapping: VariableMapping | None = None,
) -> RunPlan:
    """Plan every prompt version x model x row x repeat; nothing is sent.

    `prompts` holds (name, ref) pairs (ref: vN, sha, label or None for the latest);
    `models` holds names a user picks (models.yaml, simulator, litellm strings);
    `slice` is a datasets SliceSpec or its text form (`head:20`; None: every row). Raises
    MissingColumnsError naming every row that lacks a variable, and UnknownModelError;
    `mapping` (runs.mapping): variables from other columns, constants, prompts' samples.
    """
    from promptyard.models import resolve_model
    from promptyard.runs.mapping import apply_mapping

    if not prompts:
        raise PlanError(["pick at least one prompt"])
    if not models:
        raise PlanError(["pick at least one model"])
    endpoints = [resolve_model(ws, m) for m in models]
    templates = [_load_prompt(ws, n, r) for n, r in prompts]
    rows, sha, slice_json = _load_rows(ws, dataset, slice)
    rows = apply_mapping(rows, mapping, templates) if mapping is not None else rows
    specs = [
        VariantSpec(template=t, endpoint=e, parameters=dict(parameters or {}))
        for t in templates
        for e in endpoints
    ]
    plan = build_plan(
        specs,
        rows,
        repeats=repeats,
        dataset_name=dataset[0],
        dataset_sha=sha,
        slice_spec=slice_json,
        name=name,
    )
    plan.mapping = None if mapping is None or mapping.empty else mapping.to_dict()
    return plan


class MissingKeyError(PlanError):
    """A model of the run needs an API key whose variable is unset; nothing was sent."""


def require_keys(ws: Workspace, endpoints: Iterable[ModelEndpoint]) -> None:
    """Raise MissingKeyError naming each model whose key variable is unset."""
    from promptyard.models import missing_key, missing_key_message

    problems = []
    for endpoint in {e.name: e for e in endpoints}.values():
        variable = missing_key(endpoint, ws)
        if variable:
            problems.append(missing_key_message(endpoint, variable))
    if problems:
        raise MissingKeyError(problems)


def completion_bound(parameters: dict[str, Any], default: int) -> int:
    """The max_tokens (or max_completion_tokens) the parameters set, else `default`."""
    value = parameters.get("max_tokens") or parameters.get("max_completion_tokens")
    try:
        return int(value) if value else default
    except (TypeError, ValueError):
        return default
